from django.apps import AppConfig


class RecallsConfig(AppConfig):
    name = "recalls"
    verbose_name = "Recalls"

    def ready(self):
        from recalls import calendar_events, demo, home_panels

        home_panels.register_panels()
        calendar_events.register_calendar_events()
        demo.register_demo_parts()
        from coordination import timeline
        from recalls.models import RecallIncident

        timeline.register(
            RecallIncident,
            timeline.permission_finder(RecallIncident, "recalls.view_recallincident"),
        )
