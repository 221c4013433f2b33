"""Reads about products and their specifications."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from coordination.models import Product, ProductPrice, Specification
from coordination.weeks import current_week

FIELD_LABELS = {
    "colours": "Colours",
    "package_sizes": "Package sizes",
    "features": "Features",
    "materials": "Materials",
}


def product_list(
    *, search: str = "", line_id=None, lifecycle: str = "", quality_tier: str = ""
) -> QuerySet[Product]:
    products = Product.objects.select_related(
        "product_line", "production_line", "predecessor"
    ).annotate(
        pending_proposals=Count(
            "specifications", filter=Q(specifications__status=Specification.Status.PROPOSED)
        )
    )
    if search:
        products = products.filter(Q(sku__icontains=search) | Q(name__icontains=search))
    if line_id:
        products = products.filter(product_line_id=line_id)
    if lifecycle:
        products = products.filter(lifecycle=lifecycle)
    if quality_tier:
        products = products.filter(quality_tier=quality_tier)
    return products.order_by("sku")


def product_by_sku(sku: str) -> Product:
    return Product.objects.select_related("product_line", "production_line", "predecessor").get(
        sku=sku
    )


def _in_force(week) -> Q:
    """The rule for the version in force in a week: approved, started, not yet ended;
    of several, the latest effective (then highest number) wins."""
    return Q(status=Specification.Status.APPROVED, effective_from__lte=week) & (
        Q(effective_until__isnull=True) | Q(effective_until__gte=week)
    )


IN_FORCE_ORDER = ("-effective_from", "-number")


def current_specification(product: Product, week=None) -> Specification | None:
    """The approved version in force in `week` (this week by default)."""
    return (
        product.specifications.filter(_in_force(week or current_week()))
        .select_related("author", "reviewed_by")
        .order_by(*IN_FORCE_ORDER)
        .first()
    )


def with_current_specification(products: QuerySet[Product], week=None) -> QuerySet[Product]:
    """Load each product's version in force in one query, as `in_force_specifications`
    (a list whose first item, if any, is the version in force)."""
    in_force = Specification.objects.filter(_in_force(week or current_week())).order_by(
        *IN_FORCE_ORDER
    )
    return products.prefetch_related(
        Prefetch("specifications", queryset=in_force, to_attr="in_force_specifications")
    )


def specification_history(product: Product) -> QuerySet[Specification]:
    return (
        product.specifications.select_related("author", "reviewed_by")
        .prefetch_related("cited_requests")
        .order_by("-number")
    )


def review_queue() -> QuerySet[Specification]:
    """Proposals waiting for Production, oldest first."""
    return (
        Specification.objects.filter(status=Specification.Status.PROPOSED)
        .select_related("product", "product__product_line", "author")
        .prefetch_related("cited_requests")
        .order_by("proposed_at", "id")
    )


def specification_detail(product: Product, number: int) -> Specification:
    return (
        product.specifications.select_related("author", "reviewed_by", "product")
        .prefetch_related("cited_requests")
        .get(number=number)
    )


def specification_diff(old: Specification | None, new: Specification) -> list[dict]:
    """Per field: what the new version adds and removes relative to the old one."""
    rows = []
    for name in Specification.SPEC_FIELDS:
        before = getattr(old, name) if old else []
        after = getattr(new, name)
        rows.append(
            {
                "field": name,
                "label": FIELD_LABELS[name],
                "added": [item for item in after if item not in before],
                "removed": [item for item in before if item not in after],
                "kept": [item for item in after if item in before],
            }
        )
    return rows


def prices_in_force(product_ids, week, channel: str = "") -> dict[int, tuple]:
    """Per product, the (unit price, unit cost) in force in `week` for `channel` (blank or
    "all": every channel): the channel's own latest row from that week or earlier, else the
    all-channels one. A product without a row by then is missing: it had no price yet."""
    product_ids = list(product_ids)
    channel = "" if channel in ("", "all") else channel
    rows = (
        ProductPrice.objects.filter(
            product_id__in=list(product_ids), effective_from__lte=week, channel__in={"", channel}
        )
        .order_by("product_id", "effective_from")
        .values_list("product_id", "channel", "unit_price", "unit_cost")
    )
    general: dict[int, tuple] = {}
    own: dict[int, tuple] = {}
    for product_id, row_channel, price, cost in rows:  # later rows overwrite earlier ones
        (own if row_channel else general)[product_id] = (price, cost)
    # A product with no history at all (loaded outside the product service) has only its
    # current price and cost.
    without_history = Product.objects.filter(pk__in=list(product_ids), prices__isnull=True)
    unhistoried = {
        pk: (price, cost)
        for pk, price, cost in without_history.values_list("pk", "unit_price", "unit_cost")
    }
    return {**unhistoried, **general, **own}


def price_history(product: Product) -> QuerySet[ProductPrice]:
    return product.prices.order_by("channel", "-effective_from")
