from django.apps import AppConfig


class DemandConfig(AppConfig):
    name = "demand"
    verbose_name = "Demand"

    def ready(self):
        from coordination import timeline
        from demand.models import Promotion

        timeline.register(Promotion, timeline.permission_finder(Promotion, "demand.view_promotion"))
