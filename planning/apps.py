from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "Planning review"

    def ready(self):
        from planning import calendar_events, demo, home_panels

        home_panels.register_panels()
        calendar_events.register_calendar_events()
        demo.register_demo_parts()
        from coordination import timeline
        from planning.models import PlanningCycle

        timeline.register(
            PlanningCycle,
            timeline.permission_finder(PlanningCycle, "planning.view_planningcycle"),
            url_label="coordination.planningcycle",  # its comment URL from before the move
        )
