"""factory_boy factories shared by the whole suite."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from coordination.weeks import add_weeks, current_week

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set([Group.objects.get(name=name) for name in extracted])
        if create:
            self.save()


class LineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coordination.Line"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Line {n}")
    weekly_capacity_hours = Decimal("100.0")


class ProductLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coordination.ProductLine"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Family {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coordination.Product"
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"TST-{n:04d}")
    name = factory.LazyAttribute(lambda p: f"Product {p.sku}")
    product_line = factory.SubFactory(ProductLineFactory)
    unit_price = Decimal("2.00")
    unit_cost = Decimal("1.20")
    production_line = factory.SubFactory(LineFactory)
    lead_time_weeks = 1


class SpecificationFactory(factory.django.DjangoModelFactory):
    """An approved specification in force since `effective_from`."""

    class Meta:
        model = "coordination.Specification"

    product = factory.SubFactory(ProductFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = "approved"
    colours = factory.LazyFunction(lambda: ["Red label"])
    package_sizes = factory.LazyFunction(lambda: ["500 ml"])
    features = factory.LazyFunction(lambda: ["Vegan"])
    materials = factory.LazyFunction(lambda: ["PET"])
    effective_from = factory.LazyFunction(lambda: add_weeks(current_week(), -10))
    rationale = "Launch."
    author = factory.SubFactory(UserFactory)
    reviewed_by = factory.SelfAttribute("author")
    reviewed_at = factory.LazyFunction(timezone.now)
    feasibility_note = "Initial specification."
    unit_cost_impact = Decimal("0.00")


class CustomerRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coordination.CustomerRequest"

    customer_name = "Greenway Grocers"
    customer_account = "GG-1"
    channel = "phone"
    kind = "need"
    product = factory.SubFactory(ProductFactory)
    summary = factory.Sequence(lambda n: f"Request {n}")
    department = "marketing"
    created_by = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=7))


class QuotedOrderFactory(CustomerRequestFactory):
    """A customization production found feasible (3 weeks) and sales quoted: the customer's
    next word makes it firm demand. 8,000 units for 10 weeks from now."""

    kind = "customization"
    quantity = 8000
    wanted_week = factory.LazyFunction(lambda: add_weeks(current_week(), 10))
    status = "quoted"
    feasible = True
    extra_unit_cost = Decimal("0.10")
    feasibility_lead_time_weeks = 3
    quoted_unit_price = Decimal("3.54")
    department = "sales"


# ---------------------------------------------------------------------------- demand


class PromotionFactory(factory.django.DjangoModelFactory):
    """A draft promotion two to four weeks ahead. Items come from PromotionItemFactory."""

    class Meta:
        model = "demand.Promotion"

    name = factory.Sequence(lambda n: f"Promotion {n}")
    channel = "all"
    discount_pct = Decimal("20.0")
    start_week = factory.LazyFunction(lambda: add_weeks(current_week(), 2))
    end_week = factory.LazyAttribute(lambda p: add_weeks(p.start_week, 2))
    status = "draft"
    created_by = factory.SubFactory(UserFactory)
    updated_by = factory.SelfAttribute("created_by")


class PromotionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.PromotionItem"

    promotion = factory.SubFactory(PromotionFactory)
    product = factory.SubFactory(ProductFactory)
    expected_lift_pct = Decimal("30.0")


class SalesActualFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.SalesActual"
        django_get_or_create = ("product", "channel", "week")

    product = factory.SubFactory(ProductFactory)
    channel = "all"
    week = factory.LazyFunction(lambda: add_weeks(current_week(), -1))
    units = 100


class ForecastRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.ForecastRun"

    trigger = "test"
    status = "done"
    horizon_weeks = 26
    first_week = factory.LazyFunction(current_week)
    finished_at = factory.LazyFunction(timezone.now)


class ChannelForecastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.ChannelForecast"

    product = factory.SubFactory(ProductFactory)
    channel = "retail"
    week = factory.LazyFunction(current_week)
    run = factory.SubFactory(ForecastRunFactory)
    baseline = 60.0
    promotion_uplift = 0.0
    promotion_dip = 0.0
    final = factory.LazyAttribute(
        lambda f: max(0.0, f.baseline + f.promotion_uplift + f.promotion_dip)
    )


class DemandForecastFactory(factory.django.DjangoModelFactory):
    """final defaults to baseline + uplift + dip + cannibalization + halo + firm orders +
    adjustment (at least 0)."""

    class Meta:
        model = "demand.DemandForecast"

    product = factory.SubFactory(ProductFactory)
    week = factory.LazyFunction(current_week)
    run = factory.SubFactory(ForecastRunFactory)
    baseline = 100.0
    promotion_uplift = 0.0
    promotion_dip = 0.0
    cannibalization = 0.0
    halo = 0.0
    firm_orders = 0.0
    adjustment = 0.0
    final = factory.LazyAttribute(
        lambda f: max(
            0.0,
            f.baseline
            + f.promotion_uplift
            + f.promotion_dip
            + f.cannibalization
            + f.halo
            + f.firm_orders
            + f.adjustment,
        )
    )
    method = "ses"


class RecomputeRunFactory(factory.django.DjangoModelFactory):
    """A finished re-plan of a line."""

    class Meta:
        model = "production.RecomputeRun"

    line = factory.SubFactory(LineFactory)
    trigger = "Test"
    state = "done"
    finished_at = factory.LazyFunction(timezone.now)
    first_week = factory.LazyFunction(current_week)


class QuotaRecommendationFactory(factory.django.DjangoModelFactory):
    """A recommendation whose terms add up: no stock, no capacity limit by default."""

    class Meta:
        model = "production.QuotaRecommendation"

    product = factory.SubFactory(ProductFactory)
    line = factory.LazyAttribute(lambda r: r.product.production_line)
    run = factory.SubFactory(RecomputeRunFactory, line=factory.SelfAttribute("..line"))
    week = factory.LazyFunction(lambda: add_weeks(current_week(), 1))
    covers_week = factory.LazyAttribute(lambda r: add_weeks(r.week, r.product.lead_time_weeks))
    baseline = 100.0
    promotion_uplift = 0.0
    promotion_dip = 0.0
    cannibalization = 0.0
    halo = 0.0
    firm_orders = 0.0
    adjustment = 0.0
    demand = factory.LazyAttribute(
        lambda r: (
            r.baseline
            + r.promotion_uplift
            + r.promotion_dip
            + r.cannibalization
            + r.halo
            + r.firm_orders
            + r.adjustment
        )
    )
    safety_stock = 0.0
    stock_before_arrival = 0.0
    net_requirement = factory.LazyAttribute(
        lambda r: max(0.0, r.demand + r.safety_stock - r.stock_before_arrival)
    )
    prebuild_units = 0.0
    capacity_cut_units = 0.0
    recommended_units = factory.LazyAttribute(
        lambda r: r.net_requirement + r.prebuild_units - r.capacity_cut_units
    )
    shortage_units = 0.0
    projected_on_hand = factory.LazyAttribute(lambda r: r.safety_stock)
    hold_reason = ""
    frozen = False


class ScheduleRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "production.ScheduleRevision"

    created_by = factory.SubFactory(UserFactory)
    summary = factory.Sequence(lambda n: f"Revision {n}")


class ScheduleEntryFactory(factory.django.DjangoModelFactory):
    """A current accepted quota (written directly, not through the service)."""

    class Meta:
        model = "production.ScheduleEntry"

    revision = factory.SubFactory(ScheduleRevisionFactory)
    product = factory.SubFactory(ProductFactory)
    line = factory.LazyAttribute(lambda e: e.product.production_line)
    week = factory.LazyFunction(lambda: add_weeks(current_week(), 1))
    units = 100
    kind = "accepted"
    recommended_units = 100.0
    accepted_by = factory.SelfAttribute("revision.created_by")


class CapacityExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "production.CapacityException"

    line = factory.SubFactory(LineFactory)
    week = factory.LazyFunction(lambda: add_weeks(current_week(), 4))
    hours = Decimal("0.0")
    note = "Summer shutdown"


class ForecastFitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.ForecastFit"

    run = factory.SubFactory(ForecastRunFactory)
    product = factory.SubFactory(ProductFactory)
    method = "ses"
    sigma = 12.5
    history_weeks = 52


class MarketingAdjustmentFactory(factory.django.DjangoModelFactory):
    """Marketing's correction of a future week (written directly, not through the service)."""

    class Meta:
        model = "demand.MarketingAdjustment"

    product = factory.SubFactory(ProductFactory)
    week = factory.LazyFunction(lambda: add_weeks(current_week(), 3))
    units = 50
    reason = "Trade fair"
    created_by = factory.SubFactory(UserFactory)


class SalesImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.SalesImport"

    filename = factory.Sequence(lambda n: f"sales-{n}.csv")
    status = "applied"
    row_count = 10
    created_count = 10
    uploaded_by = factory.SubFactory(UserFactory)
    applied_at = factory.LazyFunction(timezone.now)


class RunRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "production.RunRate"
        django_get_or_create = ("product",)

    product = factory.SubFactory(ProductFactory)
    hours_per_unit = Decimal("0.010000")


class InventoryPositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "production.InventoryPosition"
        django_get_or_create = ("product", "as_of")

    product = factory.SubFactory(ProductFactory)
    as_of = factory.LazyFunction(timezone.localdate)
    on_hand = 500


class ProductionHoldFactory(factory.django.DjangoModelFactory):
    """An active hold (written directly, not through the recall services)."""

    class Meta:
        model = "production.ProductionHold"

    product = factory.SubFactory(ProductFactory)
    reason = "Stop-ship"
    reference = factory.Sequence(lambda n: f"RC-{n:04d}")


class ActivityEventFactory(factory.django.DjangoModelFactory):
    """A comment on a product's timeline."""

    class Meta:
        model = "coordination.ActivityEvent"
        exclude = ("target_object",)

    target_object = factory.SubFactory(ProductFactory)
    content_type = factory.LazyAttribute(
        lambda e: ContentType.objects.get_for_model(e.target_object)
    )
    object_id = factory.SelfAttribute("target_object.pk")
    actor = factory.SubFactory(UserFactory)
    verb = "commented"
    message = factory.Sequence(lambda n: f"Comment {n}")


class NoticeFactory(factory.django.DjangoModelFactory):
    """An active banner on a product."""

    class Meta:
        model = "coordination.Notice"
        exclude = ("target_object",)

    target_object = factory.SubFactory(ProductFactory)
    content_type = factory.LazyAttribute(
        lambda n: ContentType.objects.get_for_model(n.target_object)
    )
    object_id = factory.SelfAttribute("target_object.pk")
    message = "Stop-ship: do not sell."
    reference = factory.Sequence(lambda n: f"RC-{n:04d}")


class RecomputeRequestFactory(factory.django.DjangoModelFactory):
    """A pending outbox row (written directly: nothing is enqueued)."""

    class Meta:
        model = "coordination.RecomputeRequest"

    source = "manual"
    reason = factory.Sequence(lambda n: f"Test recompute {n}")
    product_ids = factory.LazyFunction(list)


class LaunchPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.LaunchPlan"

    product = factory.SubFactory(ProductFactory, lifecycle="concept")
    launch_week = factory.LazyFunction(current_week)
    launch_volume = 100


class LikeProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.LikeProduct"

    product = factory.SubFactory(ProductFactory, lifecycle="concept")
    like = factory.SubFactory(ProductFactory)
    weight = Decimal("1.00")


class SuccessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "demand.Succession"

    product = factory.SubFactory(ProductFactory, lifecycle="phase_out")
    successor = factory.SubFactory(ProductFactory)
    switch_week = factory.LazyFunction(lambda: add_weeks(current_week(), 4))
