from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = "Coordination"

    def ready(self):
        from coordination import home_panels

        home_panels.register_panels()
        from coordination import roles, timeline
        from coordination.models import CustomerRequest, PlanningCycle, Product, Specification
        from coordination.selectors.customer_requests import visible_requests

        timeline.register(Product, timeline.permission_finder(Product, "coordination.view_product"))
        timeline.register(
            Specification,
            timeline.permission_finder(Specification, "coordination.view_specification"),
        )
        timeline.register(
            CustomerRequest, lambda user, pk: visible_requests(user).filter(pk=pk).first()
        )
        timeline.register(
            PlanningCycle,
            timeline.permission_finder(PlanningCycle, "coordination.view_planningcycle"),
        )

        # Permissions of models added by later migrations exist only after migrate
        # finishes, so role grants are synced then (Django creates permissions the
        # same way). Idempotent: running migrate again changes nothing.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="tandem-role-permissions")
