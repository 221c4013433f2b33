"""Products, the product lines (families) they belong to, the production lines they are
made on, and each product's versioned specifications."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from coordination.weeks import iso_label, validate_monday

# A price or cost above this is a typo (a misplaced decimal point), not a product.
MONEY_CEILING = Decimal("1000000.00")
MONEY_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(MONEY_CEILING)]


class SalesChannel(models.TextChoices):
    """Where a product sells; a price may differ per channel (blank: every channel). The
    same channels as a promotion's (demand.Promotion.Channel, whose "all" is blank here)."""

    RETAIL = "retail", "Retail"
    ONLINE = "online", "Online"
    DISTRIBUTOR = "distributor", "Distributors"
    FOODSERVICE = "foodservice", "Food service"


SKU_VALIDATOR = RegexValidator(
    r"^[A-Z0-9]{2,8}-[A-Z0-9]{2,12}(-[A-Z0-9]{1,8})?$",
    message="A SKU is 2–3 dash-separated parts of capital letters and digits, e.g. BEV-1001.",
    code="invalid_sku",
)


class ProductLine(models.Model):
    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Line(models.Model):
    """A production line. Products are made on one line; its hours are shared by them.

    Master data beside the products that point at it; production plans its capacity."""

    name = models.CharField(max_length=80, unique=True)
    weekly_capacity_hours = models.DecimalField(
        max_digits=8, decimal_places=1, help_text="Hours available in a normal week."
    )
    frozen_window_weeks = models.PositiveSmallIntegerField(
        default=2,
        help_text="Weeks from now in which accepted quotas are kept by every recompute.",
    )
    holding_cost_rate_pct = models.DecimalField(
        "holding cost rate %",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Yearly cost of holding stock, as % of unit cost. Blank: the company's rate.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        db_table = "production_line"  # its table since it lived in production
        constraints = [
            models.CheckConstraint(
                condition=Q(weekly_capacity_hours__gte=0), name="line_capacity_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(frozen_window_weeks__lte=26), name="line_frozen_window_at_most_26"
            ),
            models.CheckConstraint(
                condition=Q(holding_cost_rate_pct__isnull=True)
                | (Q(holding_cost_rate_pct__gte=0) & Q(holding_cost_rate_pct__lte=100)),
                name="line_holding_rate_0_to_100",
            ),
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    class Lifecycle(models.TextChoices):
        CONCEPT = "concept", "Concept"
        ACTIVE = "active", "Active"
        PHASE_OUT = "phase_out", "Phasing out"
        DISCONTINUED = "discontinued", "Discontinued"

    class QualityTier(models.TextChoices):
        ECONOMY = "economy", "Economy"
        STANDARD = "standard", "Standard"
        PREMIUM = "premium", "Premium"

    sku = models.CharField("SKU", max_length=32, unique=True, validators=[SKU_VALIDATOR])
    name = models.CharField(max_length=120)
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="products")
    lifecycle = models.CharField(
        max_length=16, choices=Lifecycle.choices, default=Lifecycle.ACTIVE, db_index=True
    )
    quality_tier = models.CharField(
        max_length=16, choices=QualityTier.choices, default=QualityTier.STANDARD
    )
    # The current list price and unit cost; their history, and prices per channel, are
    # ProductPrice rows (the product service keeps both in step).
    unit_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=MONEY_VALIDATORS,
        help_text="List price per unit; 0: no price yet.",
    )
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, validators=MONEY_VALIDATORS)
    shortage_margin = models.DecimalField(
        "margin lost per unit short",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=MONEY_VALIDATORS,
        help_text="What a unit of demand the plan cannot supply costs. Blank: the margin "
        "(price - cost).",
    )
    production_line = models.ForeignKey(
        Line,
        on_delete=models.PROTECT,
        related_name="products",
        null=True,
        blank=True,
        help_text="The line this product is made on. Products without one are not planned.",
    )
    lead_time_weeks = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(26)],
        help_text="Weeks from production to availability.",
    )
    # The plant's constraints on a week's production (production/engine: batches and
    # minimum runs; shelf life caps the stock built ahead).
    minimum_batch = models.PositiveIntegerField(
        "minimum run",
        default=1,
        validators=[MinValueValidator(1)],
        help_text="A week's production is 0 or at least this many units.",
    )
    batch_size = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10_000_000)],
        help_text="Production comes in whole multiples of this many units.",
    )
    shelf_life_weeks = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(520)],
        help_text="Weeks a unit stays sellable after it is made. Blank: it keeps.",
    )
    min_remaining_life_weeks = models.PositiveSmallIntegerField(
        "minimum remaining life at shipment",
        default=0,
        validators=[MaxValueValidator(520)],
        help_text="Weeks of shelf life customers require left when a unit ships.",
    )
    target_service_level = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.950"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("0.999"))],
        help_text="Share of weeks demand should be met from stock (0.5–0.999).",
    )
    predecessor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="successors",
        null=True,
        blank=True,
        help_text="The product this one replaces; its sales history seeds the forecast.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="product_price_not_negative"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(
                condition=Q(unit_price__lte=MONEY_CEILING) & Q(unit_cost__lte=MONEY_CEILING),
                name="product_money_not_absurd",
            ),
            models.CheckConstraint(
                condition=Q(shortage_margin__isnull=True)
                | (Q(shortage_margin__gte=0) & Q(shortage_margin__lte=MONEY_CEILING)),
                name="product_shortage_margin_range",
            ),
            models.CheckConstraint(
                condition=Q(target_service_level__gte=Decimal("0.5"))
                & Q(target_service_level__lte=Decimal("0.999")),
                name="product_service_level_range",
            ),
            models.CheckConstraint(
                condition=Q(minimum_batch__gte=1), name="product_batch_positive"
            ),
            models.CheckConstraint(
                condition=Q(batch_size__gte=1), name="product_batch_size_positive"
            ),
            # A unit must be able to ship: made, available after the lead time, and still
            # with the required life left.
            models.CheckConstraint(
                condition=Q(shelf_life_weeks__isnull=True)
                | Q(shelf_life_weeks__gte=F("lead_time_weeks") + F("min_remaining_life_weeks")),
                name="product_shelf_life_covers_lead_time",
            ),
            models.CheckConstraint(
                condition=Q(lead_time_weeks__lte=26), name="product_lead_time_at_most_26"
            ),
            models.CheckConstraint(
                condition=~Q(predecessor=F("pk")), name="product_not_its_own_predecessor"
            ),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"

    def clean(self):
        super().clean()
        life, lead = self.shelf_life_weeks, self.lead_time_weeks
        remaining = self.min_remaining_life_weeks or 0
        if life and lead is not None and life < lead + remaining:  # 0: its own field error
            need = f"the lead time ({lead} week{'s' if lead != 1 else ''})"
            if remaining:
                need += f" plus the minimum remaining life at shipment ({remaining})"
            raise ValidationError(
                {
                    "shelf_life_weeks": f"A shelf life of {life} week{'s' if life != 1 else ''} "
                    f"is shorter than {need}: no unit could ship fresh enough."
                }
            )

    @property
    def usable_weeks(self) -> int | None:
        """Weeks a unit may wait in stock after it arrives and still ship with the required
        life left (None: no limit)."""
        if self.shelf_life_weeks is None:
            return None
        return self.shelf_life_weeks - self.lead_time_weeks - self.min_remaining_life_weeks

    @property
    def margin(self) -> Decimal:
        return self.unit_price - self.unit_cost


class ProductPrice(models.Model):
    """A product's list price and unit cost from a week on, for one sales channel or (blank)
    for all. The row in force for a week is the latest one effective by then; a channel's
    own row beats the all-channels one. Old plans keep the numbers of their weeks."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="prices")
    effective_from = models.DateField(
        validators=[validate_monday], help_text="Monday of the first week it applies."
    )
    channel = models.CharField(
        max_length=16,
        choices=SalesChannel.choices,
        blank=True,
        help_text="Blank: every channel without a price of its own.",
    )
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, validators=MONEY_VALIDATORS)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, validators=MONEY_VALIDATORS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product", "channel", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "effective_from", "channel"], name="product_price_once_a_week"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0)
                & Q(unit_cost__gte=0)
                & Q(unit_price__lte=MONEY_CEILING)
                & Q(unit_cost__lte=MONEY_CEILING),
                name="product_price_range",
            ),
        ]

    def __str__(self):
        channel = self.get_channel_display() if self.channel else "all channels"
        return f"{self.product_id} from {iso_label(self.effective_from)} ({channel})"


class Specification(models.Model):
    """One version of what a product is. Changes go draft -> proposed -> approved/rejected;
    an approved version takes effect from its week and supersedes the one before."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded before taking effect"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="specifications")
    number = models.PositiveIntegerField(help_text="Version number, 1 for the first.")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    colours = models.JSONField(default=list, blank=True)
    package_sizes = models.JSONField(default=list, blank=True)
    features = models.JSONField(default=list, blank=True)
    materials = models.JSONField(default=list, blank=True)
    effective_from = models.DateField(
        validators=[validate_monday], help_text="Monday of the first week it applies."
    )
    effective_until = models.DateField(
        null=True, blank=True, help_text="Monday of the last week, once a later one is approved."
    )
    rationale = models.TextField(help_text="Why this change: what customers or the market ask.")
    cited_requests = models.ManyToManyField(
        "CustomerRequest", related_name="cited_by_specifications", blank=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_specifications"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reviewed_specifications",
        null=True,
        blank=True,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    feasibility_note = models.TextField(blank=True)
    unit_cost_impact = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Change in unit cost if approved (negative when cheaper).",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    SPEC_FIELDS = ("colours", "package_sizes", "features", "materials")

    class Meta:
        ordering = ["product", "-number"]
        permissions = [
            ("propose_specification", "Can draft and propose specification changes"),
            ("review_specification", "Can approve or reject proposed specifications"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="spec_number_per_product"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "proposed"])
                | (Q(reviewed_at__isnull=False) & ~Q(feasibility_note="")),
                name="spec_review_recorded",
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=F("effective_from")),
                name="spec_effective_range_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.product.sku} spec v{self.number}"

    @property
    def effective_label(self) -> str:
        label = f"from {iso_label(self.effective_from)}"
        if self.effective_until:
            label += f" to {iso_label(self.effective_until)}"
        return label

    def as_dict(self) -> dict[str, list[str]]:
        return {name: list(getattr(self, name)) for name in self.SPEC_FIELDS}
