from django.apps import AppConfig


class RecallsConfig(AppConfig):
    name = "recalls"
    verbose_name = "Recalls"

    def ready(self):
        from recalls import demo, home_panels

        home_panels.register_panels()
        demo.register_demo_parts()
        from coordination import timeline
        from recalls.models import RecallIncident

        timeline.register(
            RecallIncident,
            timeline.permission_finder(RecallIncident, "recalls.view_recallincident"),
        )
