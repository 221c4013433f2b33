from django.apps import AppConfig


class DemandConfig(AppConfig):
    name = "demand"
    verbose_name = "Demand"

    def ready(self):
        from demand import home_panels

        home_panels.register_panels()
        from coordination import timeline
        from demand.models import Promotion

        timeline.register(Promotion, timeline.permission_finder(Promotion, "demand.view_promotion"))
