from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = "Coordination"

    def ready(self):
        # tasks: registers the e-mail tasks by name, for the outbox to hand rows over.
        from coordination import calendar_events, demo, home_panels, tasks  # noqa: F401

        home_panels.register_panels()
        calendar_events.register_calendar_events()
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

        self._register_planning_inputs()
        # Permissions of models added by later migrations exist only after migrate
        # finishes, so role grants are synced then (Django creates permissions the
        # same way). Idempotent: running migrate again changes nothing.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="tandem-role-permissions")

    @staticmethod
    def _register_planning_inputs():
        from coordination import planning_inputs
        from coordination.models import CustomerRequest, Line, Product, RecomputeRequest

        Source = RecomputeRequest.Source
        # A product's line, lead time, service level, lifecycle or predecessor.
        planning_inputs.register(Product, source=Source.PRODUCT, products=lambda p: [p.pk])
        # A line's weekly hours and frozen window: every product made on it.
        planning_inputs.register(
            Line,
            source=Source.CAPACITY,
            products=lambda line: planning_inputs.line_products(line.pk),
        )
        # A customization the customer accepted is firm demand in its wanted week.
        planning_inputs.register(
            CustomerRequest, source=Source.CUSTOMIZATION, products=planning_inputs.product_of
        )
