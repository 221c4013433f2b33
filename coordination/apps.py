from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = "Coordination"

    def ready(self):
        from coordination import demo, home_panels

        home_panels.register_panels()
        demo.register_demo_parts()
        from coordination import roles, timeline
        from coordination.models import CustomerRequest, Line, Product, Specification
        from coordination.selectors.customer_requests import visible_requests

        timeline.register(Product, timeline.permission_finder(Product, "coordination.view_product"))
        timeline.register(
            Specification,
            timeline.permission_finder(Specification, "coordination.view_specification"),
        )
        timeline.register(
            Line,
            timeline.permission_finder(Line, "coordination.view_line"),
            url_label="production.line",  # its comment URL from before it joined coordination
        )
        timeline.register(
            CustomerRequest, lambda user, pk: visible_requests(user).filter(pk=pk).first()
        )

        # Permissions of models added by later migrations exist only after migrate
        # finishes, so role grants are synced then (Django creates permissions the
        # same way). Idempotent: running migrate again changes nothing.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="tandem-role-permissions")
