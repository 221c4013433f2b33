from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "Planning review"

    def ready(self):
        from planning import demo, home_panels

        home_panels.register_panels()
        demo.register_demo_parts()
        from coordination import timeline
        from planning.models import PlanningCycle

        timeline.register(
            PlanningCycle,
            timeline.permission_finder(PlanningCycle, "planning.view_planningcycle"),
            url_label="coordination.planningcycle",  # its comment URL from before the move
        )
