"""Demo data for the coordination app. Re-runnable without duplicates.

The demo company, Brookfield Beverages, makes iced teas, sparkling waters, juices and
sports drinks on three production lines. Its customers are grocers, gyms and
distributors who call, write and visit with needs, complaints and custom orders.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from coordination import demo_registry, roles
from coordination.models import (
    ActivityEvent,
    CustomerRequest,
    Line,
    Product,
    ProductLine,
    ProductPrice,
    SalesChannel,
    Specification,
)
from coordination.selectors.products import current_specification
from coordination.services import customer_requests as request_services
from coordination.services import specifications as spec_services
from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week

DEMO_PASSWORD = "tandem-demo"  # noqa: S105 - printed to the console on purpose
DEMO_ACCOUNT_PREFIX = "BB-"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str


DEMO_USERS = (
    DemoUser("marketing", "Maya", "Lindqvist", roles.MARKETING),
    DemoUser("sales", "Samir", "Okafor", roles.SALES),
    DemoUser("production", "Petra", "Novak", roles.PRODUCTION),
    DemoUser("quality", "Quentin", "Harris", roles.QUALITY),
    DemoUser("admin", "Ada", "Moreau", roles.ADMIN),
)


@transaction.atomic
def seed_users() -> list[tuple[DemoUser, bool]]:
    """Create or refresh the demo users; returns (user, created) pairs."""
    User = get_user_model()
    results = []
    for demo in DEMO_USERS:
        user, created = User.objects.update_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": f"{demo.username}@tandem.example",
                "is_active": True,
                "is_staff": demo.role == roles.ADMIN,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        user.groups.set([Group.objects.get(name=demo.role)])
        results.append((demo, created))
    return results


def demo_user(role: str):
    username = next(u.username for u in DEMO_USERS if u.role == role)
    return get_user_model().objects.get(username=username)


# ----------------------------------------------------------------- products

PRODUCTION_LINES = (
    ("Bottling 1", Decimal("120.0")),
    ("Canning 2", Decimal("100.0")),
    ("Carton 3", Decimal("80.0")),
)
# Chilled juice stock costs more to hold than the company's rate (HOLDING_COST_RATE_PERCENT).
HOLDING_RATES = {"Carton 3": Decimal("30")}

# family, production line, sku prefix, base price, flavours, sizes, tier
FAMILIES = (
    (
        "Iced Tea",
        "Bottling 1",
        "TEA",
        Decimal("1.60"),
        ["Lemon", "Peach", "Green Mint", "Hibiscus", "Mango", "Raspberry"],
        ["05", "15"],
        Product.QualityTier.STANDARD,
    ),
    (
        "Sparkling Water",
        "Canning 2",
        "SPW",
        Decimal("0.90"),
        ["Natural", "Lime", "Grapefruit", "Cucumber", "Berry", "Blood Orange"],
        ["33", "50"],
        Product.QualityTier.ECONOMY,
    ),
    (
        "Fruit Juice",
        "Carton 3",
        "JCE",
        Decimal("2.40"),
        ["Orange", "Apple", "Multivitamin", "Pineapple", "Cranberry", "Mango"],
        ["10", "20"],
        Product.QualityTier.PREMIUM,
    ),
    (
        "Sports Drinks",
        "Canning 2",
        "SPT",
        Decimal("1.90"),
        ["Citrus", "Blue Ice", "Tropical"],
        ["50"],
        Product.QualityTier.STANDARD,
    ),
)
# Shelf life and the life customers require left at shipment, in weeks: juices keep a
# few months, teas and sports drinks half a year, waters a year.
SHELF_LIFE = {
    "Iced Tea": (26, 8),
    "Sparkling Water": (52, 12),
    "Fruit Juice": (12, 4),
    "Sports Drinks": (26, 8),
}
# Except the hibiscus cooler: chilled and without preservatives, it keeps six weeks and
# retailers want three of them left. Made a week before it is available, a bottle may
# wait two weeks in stock: the demo's promotion that shelf life caps (demand/demo.py).
SHELF_LIFE_OF_FLAVOUR = {"Hibiscus": (6, 3)}
SIZE_LABELS = {
    "05": "500 ml bottle",
    "15": "1.5 l bottle",
    "33": "330 ml can",
    "50": "500 ml",
    "10": "1 l carton",
    "20": "2 l carton",
}
MATERIALS = {
    "Bottling 1": ["PET bottle, 50% recycled", "Paper label"],
    "Canning 2": ["Aluminium can", "Cardboard tray"],
    "Carton 3": ["Paperboard carton (FSC)", "Plant-based cap"],
}


def _sku(prefix: str, flavour: str, size: str) -> str:
    code = "".join(word[:3] for word in flavour.upper().split())[:8]
    return f"{prefix}-{code}-{size}"


@transaction.atomic
def seed_products() -> dict[str, int]:
    production = demo_user(roles.PRODUCTION)
    lines = {}
    for name, hours in PRODUCTION_LINES:
        lines[name], _ = Line.objects.get_or_create(
            name=name,
            defaults={
                "weekly_capacity_hours": hours,
                "holding_cost_rate_pct": HOLDING_RATES.get(name),
            },
        )
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    created = 0
    this_week = current_week()
    for family, line_name, prefix, price, flavours, sizes, tier in FAMILIES:
        product_line, _ = ProductLine.objects.get_or_create(
            name=family, defaults={"description": f"Brookfield {family.lower()} range."}
        )
        for flavour in flavours:
            for size in sizes:
                sku = _sku(prefix, flavour, size)
                life = SHELF_LIFE_OF_FLAVOUR.get(flavour, SHELF_LIFE[family])
                big = size in ("15", "20", "50")
                unit_price = (price * (Decimal("1.8") if big else 1)).quantize(Decimal("0.01"))
                product, was_created = Product.objects.get_or_create(
                    sku=sku,
                    defaults={
                        "name": f"{family} {flavour} {SIZE_LABELS[size]}",
                        "product_line": product_line,
                        "quality_tier": tier,
                        "unit_price": unit_price,
                        "unit_cost": (unit_price * Decimal("0.55")).quantize(Decimal("0.01")),
                        "production_line": lines[line_name],
                        "lead_time_weeks": 1 if line_name != "Carton 3" else 2,
                        "minimum_batch": 500 if big else 1000,
                        # Whole pallets: 250 large or 500 small units.
                        "batch_size": 250 if big else 500,
                        "shelf_life_weeks": life[0],
                        "min_remaining_life_weeks": life[1],
                        "target_service_level": Decimal("0.950")
                        if tier != Product.QualityTier.PREMIUM
                        else Decimal("0.980"),
                    },
                )
                created += was_created
                if not product.specifications.exists():
                    spec_services.specification_record_initial(
                        actor=production,
                        product_id=product.pk,
                        effective_from=add_weeks(this_week, -rng.randint(30, 120)),
                        rationale="Launch specification.",
                        colours=[f"{flavour} label", "White cap"],
                        package_sizes=[SIZE_LABELS[size]] + (["6-pack"] if not big else ["4-pack"]),
                        features=rng.sample(
                            ["Less sugar", "No artificial colours", "Vegan", "Source of vitamin C"],
                            2,
                        ),
                        materials=MATERIALS[line_name],
                    )
    # A product-line shift: the new peach tea replaces the old recipe, whose history it
    # inherits for forecasting; the old one is being phased out.
    old = Product.objects.get(sku="TEA-PEA-05")
    _, was_created = Product.objects.get_or_create(
        sku="TEA-PEAV2-05",  # the SKU rule: 2-3 parts
        defaults={
            "name": "Iced Tea Peach 500 ml bottle (less sugar recipe)",
            "product_line": old.product_line,
            "quality_tier": old.quality_tier,
            "unit_price": old.unit_price,
            "unit_cost": old.unit_cost,
            "production_line": old.production_line,
            "lead_time_weeks": old.lead_time_weeks,
            "minimum_batch": old.minimum_batch,
            "batch_size": old.batch_size,
            "shelf_life_weeks": old.shelf_life_weeks,
            "min_remaining_life_weeks": old.min_remaining_life_weeks,
            "predecessor": old,
            "lifecycle": Product.Lifecycle.CONCEPT,
        },
    )
    created += was_created
    if was_created:
        Product.objects.filter(pk=old.pk).update(lifecycle=Product.Lifecycle.PHASE_OUT)
    Product.objects.filter(sku="SPW-CUC-50").update(lifecycle=Product.Lifecycle.DISCONTINUED)
    seed_price_history()
    return {"products": Product.objects.count(), "created": created}


def seed_price_history() -> None:
    """Last year's list prices were 4 % lower (the rise came 12 weeks ago); online, the
    sparkling waters sell 5 % above the shelf price (single cans, delivered)."""
    this_week = current_week()
    cent = Decimal("0.01")
    for product in Product.objects.all():
        rows = [
            (add_weeks(this_week, -52), "", Decimal("0.96")),
            (add_weeks(this_week, -12), "", Decimal("1")),
        ]
        if product.sku.startswith("SPW-"):
            rows.append((add_weeks(this_week, -12), SalesChannel.ONLINE, Decimal("1.05")))
        for week, channel, factor in rows:
            ProductPrice.objects.get_or_create(
                product=product,
                effective_from=week,
                channel=channel,
                defaults={
                    "unit_price": (product.unit_price * factor).quantize(cent),
                    # Online costs the same to make: only the price differs.
                    "unit_cost": (product.unit_cost * (1 if channel else factor)).quantize(cent),
                },
            )


# ----------------------------------------------------------------- requests

CUSTOMERS = [
    ("Greenway Grocers", "BB-1001"),
    ("Harbour Fitness Club", "BB-1002"),
    ("Cornerstone Markets", "BB-1003"),
    ("Lakeside Hotel Group", "BB-1004"),
    ("Northern Distribution Co.", "BB-1005"),
    ("Campus Cafés", "BB-1006"),
    ("Sunrise Convenience", "BB-1007"),
    ("Peak Performance Gyms", "BB-1008"),
    ("Riverbend Schools", "BB-1009"),
    ("Metro Vending", "BB-1010"),
    ("Coastal Resorts", "BB-1011"),
    ("FreshCo Online", "BB-1012"),
]
SUMMARIES = {
    "need": [
        "Wants a sugar-free option in the {flavour} range",
        "Asks for a larger pack size for {flavour}",
        "Looking for a {flavour} variant in glass for restaurants",
    ],
    "concern": [
        "Worried about price increase on {flavour} next quarter",
        "Asks whether the {flavour} recipe will change",
    ],
    "complaint": [
        "Late delivery of {flavour}, shelves empty for two days",
        "Damaged trays in the last {flavour} delivery",
        "Labels on {flavour} peeling in the fridge",
    ],
    "customization": [
        "Private-label {flavour} for an event",
        "Co-branded {flavour} cans for a sports tournament",
        "{flavour} with a custom sleeve for the hotel chain",
    ],
    "quality_issue": [
        "{flavour} tastes flat in batch from last week",
        "Caps on {flavour} leaking",
        "Customer reports cloudiness in {flavour}",
    ],
    "price_feedback": [
        "{flavour} priced above the competitor's at the shelf",
        "Would buy more {flavour} with a volume discount",
    ],
}
KIND_WEIGHTS = {
    "need": 24,
    "concern": 14,
    "complaint": 20,
    "customization": 22,
    "quality_issue": 10,
    "price_feedback": 16,
}


def seed_requests(count: int = 150) -> dict[str, int]:
    """About `count` requests over the last 10 months, in every kind and status."""
    if CustomerRequest.objects.filter(customer_account__startswith=DEMO_ACCOUNT_PREFIX).exists():
        return {"requests": CustomerRequest.objects.count(), "created": 0}
    rng = random.Random(11)  # noqa: S311 - demo data, not security
    sales = demo_user(roles.SALES)
    production = demo_user(roles.PRODUCTION)
    marketing = demo_user(roles.MARKETING)
    quality = demo_user(roles.QUALITY)
    products = list(
        Product.objects.filter(lifecycle=Product.Lifecycle.ACTIVE).select_related("product_line")
    )
    kinds = list(KIND_WEIGHTS)
    weights = list(KIND_WEIGHTS.values())
    now = timezone.now()
    created = 0
    for _ in range(count):
        kind = rng.choices(kinds, weights)[0]
        product = rng.choice(products)
        flavour = _flavour(product)
        customer, account = rng.choice(CUSTOMERS)
        days_ago = int(rng.triangular(0, 300, 20))
        # Premium juice buyers lean to quality, vending and convenience to price.
        preference = rng.choices(
            ["price_first", "balanced", "quality_first"],
            [1, 2, 3] if product.quality_tier == "premium" else [3, 3, 1],
        )[0]
        with transaction.atomic():
            request = request_services.request_log(
                actor=sales,
                customer_name=customer,
                customer_account=account,
                channel=rng.choice(CustomerRequest.Channel.values),
                kind=kind,
                product=product,
                summary=rng.choice(SUMMARIES[kind]).format(flavour=flavour),
                details="",
                quantity=rng.choice([2000, 5000, 8000, 12000]) if kind == "customization" else None,
                wanted_week=add_weeks(current_week(), rng.randint(6, 16))
                if kind == "customization"
                else None,
                preference=preference,
                priority=rng.choices(["low", "normal", "high", "urgent"], [2, 6, 3, 1])[0],
            )
            _advance(
                request,
                rng,
                days_ago,
                sales=sales,
                production=production,
                marketing=marketing,
                quality=quality,
            )
            _backdate(request, now - dt.timedelta(days=days_ago, hours=rng.randint(0, 9)), rng)
        created += 1
    return {"requests": CustomerRequest.objects.count(), "created": created}


def _flavour(product: Product) -> str:
    """'Iced Tea Lemon 500 ml bottle' -> 'Lemon'."""
    size_label = SIZE_LABELS.get(product.sku.split("-")[2], "")
    name = product.name.removeprefix(product.product_line.name).removesuffix(size_label)
    return name.strip() or product.name


def _backdate(request, logged_at, rng) -> None:
    """Move a demo request and its timeline back to when it was logged."""
    request.refresh_from_db()
    CustomerRequest.objects.filter(pk=request.pk).update(
        created_at=logged_at,
        due_date=CustomerRequest.due_date_for(request.priority, logged_at.date()),
    )
    events = ActivityEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(CustomerRequest), object_id=request.pk
    ).order_by("id")
    when = logged_at
    now = timezone.now()
    for event in events:
        ActivityEvent.objects.filter(pk=event.pk).update(created_at=min(when, now))
        when += dt.timedelta(hours=rng.randint(2, 72))


def _advance(request, rng, days_ago, *, sales, production, marketing, quality) -> None:
    """Walk a fresh request through the workflow as far as its age makes plausible."""
    # Recent requests are mostly still open; old ones mostly closed (a team that keeps up,
    # with a few stragglers): the older, the likelier it went all the way.
    maturity = min(1.0, days_ago / 45)
    progress = (1 - (1 - rng.random()) ** (1 + 4 * maturity)) * min(1.0, days_ago / 40 + 0.15)
    if progress < 0.2:
        return
    handler = {
        "marketing": marketing,
        "sales": sales,
        "production": production,
        "quality": quality,
    }.get(request.department, sales)
    request = request_services.request_route(
        actor=sales,
        request_id=request.pk,
        expected_version=UNCHECKED,
        department=request.department,
        assignee_id=handler.pk,
    )
    if progress < 0.35:
        return
    if request.kind != "customization":
        request = request_services.request_start_review(
            actor=handler, request_id=request.pk, expected_version=UNCHECKED
        )
        if progress > 0.55:
            request_services.request_resolve(
                actor=handler,
                request_id=request.pk,
                expected_version=UNCHECKED,
                resolution=rng.choice(
                    [
                        "Explained and agreed next steps with the customer.",
                        "Credit note issued and delivery slot moved earlier.",
                        "Passed to the range review; customer informed.",
                    ]
                ),
            )
        return
    request = request_services.request_start_review(
        actor=production, request_id=request.pk, expected_version=UNCHECKED
    )
    if progress < 0.45:
        return
    feasible = rng.random() < 0.8
    request = request_services.request_answer_feasibility(
        actor=production,
        request_id=request.pk,
        expected_version=UNCHECKED,
        feasible=feasible,
        note="Sleeve printing on line changeover; fits a normal week."
        if feasible
        else "The custom sleeve does not run on our canning line.",
        extra_unit_cost=Decimal("0.12") if feasible else None,
        lead_time_weeks=3 if feasible else None,
    )
    if not feasible:
        if progress > 0.6:
            request_services.request_decline(
                actor=sales, request_id=request.pk, expected_version=UNCHECKED, note="Not feasible."
            )
        return
    if progress < 0.55:
        return
    request = request_services.request_quote(
        actor=sales,
        request_id=request.pk,
        expected_version=UNCHECKED,
        unit_price=request.product.unit_price + Decimal("0.20"),
    )
    if progress < 0.7:
        return
    if rng.random() < 0.7:
        request_services.request_accept(
            actor=sales, request_id=request.pk, expected_version=UNCHECKED
        )
    else:
        request_services.request_decline(
            actor=sales,
            request_id=request.pk,
            expected_version=UNCHECKED,
            note="Chose a competitor.",
        )


# ------------------------------------------------------------ spec proposals


def seed_proposals() -> int:
    """A few pending proposals for production's review queue, citing requests."""
    if Specification.objects.filter(status=Specification.Status.PROPOSED).exists():
        return 0
    marketing = demo_user(roles.MARKETING)
    sales = demo_user(roles.SALES)
    proposals = [
        (
            "TEA-LEM-05",
            marketing,
            {"features": ["Less sugar", "No artificial colours", "30% less sugar recipe"]},
            "Gyms and schools ask for less sugar; competitors launched low-sugar lemon tea.",
        ),
        (
            "JCE-ORA-10",
            sales,
            {"package_sizes": ["1 l carton", "6-pack", "330 ml carton for school lunches"]},
            "Schools and cafés ask for a small carton.",
        ),
        (
            "SPT-CIT-50",
            marketing,
            {"colours": ["Citrus label", "Black cap", "Limited-edition tournament sleeve"]},
            "Sports tournament season: limited-edition sleeve for the summer promotion.",
        ),
    ]
    count = 0
    for sku, author, changes, why in proposals:
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            continue
        current = current_specification(product)
        fields = current.as_dict() if current else {}
        fields.update(changes)
        cited = list(product.customer_requests.values_list("pk", flat=True)[:2])
        spec_services.specification_create(
            actor=author,
            product_id=product.pk,
            effective_from=add_weeks(current_week(), 6),
            rationale=why,
            cited_request_ids=cited,
            propose=True,
            **fields,
        )
        count += 1
    return count


def seed_master_data(say) -> None:
    """Coordination's part of seed_demo (users are seeded and listed by the command)."""
    products = seed_products()
    say(f"Products: {products['products']} ({products['created']} new).")
    requests = seed_requests()
    say(f"Customer requests: {requests['requests']} ({requests['created']} new).")
    say(f"Specification proposals: {seed_proposals()} new.")


def register_demo_parts() -> None:
    demo_registry.register("coordination: master data", seed_master_data, order=10)
