from django.apps import AppConfig


class DemandConfig(AppConfig):
    name = "demand"
    verbose_name = "Demand"

    def ready(self):
        from demand import demo, home_panels

        home_panels.register_panels()
        demo.register_demo_parts()
        from coordination import timeline
        from demand.models import Promotion

        timeline.register(Promotion, timeline.permission_finder(Promotion, "demand.view_promotion"))
