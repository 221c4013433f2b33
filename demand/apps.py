from django.apps import AppConfig


class DemandConfig(AppConfig):
    name = "demand"
    verbose_name = "Demand"

    def ready(self):
        from demand import calendar_events, demo, home_panels

        home_panels.register_panels()
        calendar_events.register_calendar_events()
        demo.register_demo_parts()
        self._register_planning_inputs()
        from coordination import timeline
        from demand.models import Promotion

        timeline.register(Promotion, timeline.permission_finder(Promotion, "demand.view_promotion"))

    @staticmethod
    def _register_planning_inputs():
        from coordination import planning_inputs
        from coordination.models import RecomputeRequest
        from coordination.services import recompute
        from demand.models import (
            ChannelForecast,
            DemandForecast,
            ForecastFit,
            ForecastRun,
            LaunchPlan,
            LikeProduct,
            MarketingAdjustment,
            Promotion,
            PromotionItem,
            SalesActual,
            SalesImport,
            SharePriorFit,
            Succession,
        )
        from demand.selectors.launches import products_forecast_with

        Source = RecomputeRequest.Source
        planning_inputs.register(
            Promotion,
            source=Source.PROMOTION,
            products=lambda promotion: promotion.items.values_list("product_id", flat=True),
        )
        planning_inputs.register(
            PromotionItem, source=Source.PROMOTION, products=planning_inputs.product_of
        )
        planning_inputs.register(
            MarketingAdjustment, source=Source.ADJUSTMENT, products=planning_inputs.product_of
        )
        planning_inputs.register(
            SalesActual, source=Source.SALES_IMPORT, products=planning_inputs.product_of
        )
        for model in (LaunchPlan, LikeProduct):
            planning_inputs.register(
                model, source=Source.PRODUCT, products=planning_inputs.product_of
            )
        planning_inputs.register(
            Succession,
            source=Source.PRODUCT,
            products=lambda succession: [succession.product_id, succession.successor_id],
        )
        # A new product is forecast from its likes, a successor with the product it
        # replaces: a change to one recomputes the others.
        if products_forecast_with not in recompute.RELATED:  # ready() may run twice
            recompute.RELATED.append(products_forecast_with)
        for model in (DemandForecast, ChannelForecast, ForecastFit, ForecastRun):
            planning_inputs.register_derived(model, "the forecaster's own output")
        # Read only as the sales history's change marker in the key of what a product
        # line's promotions taught (demand/selectors/lift.py); every import writes the
        # SalesActual rows registered above.
        planning_inputs.register_derived(SalesImport, "the sales history's change marker")
        # The company's sibling-share prior: fitted by the nightly re-plan from every
        # product line's measured promotions (production.refresh_share_prior), read by
        # the next recomputes; nothing outside the pipeline writes it.
        planning_inputs.register_derived(
            SharePriorFit, "fitted by the nightly re-plan from past promotions"
        )
