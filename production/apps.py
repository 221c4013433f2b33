from django.apps import AppConfig


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = "Production"

    def ready(self):
        from production import calendar_events, demo, home_panels

        home_panels.register_panels()
        calendar_events.register_calendar_events()
        demo.register_demo_parts()
        self._register_planning_inputs()
        from production import tasks  # noqa: F401 - registers the pipeline's tasks by name

    @staticmethod
    def _register_planning_inputs():
        from coordination import planning_inputs
        from coordination.models import RecomputeRequest
        from production.models import (
            CapacityException,
            InventoryPosition,
            ProductionHold,
            QuotaRecommendation,
            RecomputeRun,
            RunRate,
            ScheduleEntry,
        )

        Source = RecomputeRequest.Source
        planning_inputs.register(
            CapacityException,
            source=Source.CAPACITY,
            products=lambda exception: planning_inputs.line_products(exception.line_id),
        )
        planning_inputs.register(
            RunRate, source=Source.CAPACITY, products=planning_inputs.product_of
        )
        planning_inputs.register(
            InventoryPosition, source=Source.INVENTORY, products=planning_inputs.product_of
        )
        planning_inputs.register(
            ProductionHold, source=Source.RECALL, products=planning_inputs.product_of
        )
        from production.selectors.outcome import recompute_outcome

        planning_inputs.register_outcome(recompute_outcome)
        from coordination import promising
        from production.selectors.promise import promise_answer

        promising.register(promise_answer)
        from coordination.services import products
        from production.services.capacity import product_runs_fit

        products.register_check(product_runs_fit)
        for model in (QuotaRecommendation, RecomputeRun):
            planning_inputs.register_derived(model, "the planner's own output")
        planning_inputs.register_derived(
            ScheduleEntry,
            "the plan production accepted: the frozen window keeps it, and accepting it "
            "changes no demand or capacity",
        )
