"""Demand: sales history, promotions, forecasts and marketing adjustments.

Weeks are stored as the date of their Monday. Every write lives in demand/services/.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from coordination.weeks import iso_label, validate_monday
from demand.engine.forecast import METHOD_LABELS


def method_label(method: str) -> str:
    """A forecasting method's name as the pages show it ("" stays "")."""
    return METHOD_LABELS.get(method, method.replace("_", " ").capitalize())


class Channel(models.TextChoices):
    """Where a product is sold. On sales history "all" means "not attributed to a
    channel"; on a promotion it means every channel."""

    ALL = "all", "All channels"
    RETAIL = "retail", "Retail"
    ONLINE = "online", "Online"
    DISTRIBUTOR = "distributor", "Distributors"
    FOODSERVICE = "foodservice", "Food service"


class SalesActual(models.Model):
    """Units sold of a product in a week, in a channel ("all": not attributed to one).

    A product's sales in a week are the SUM of its rows: readers that want the product's
    total aggregate over channels (demand.selectors.sales.weekly_units)."""

    # No index of its own: the unique (product, channel, week) index serves product
    # lookups, and one index less makes bulk imports markedly faster.
    product = models.ForeignKey(
        "coordination.Product",
        on_delete=models.PROTECT,
        related_name="sales_actuals",
        db_index=False,
    )
    channel = models.CharField(
        max_length=16, choices=Channel.choices, default=Channel.ALL, db_default=Channel.ALL
    )
    week = models.DateField(validators=[validate_monday])
    units = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "week", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "channel", "week"], name="sales_actual_once_per_channel_week"
            ),
            models.CheckConstraint(condition=Q(units__gte=0), name="sales_units_not_negative"),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="sales_channel_known"
            ),
        ]
        indexes = [models.Index(fields=["week"])]

    def __str__(self):
        where = "" if self.channel == Channel.ALL else f" {self.channel}"
        return f"{self.product_id} {iso_label(self.week)}{where}: {self.units}"


class SalesImport(models.Model):
    """One upload of a sales history file: previewed first, then applied all-or-nothing."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        REJECTED = "rejected", "Rejected"
        APPLIED = "applied", "Applied"

    filename = models.CharField(max_length=200)
    source = models.CharField(max_length=16, default="browser")  # browser, api, command
    status = models.CharField(max_length=12, choices=Status.choices)
    content = models.TextField(blank=True, help_text="The file, kept until it is applied.")
    row_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    products_count = models.PositiveIntegerField(default=0)
    first_week = models.DateField(null=True, blank=True)
    last_week = models.DateField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"


class Promotion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PLANNED = "planned", "Planned"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"

    Channel = Channel  # kept here: promotions named it before sales had channels

    # Statuses whose promotions production plans for.
    PLANNING_STATUSES = (Status.PLANNED, Status.CONFIRMED)

    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.ALL)
    discount_pct = models.DecimalField(
        "discount %",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("90"))],
    )
    start_week = models.DateField(validators=[validate_monday])
    end_week = models.DateField(validators=[validate_monday])
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    notes = models.TextField(blank=True)
    at_risk_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Set while a recall or shortage puts the promotion at risk.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_week", "name"]
        permissions = [("confirm_promotion", "Can plan, confirm and cancel promotions")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_week__gte=F("start_week")), name="promotion_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(discount_pct__gte=0) & Q(discount_pct__lte=90),
                name="promotion_discount_range",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def weeks(self) -> int:
        return (self.end_week - self.start_week).days // 7 + 1

    @property
    def is_at_risk(self) -> bool:
        return bool(self.at_risk_reason)

    @property
    def period_label(self) -> str:
        if self.start_week == self.end_week:
            return iso_label(self.start_week)
        return f"{iso_label(self.start_week)} – {iso_label(self.end_week)}"


class PromotionItem(models.Model):
    """A product in a promotion, with the lift marketing expects."""

    MIN_LIFT = Decimal("-50")
    MAX_LIFT = Decimal("500")

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "coordination.Product", on_delete=models.PROTECT, related_name="promotion_items"
    )
    expected_lift_pct = models.DecimalField(
        "expected lift %",
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(MIN_LIFT), MaxValueValidator(MAX_LIFT)],
    )
    suggested_lift_pct = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True, editable=False
    )
    suggestion_evidence = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["promotion", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["promotion", "product"], name="promotion_item_once"),
            models.CheckConstraint(
                condition=Q(expected_lift_pct__gte=-50) & Q(expected_lift_pct__lte=500),
                name="promotion_lift_range",
            ),
        ]

    def __str__(self):
        return f"{self.product_id} +{self.expected_lift_pct}%"


class ForecastRun(models.Model):
    """One run of the forecasting engine over a set of products."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    trigger = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    horizon_weeks = models.PositiveSmallIntegerField()
    first_week = models.DateField()
    products_count = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    methods = models.JSONField(default=dict, blank=True, help_text="method -> series count")
    parameters = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Forecast run {self.pk} ({self.status})"


class ForecastFit(models.Model):
    """What the engine chose for one product in one run, and its one-step error."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="fits")
    product = models.ForeignKey(
        "coordination.Product", on_delete=models.CASCADE, related_name="forecast_fits"
    )
    method = models.CharField(max_length=40)
    sigma = models.FloatField(help_text="Std. deviation of one-step-ahead errors, units/week.")
    history_weeks = models.PositiveIntegerField()
    used_predecessor = models.BooleanField(default=False)
    likes_weight = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="Share of the baseline taken from the like products (1 - the own "
        "model's weight); 0 without a launch plan.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "product"], name="forecast_fit_once_per_run"),
        ]
        indexes = [models.Index(fields=["product", "-run"])]

    def __str__(self):
        return f"{self.product_id}: {self.method} (sigma {self.sigma:.1f})"

    @property
    def method_label(self) -> str:
        return method_label(self.method)


class DemandForecast(models.Model):
    """The forecast of one product in one week, with every term that makes it.

    final = max(0, baseline + promotion_uplift + promotion_dip + cannibalization + halo
    + firm_orders + adjustment); cannibalization (<= 0) is what planned/confirmed
    promotions of siblings (cannibalized_by) take; halo (>= 0) is what promotions of
    siblings that lift this product (halo_from) add.
    promotion_dip (<= 0) is the learned dip in the weeks after a planned or confirmed
    promotion; baseline + promotion_dip is never below 0 (a dip is at most -100 % of the
    baseline). For a new product the baseline blends its own model with its like
    products' demand (from_likes is that part); a succession moves the baseline of a
    replaced product to its successor from the switch week (successor_transfer, with
    the other SKUs in transferred_with). Both are parts of the baseline, not added to
    it. Rows for past weeks are kept as they were last forecast, so accuracy can
    be measured."""

    # No index of its own: forecast_once_per_week's (product, week) index serves every
    # lookup by product, and each recompute writes thousands of rows into both.
    product = models.ForeignKey(
        "coordination.Product",
        on_delete=models.CASCADE,
        related_name="forecasts",
        db_index=False,
    )
    week = models.DateField(validators=[validate_monday])
    run = models.ForeignKey(ForecastRun, on_delete=models.PROTECT, related_name="forecasts")
    baseline = models.FloatField()
    promotion_uplift = models.FloatField(default=0)
    promotion_dip = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="The learned dip after a planned or confirmed promotion (<= 0).",
    )
    cannibalization = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="Units a planned/confirmed promotion of a sibling takes (<= 0).",
    )
    cannibalized_by = models.CharField(
        max_length=200, blank=True, default="", db_default="", help_text="Promoted SKUs."
    )
    halo = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="Units a planned/confirmed promotion of a sibling adds to this product "
        "(halo, >= 0).",
    )
    halo_from = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="Promoted SKUs whose promotion lifts this product.",
    )
    from_likes = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="Part of the baseline taken from the like products of a new product "
        "(>= 0; already in the baseline).",
    )
    successor_transfer = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="Baseline moved by a succession from the switch week: + on the "
        "successor, - on the product it replaces (already in the baseline).",
    )
    transferred_with = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="The SKUs the succession moves demand from (or to).",
    )
    firm_orders = models.FloatField(default=0)
    adjustment = models.FloatField(default=0)
    final = models.FloatField()
    method = models.CharField(max_length=40)

    class Meta:
        ordering = ["product", "week"]
        constraints = [
            models.UniqueConstraint(fields=["product", "week"], name="forecast_once_per_week"),
            models.CheckConstraint(condition=Q(final__gte=0), name="forecast_final_not_negative"),
            models.CheckConstraint(
                condition=Q(baseline__gte=0), name="forecast_baseline_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(promotion_dip__lte=0), name="forecast_dip_not_positive"
            ),
            models.CheckConstraint(
                condition=Q(cannibalization__lte=0), name="forecast_cannibalization_not_positive"
            ),
            models.CheckConstraint(condition=Q(halo__gte=0), name="forecast_halo_not_negative"),
            models.CheckConstraint(
                condition=Q(from_likes__gte=0), name="forecast_from_likes_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["week"])]

    def __str__(self):
        return f"{self.product_id} {iso_label(self.week)}: {self.final:.0f}"

    @property
    def statistical(self) -> float:
        """The forecast before marketing's adjustment."""
        return max(
            0.0,
            self.baseline
            + self.promotion_uplift
            + self.promotion_dip
            + self.cannibalization
            + self.halo
            + self.firm_orders,
        )


class ChannelForecast(models.Model):
    """One channel's part of a product's forecast in a week, for a product whose sales
    history names channels (demand.services.forecasting). The product's DemandForecast
    baseline is the sum of its channels' baselines; a promotion of one channel lifts only
    that channel (promotion_uplift), and only that channel dips after it (promotion_dip,
    their sum the product's dip). final = max(0, baseline + promotion_uplift +
    promotion_dip). Past
    weeks are kept as last forecast, so accuracy can be measured per channel. `method`:
    the method the engine chose for the channel's own series."""

    product = models.ForeignKey(
        "coordination.Product", on_delete=models.CASCADE, related_name="channel_forecasts"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    week = models.DateField(validators=[validate_monday])
    run = models.ForeignKey(ForecastRun, on_delete=models.PROTECT, related_name="channel_forecasts")
    baseline = models.FloatField()
    promotion_uplift = models.FloatField(default=0)
    promotion_dip = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="The learned dip of this channel after a planned or confirmed promotion "
        "that lifts it (<= 0).",
    )
    final = models.FloatField()
    method = models.CharField(
        max_length=40,
        blank=True,
        default="",
        db_default="",
        help_text="The engine's method for this channel's series (blank: forecast before "
        "channels had one).",
    )

    class Meta:
        ordering = ["product", "week", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "channel", "week"], name="channel_forecast_once_per_week"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="channel_forecast_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(baseline__gte=0), name="channel_forecast_baseline_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(final__gte=0), name="channel_forecast_final_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(promotion_dip__lte=0), name="channel_forecast_dip_not_positive"
            ),
        ]
        indexes = [models.Index(fields=["week"])]

    def __str__(self):
        return f"{self.product_id} {self.channel} {iso_label(self.week)}: {self.final:.0f}"

    @property
    def method_label(self) -> str:
        return method_label(self.method)


class MarketingAdjustment(models.Model):
    """Marketing's correction of a week's forecast, always with a reason."""

    product = models.ForeignKey(
        "coordination.Product", on_delete=models.PROTECT, related_name="marketing_adjustments"
    )
    week = models.DateField(validators=[validate_monday])
    units = models.IntegerField(help_text="Added to the forecast (negative to lower it).")
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "week"]
        constraints = [
            models.UniqueConstraint(fields=["product", "week"], name="adjustment_once_per_week"),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_has_reason"),
        ]

    def __str__(self):
        return f"{self.product_id} {iso_label(self.week)}: {self.units:+d}"


class LaunchPlan(models.Model):
    """How a new product (concept or just launched) is forecast until its own history
    speaks: the demand of its "like" products (LikeProduct), scaled to a planner-set
    launch volume, times a ramp-up from the launch week (demand/engine/launch.py)."""

    class RampShape(models.TextChoices):
        LINEAR = "linear", "Linear"
        S_CURVE = "s_curve", "S-curve (slow start, fast middle, slow finish)"

    product = models.OneToOneField(
        "coordination.Product", on_delete=models.CASCADE, related_name="launch_plan"
    )
    launch_week = models.DateField(
        validators=[validate_monday], help_text="Monday of the first week on sale."
    )
    launch_volume = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100_000_000)],
        help_text="Weekly units at maturity, on an average week of the year. Blank: the "
        "likes' own level times their weights.",
    )
    ramp_weeks = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(104)],
        help_text="Weeks from the launch to full volume (1: full volume from the start).",
    )
    ramp_shape = models.CharField(max_length=8, choices=RampShape.choices, default="linear")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ramp_weeks__gte=1) & Q(ramp_weeks__lte=104),
                name="launch_ramp_weeks_range",
            ),
            models.CheckConstraint(
                condition=Q(launch_volume__isnull=True)
                | (Q(launch_volume__gte=1) & Q(launch_volume__lte=100_000_000)),
                name="launch_volume_range",
            ),
        ]

    def __str__(self):
        return f"{self.product_id} launches {iso_label(self.launch_week)}"


class LikeProduct(models.Model):
    """An existing product whose demand a new one is expected to resemble, with the
    weight its forecast counts with (0.5: half of its units)."""

    product = models.ForeignKey(
        "coordination.Product", on_delete=models.CASCADE, related_name="like_products"
    )
    like = models.ForeignKey(
        "coordination.Product", on_delete=models.PROTECT, related_name="liked_by"
    )
    weight = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["product", "like"]
        constraints = [
            models.UniqueConstraint(fields=["product", "like"], name="like_product_once"),
            models.CheckConstraint(condition=~Q(product=F("like")), name="like_product_not_itself"),
            models.CheckConstraint(
                condition=Q(weight__gt=0) & Q(weight__lte=100), name="like_product_weight_range"
            ),
        ]

    def __str__(self):
        return f"{self.product_id} like {self.like_id} x{self.weight}"


class Succession(models.Model):
    """A phased-out product's demand moves to its successor from the switch week: the
    old product's forecast goes to 0 and the successor's grows by the old baseline."""

    product = models.OneToOneField(
        "coordination.Product", on_delete=models.CASCADE, related_name="succession"
    )
    successor = models.ForeignKey(
        "coordination.Product", on_delete=models.PROTECT, related_name="successions_taken"
    )
    switch_week = models.DateField(
        validators=[validate_monday], help_text="Monday of the first week the successor sells."
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(product=F("successor")), name="succession_not_itself"
            ),
        ]

    def __str__(self):
        return f"{self.product_id} -> {self.successor_id} from {iso_label(self.switch_week)}"


class SharePriorFit(models.Model):
    """The company's prior on signed sibling shares (demand.engine.pooling.SharePrior),
    fitted by the nightly re-plan to every product line's measured pairs and read by the
    forecast and the lift suggestions (demand.selectors.lift.company_share_prior): the
    newest row is the prior. Without one, or where the fit had too few lines or pairs
    (its parameters null), each line's pairs keep the per-line rule.

    A short history (SHARE_PRIOR_FITS_KEPT rows) is kept so the admin shows how the prior
    moved from night to night, which explains why a pair's learned share changed."""

    fitted_at = models.DateTimeField(auto_now_add=True)
    lines = models.PositiveIntegerField(help_text="Product lines with a pair it was fitted to.")
    pairs = models.PositiveIntegerField(help_text="Pairs with enough promotions it was fitted to.")
    seconds = models.FloatField(help_text="Time to read the measures and fit, seconds.")
    # p0, and (weight, mean, width) of the slab of losses and of gains; all null: no prior.
    zero = models.FloatField(null=True, blank=True)
    loss_weight = models.FloatField(null=True, blank=True)
    loss_mean = models.FloatField(null=True, blank=True)
    loss_width = models.FloatField(null=True, blank=True)
    gain_weight = models.FloatField(null=True, blank=True)
    gain_mean = models.FloatField(null=True, blank=True)
    gain_width = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        if self.zero is None:
            return f"Share prior {self.pk}: none ({self.lines} lines, {self.pairs} pairs)"
        return f"Share prior {self.pk}: {self.lines} lines, {self.pairs} pairs"
