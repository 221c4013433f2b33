"""REST API: products and their specifications (/api/v1/products/...)."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordination.models import ActivityEvent, Product, Specification
from coordination.weeks import add_weeks, current_week, iso_label
from tests.api_errors import NOT_ALLOWED, NOT_SIGNED_IN, invalid, refused
from tests.factories import (
    CustomerRequestFactory,
    LineFactory,
    ProductFactory,
    ProductLineFactory,
    SpecificationFactory,
)

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def spec_url(sku: str, number: int | None = None, action: str | None = None) -> str:
    url = f"{PRODUCTS}{sku}/specifications/"
    if number is not None:
        url += f"{number}/"
    if action:
        url += f"{action}/"
    return url


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def sign_in(user):
        api.force_login(user)
        return api

    return sign_in


@pytest.fixture
def catalogue():
    teas = ProductLineFactory(name="Iced Tea")
    juices = ProductLineFactory(name="Juice")
    bottling = LineFactory(name="Bottling 1")
    lemon = ProductFactory(
        sku="TEA-LEM-05", name="Lemon tea", product_line=teas, production_line=bottling
    )
    ProductFactory(
        sku="TEA-PEA-05",
        name="Peach tea",
        product_line=teas,
        production_line=bottling,
        quality_tier="premium",
        predecessor=lemon,
    )
    ProductFactory(
        sku="JCE-ORA-10",
        name="Orange juice",
        product_line=juices,
        production_line=None,
        lifecycle="phase_out",
    )
    v1 = SpecificationFactory(
        product=lemon,
        number=1,
        colours=["Yellow label"],
        package_sizes=["500 ml"],
        features=["Vegan"],
        materials=["PET"],
    )
    return {"teas": teas, "juices": juices, "bottling": bottling, "lemon": lemon, "v1": v1}


def product_body(product: Product, current: Specification | None = None) -> dict:
    return {
        "sku": product.sku,
        "name": product.name,
        "product_line": product.product_line.name,
        "lifecycle": product.lifecycle,
        "quality_tier": product.quality_tier,
        "unit_price": f"{product.unit_price:.2f}",
        "unit_cost": f"{product.unit_cost:.2f}",
        "shortage_margin": None
        if product.shortage_margin is None
        else f"{product.shortage_margin:.2f}",
        "currency": "EUR",
        "production_line": product.production_line.name if product.production_line else None,
        "lead_time_weeks": product.lead_time_weeks,
        "minimum_batch": product.minimum_batch,
        "batch_size": product.batch_size,
        "shelf_life_weeks": product.shelf_life_weeks,
        "min_remaining_life_weeks": product.min_remaining_life_weeks,
        "target_service_level": f"{product.target_service_level:.3f}",
        "predecessor": product.predecessor.sku if product.predecessor else None,
        "current_specification": None
        if current is None
        else {
            "number": current.number,
            "effective_from": current.effective_from.isoformat(),
            "colours": current.colours,
            "package_sizes": current.package_sizes,
            "features": current.features,
            "materials": current.materials,
        },
        "version": product.version,
        "updated_at": iso(product.updated_at),
    }


def skus(response) -> list[str]:
    return [row["sku"] for row in response.json()["results"]]


# ----------------------------------------------------------------- products: reads


def test_product_list_has_every_field_with_the_specification_in_force(
    as_user, sales_user, catalogue
):
    response = as_user(sales_user).get(PRODUCTS)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    lemon, peach, orange = (
        Product.objects.get(sku=sku) for sku in ("TEA-LEM-05", "TEA-PEA-05", "JCE-ORA-10")
    )
    assert body["results"] == [
        product_body(orange),
        product_body(lemon, catalogue["v1"]),
        product_body(peach),
    ]
    assert body["results"][2]["predecessor"] == "TEA-LEM-05"
    assert body["results"][0]["production_line"] is None


def test_product_detail_by_sku_and_unknown_sku_is_a_json_404(as_user, marketing_user, catalogue):
    client = as_user(marketing_user)
    response = client.get(f"{PRODUCTS}TEA-LEM-05/")
    assert response.status_code == 200
    assert response.json() == product_body(catalogue["lemon"], catalogue["v1"])
    for unknown in ("NOPE-0001", "not.a.sku", "lower-case"):
        missing = client.get(f"{PRODUCTS}{unknown}/")
        assert missing.status_code == 404
        assert missing.json() == refused("No Product matches the given query.", "not_found")


def test_current_specification_is_the_version_in_force_this_week(as_user, sales_user, catalogue):
    lemon = catalogue["lemon"]
    # A later approved version that starts in the future is not in force yet.
    SpecificationFactory(
        product=lemon, number=2, colours=["Blue label"], effective_from=add_weeks(current_week(), 3)
    )
    # An older one that ended is not either.
    SpecificationFactory(
        product=ProductFactory(sku="TEA-GRN-05"),
        number=1,
        effective_from=add_weeks(current_week(), -10),
        effective_until=add_weeks(current_week(), -1),
    )
    body = as_user(sales_user).get(PRODUCTS, {"ordering": "sku"}).json()
    current = {row["sku"]: row["current_specification"] for row in body["results"]}
    assert current["TEA-LEM-05"]["number"] == 1
    assert current["TEA-LEM-05"]["colours"] == ["Yellow label"]
    assert current["TEA-GRN-05"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "tea"}, ["TEA-LEM-05", "TEA-PEA-05"]),
        ({"q": "pea"}, ["TEA-PEA-05"]),
        ({"q": "jce-ora"}, ["JCE-ORA-10"]),
        ({"product_line": "Juice"}, ["JCE-ORA-10"]),
        ({"product_line": "Iced Tea", "quality_tier": "premium"}, ["TEA-PEA-05"]),
        ({"lifecycle": "phase_out"}, ["JCE-ORA-10"]),
        ({"lifecycle": "discontinued"}, []),
        ({"ordering": "-sku"}, ["TEA-PEA-05", "TEA-LEM-05", "JCE-ORA-10"]),
        ({"ordering": "name"}, ["TEA-LEM-05", "JCE-ORA-10", "TEA-PEA-05"]),
    ],
)
def test_product_list_filters_and_orders(as_user, production_user, catalogue, params, expected):
    response = as_user(production_user).get(PRODUCTS, params)
    assert response.status_code == 200
    assert skus(response) == expected
    assert response.json()["count"] == len(expected)


def test_product_list_orders_by_last_change(as_user, production_user, catalogue):
    client = as_user(production_user)
    orange = Product.objects.get(sku="JCE-ORA-10")
    client.patch(
        f"{PRODUCTS}JCE-ORA-10/",
        {"name": "Orange juice 1 l", "version": orange.version},
        format="json",
    )
    assert skus(client.get(PRODUCTS, {"ordering": "-updated_at"}))[0] == "JCE-ORA-10"
    assert skus(client.get(PRODUCTS, {"ordering": "updated_at"}))[-1] == "JCE-ORA-10"


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        (
            {"product_line": "Lemonade"},
            {
                "product_line": [
                    "Select a valid choice. That choice is not one of the available choices."
                ]
            },
        ),
        (
            {"lifecycle": "eternal"},
            {"lifecycle": ["Select a valid choice. eternal is not one of the available choices."]},
        ),
        (
            {"ordering": "unit_cost"},
            {"ordering": ["Select a valid choice. unit_cost is not one of the available choices."]},
        ),
    ],
)
def test_product_list_refuses_unknown_filter_values(as_user, sales_user, catalogue, params, fields):
    response = as_user(sales_user).get(PRODUCTS, params)
    assert response.status_code == 400
    assert response.json() == invalid(fields)


def test_product_list_paginates(as_user, sales_user, catalogue):
    client = as_user(sales_user)
    first = client.get(PRODUCTS, {"page_size": 2})
    assert first.status_code == 200
    assert first.json()["count"] == 3
    assert first.json()["next"] == "http://testserver/api/v1/products/?page=2&page_size=2"
    assert first.json()["previous"] is None
    assert skus(first) == ["JCE-ORA-10", "TEA-LEM-05"]
    second = client.get(PRODUCTS, {"page_size": 2, "page": 2})
    assert second.json()["next"] is None
    assert second.json()["previous"] == "http://testserver/api/v1/products/?page_size=2"
    assert skus(second) == ["TEA-PEA-05"]
    beyond = client.get(PRODUCTS, {"page_size": 2, "page": 3})
    assert beyond.status_code == 404
    assert beyond.json() == refused("Invalid page.", "not_found")


def test_product_list_queries_do_not_grow_with_rows(
    as_user, sales_user, django_assert_max_num_queries
):
    client = as_user(sales_user)
    line = ProductLineFactory(name="Iced Tea")
    first = ProductFactory(sku="TEA-AAA-00", product_line=line)
    SpecificationFactory(product=first, number=1)
    client.get(PRODUCTS)  # warm the session and permission caches of the test client
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(PRODUCTS).json()["count"] == 1
    for n in range(1, 20):
        product = ProductFactory(sku=f"TEA-A{n:02d}-00", product_line=line, predecessor=first)
        SpecificationFactory(product=product, number=1)
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        body = client.get(PRODUCTS).json()
    assert body["count"] == 20
    assert all(row["current_specification"]["number"] == 1 for row in body["results"])


# --------------------------------------------------------------- auth and roles


def test_anonymous_clients_are_refused_with_the_error_body(api, catalogue):
    for response in (
        api.get(PRODUCTS),
        api.get(f"{PRODUCTS}TEA-LEM-05/"),
        api.post(PRODUCTS, {}, format="json"),
        api.get(spec_url("TEA-LEM-05")),
    ):
        # Bearer (API-client keys) comes first, so DRF answers 401 with its challenge.
        assert response.status_code == 401
        assert response.json() == NOT_SIGNED_IN
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_token_authentication(api, sales_user, catalogue):
    token = Token.objects.create(user=sales_user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get(f"{PRODUCTS}TEA-LEM-05/")
    assert response.status_code == 200
    assert response.json()["sku"] == "TEA-LEM-05"
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    bad = api.get(PRODUCTS)
    assert bad.status_code == 401
    assert bad.json() == refused("Invalid token.", "authentication_failed")


def test_a_user_without_a_role_may_not_read_products(as_user, make_user, catalogue):
    response = as_user(make_user(username="nobody")).get(PRODUCTS)
    assert response.status_code == 403
    assert response.json() == NOT_ALLOWED


def test_put_and_delete_are_not_offered(as_user, production_user, catalogue):
    client = as_user(production_user)
    put = client.put(f"{PRODUCTS}TEA-LEM-05/", {"name": "x", "version": 1}, format="json")
    assert put.status_code == 405
    assert put.json() == refused('Method "PUT" not allowed.', "method_not_allowed")
    delete = client.delete(f"{PRODUCTS}TEA-LEM-05/")
    assert delete.status_code == 405
    assert delete.json() == refused('Method "DELETE" not allowed.', "method_not_allowed")
    assert Product.objects.filter(sku="TEA-LEM-05", name="Lemon tea", version=1).exists()


# ---------------------------------------------------------------- products: create

NEW_PRODUCT = {
    "sku": "tea-min-05",
    "name": "Mint tea",
    "product_line": "Iced Tea",
    "unit_price": "1.80",
    "unit_cost": 0.95,
    "production_line": "Bottling 1",
    "lead_time_weeks": 2,
    "minimum_batch": 500,
    "target_service_level": "0.975",
    "predecessor": "TEA-LEM-05",
}


def test_production_creates_a_product(as_user, production_user, catalogue):
    response = as_user(production_user).post(PRODUCTS, NEW_PRODUCT, format="json")
    assert response.status_code == 201
    mint = Product.objects.get(sku="TEA-MIN-05")
    assert response.json() == {
        "sku": "TEA-MIN-05",
        "name": "Mint tea",
        "product_line": "Iced Tea",
        "lifecycle": "active",
        "quality_tier": "standard",
        "unit_price": "1.80",
        "unit_cost": "0.95",
        "shortage_margin": None,
        "currency": "EUR",
        "production_line": "Bottling 1",
        "lead_time_weeks": 2,
        "minimum_batch": 500,
        "batch_size": 1,
        "shelf_life_weeks": None,
        "min_remaining_life_weeks": 0,
        "target_service_level": "0.975",
        "predecessor": "TEA-LEM-05",
        "current_specification": None,
        "version": 1,
        "updated_at": iso(mint.updated_at),
    }
    assert (mint.unit_cost, mint.predecessor, mint.production_line) == (
        Decimal("0.95"),
        catalogue["lemon"],
        catalogue["bottling"],
    )
    assert list(
        ActivityEvent.objects.filter(object_id=mint.pk, content_type__model="product").values_list(
            "actor__username", "verb", "message"
        )
    ) == [("petra", "created", "Created the product.")]


@pytest.mark.parametrize("role_user", ["marketing_user", "sales_user", "quality_user"])
def test_other_roles_may_not_create_products(request, as_user, catalogue, role_user):
    user = request.getfixturevalue(role_user)
    response = as_user(user).post(PRODUCTS, NEW_PRODUCT, format="json")
    assert response.status_code == 403
    assert response.json() == NOT_ALLOWED
    assert Product.objects.count() == 3
    assert ActivityEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"product_line": "Lemonade"}, {"product_line": ["No product line named Lemonade."]}),
        (
            {"production_line": "Line 99"},
            {"production_line": ["No production line named Line 99."]},
        ),
        ({"predecessor": "NOPE-0001"}, {"predecessor": ["No product with SKU NOPE-0001."]}),
        ({"sku": "TEA-LEM-05"}, {"sku": ["Product with this SKU already exists."]}),
        (
            {"sku": "mint tea"},
            {
                "sku": [
                    "A SKU is 2–3 dash-separated parts of capital letters and digits, "
                    "e.g. BEV-1001."
                ]
            },
        ),
        (
            {"unit_price": "-1.00"},
            {"unit_price": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"lead_time_weeks": 27},
            {"lead_time_weeks": ["Ensure this value is less than or equal to 26."]},
        ),
        (
            {"minimum_batch": -5},
            {"minimum_batch": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"target_service_level": "1.5"},
            {"target_service_level": ["Ensure this value is less than or equal to 0.999."]},
        ),
        ({"lifecycle": "eternal"}, {"lifecycle": ['"eternal" is not a valid choice.']}),
        # Wrong types: strings for numbers, lists for strings, objects for names.
        ({"unit_price": "cheap"}, {"unit_price": ["A valid number is required."]}),
        ({"lead_time_weeks": "two"}, {"lead_time_weeks": ["A valid integer is required."]}),
        (
            {"minimum_batch": 10**30},
            {"minimum_batch": ["Ensure this value is less than or equal to 2147483647."]},
        ),
        ({"name": ["Mint", "tea"]}, {"name": ["Not a valid string."]}),
        (
            {"predecessor": ["TEA-LEM-05"]},
            {"predecessor": ["Give the product's SKU as text, e.g. BEV-1001."]},
        ),
        ({"product_line": {"name": "Iced Tea"}}, {"product_line": ["Give the name as text."]}),
        ({"unit_price": None}, {"unit_price": ["This field may not be null."]}),
    ],
)
def test_product_create_answers_400_at_the_field_and_saves_nothing(
    as_user, production_user, catalogue, changes, fields
):
    response = as_user(production_user).post(PRODUCTS, {**NEW_PRODUCT, **changes}, format="json")
    assert response.status_code == 400
    assert response.json() == invalid(fields)
    assert Product.objects.count() == 3
    assert ActivityEvent.objects.count() == 0


def test_product_create_with_missing_fields_lists_each(as_user, production_user, catalogue):
    response = as_user(production_user).post(PRODUCTS, {}, format="json")
    assert response.status_code == 400
    required = ["This field is required."]
    assert response.json() == invalid(
        dict.fromkeys(("sku", "name", "product_line", "unit_price", "unit_cost"), required)
    )


def test_product_cannot_be_its_own_predecessor_through_a_chain(as_user, production_user, catalogue):
    # TEA-PEA-05 replaces TEA-LEM-05; making LEM replace PEA would close a loop.
    lemon = catalogue["lemon"]
    response = as_user(production_user).patch(
        f"{PRODUCTS}TEA-LEM-05/", {"predecessor": "TEA-PEA-05", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == invalid(
        {"predecessor": ["That would make the product its own predecessor."]}
    )
    lemon.refresh_from_db()
    assert (lemon.predecessor, lemon.version) == (None, 1)


def test_product_cannot_be_its_own_predecessor(as_user, production_user, catalogue):
    response = as_user(production_user).patch(
        f"{PRODUCTS}TEA-LEM-05/", {"predecessor": "TEA-LEM-05", "version": 1}, format="json"
    )
    assert response.status_code == 400
    # The model constraint answers before the service's own check, without a field
    # (reported to the lead); the message is therefore not asserted here.
    assert response.json()["error"]["code"] == "invalid"
    lemon = Product.objects.get(sku="TEA-LEM-05")
    assert (lemon.predecessor, lemon.version) == (None, 1)
    assert ActivityEvent.objects.count() == 0


# ----------------------------------------------------------------- products: update


def test_production_changes_a_product_with_its_version(as_user, production_user, catalogue):
    client = as_user(production_user)
    response = client.patch(
        f"{PRODUCTS}TEA-LEM-05/",
        {"unit_price": "2.50", "production_line": None, "version": 1},
        format="json",
    )
    assert response.status_code == 200
    lemon = Product.objects.get(sku="TEA-LEM-05")
    assert (lemon.unit_price, lemon.production_line, lemon.version) == (Decimal("2.50"), None, 2)
    assert response.json() == product_body(lemon, catalogue["v1"])
    assert response.json()["version"] == 2
    assert list(
        ActivityEvent.objects.filter(object_id=lemon.pk, content_type__model="product").values_list(
            "verb", "message"
        )
    ) == [("updated", "Changed unit price 2.00 → 2.50; production line Bottling 1 → —.")]


def test_a_stale_product_edit_is_a_409_and_changes_nothing(as_user, production_user, catalogue):
    client = as_user(production_user)
    assert (
        client.patch(
            f"{PRODUCTS}TEA-LEM-05/", {"name": "Lemon tea 0.5 l", "version": 1}, format="json"
        ).status_code
        == 200
    )
    stale = client.patch(
        f"{PRODUCTS}TEA-LEM-05/", {"unit_price": "9.99", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json() == refused(
        "Product TEA-LEM-05 Lemon tea 0.5 l was changed by someone else while you were editing it. "
        "Reload to see the current version, then apply your change again.",
        "stale_edit",
    )
    lemon = Product.objects.get(sku="TEA-LEM-05")
    assert (lemon.unit_price, lemon.version) == (Decimal("2.00"), 2)
    assert ActivityEvent.objects.filter(verb="updated").count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"unit_price": "2.50"}, {"version": ["This field is required."]}),
        ({"unit_price": "2.50", "version": "one"}, {"version": ["A valid integer is required."]}),
        (
            {"unit_price": "2.50", "version": 0},
            {"version": ["Ensure this value is greater than or equal to 1."]},
        ),
        ({"sku": "TEA-LEM-06", "version": 1}, {"sku": ["A product's SKU cannot be changed."]}),
        (
            {"unit_cost": "-0.01", "version": 1},
            {"unit_cost": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"product_line": "Lemonade", "version": 1},
            {"product_line": ["No product line named Lemonade."]},
        ),
        ({"name": "", "version": 1}, {"name": ["This field may not be blank."]}),
    ],
)
def test_product_update_answers_400_and_changes_nothing(
    as_user, production_user, catalogue, body, fields
):
    response = as_user(production_user).patch(f"{PRODUCTS}TEA-LEM-05/", body, format="json")
    assert response.status_code == 400
    assert response.json() == invalid(fields)
    lemon = Product.objects.get(sku="TEA-LEM-05")
    assert (lemon.name, lemon.unit_price, lemon.unit_cost, lemon.version) == (
        "Lemon tea",
        Decimal("2.00"),
        Decimal("1.20"),
        1,
    )
    assert ActivityEvent.objects.count() == 0


def test_sales_may_not_change_products(as_user, sales_user, catalogue):
    response = as_user(sales_user).patch(
        f"{PRODUCTS}TEA-LEM-05/", {"name": "x", "version": 1}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == NOT_ALLOWED
    assert Product.objects.get(sku="TEA-LEM-05").version == 1


def test_patch_of_an_unknown_sku_is_a_404(as_user, production_user, catalogue):
    response = as_user(production_user).patch(
        f"{PRODUCTS}NOPE-0001/", {"version": 1}, format="json"
    )
    assert response.status_code == 404
    assert response.json() == refused("No Product matches the given query.", "not_found")


# ----------------------------------------------------------- specifications: reads


def spec_body(spec: Specification) -> dict:
    return {
        "product": spec.product.sku,
        "number": spec.number,
        "status": spec.status,
        "colours": spec.colours,
        "package_sizes": spec.package_sizes,
        "features": spec.features,
        "materials": spec.materials,
        "effective_from": spec.effective_from.isoformat(),
        "effective_until": spec.effective_until.isoformat() if spec.effective_until else None,
        "rationale": spec.rationale,
        "cited_requests": sorted(spec.cited_requests.values_list("pk", flat=True)),
        "author": spec.author.username,
        "proposed_at": iso(spec.proposed_at) if spec.proposed_at else None,
        "reviewed_by": spec.reviewed_by.username if spec.reviewed_by else None,
        "reviewed_at": iso(spec.reviewed_at) if spec.reviewed_at else None,
        "feasibility_note": spec.feasibility_note,
        "unit_cost_impact": None
        if spec.unit_cost_impact is None
        else f"{spec.unit_cost_impact:.2f}",
        "version": spec.version,
        "created_at": iso(spec.created_at),
        "updated_at": iso(spec.updated_at),
    }


def test_specification_list_and_detail(as_user, quality_user, catalogue):
    lemon, v1 = catalogue["lemon"], catalogue["v1"]
    v2 = SpecificationFactory(
        product=lemon,
        number=2,
        status="draft",
        reviewed_by=None,
        reviewed_at=None,
        feasibility_note="",
        unit_cost_impact=None,
        effective_from=add_weeks(current_week(), 4),
    )
    client = as_user(quality_user)
    response = client.get(spec_url("TEA-LEM-05"))
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [spec_body(v2), spec_body(v1)],
    }
    detail = client.get(spec_url("TEA-LEM-05", 1))
    assert detail.status_code == 200
    assert detail.json() == spec_body(v1)
    assert detail.json()["reviewed_by"] == v1.author.username
    assert detail.json()["unit_cost_impact"] == "0.00"


def test_specification_of_an_unknown_product_or_number_is_a_json_404(
    as_user, sales_user, catalogue
):
    client = as_user(sales_user)
    for url, message in (
        (spec_url("NOPE-0001"), "No product with SKU NOPE-0001."),
        (spec_url("NOPE-0001", 1), "No product with SKU NOPE-0001."),
        (spec_url("TEA-LEM-05", 7), "TEA-LEM-05 has no specification v7."),
        (spec_url("TEA-LEM-05", "seven"), "TEA-LEM-05 has no specification vseven."),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json() == refused(message, "not_found")
    post = client.post(spec_url("NOPE-0001"), {"rationale": "x"}, format="json")
    assert post.status_code == 404
    assert post.json() == refused("No product with SKU NOPE-0001.", "not_found")
    action = client.post(spec_url("NOPE-0001", 1, "propose"), {"version": 1}, format="json")
    assert action.status_code == 404
    assert Specification.objects.count() == 1


def test_specification_list_queries_do_not_grow_with_rows(
    as_user, sales_user, catalogue, django_assert_max_num_queries
):
    client = as_user(sales_user)
    lemon = catalogue["lemon"]
    CustomerRequestFactory(product=lemon)
    client.get(spec_url("TEA-LEM-05"))
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(spec_url("TEA-LEM-05")).json()["count"] == 1
    cited = CustomerRequestFactory(product=lemon)
    for number in range(2, 21):
        spec = SpecificationFactory(
            product=lemon,
            number=number,
            status="draft",
            reviewed_by=None,
            reviewed_at=None,
            feasibility_note="",
            effective_from=add_weeks(current_week(), number),
        )
        spec.cited_requests.set([cited])
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        body = client.get(spec_url("TEA-LEM-05")).json()
    assert body["count"] == 20
    assert body["results"][0]["cited_requests"] == [cited.pk]


# ---------------------------------------------------------- specifications: writes


def draft_body(**overrides) -> dict:
    body = {
        "colours": ["Yellow label", " Green  cap ", "green cap"],
        "package_sizes": ["500 ml"],
        "features": ["Vegan", "Less sugar"],
        "materials": ["PET"],
        "effective_from": iso_label(add_weeks(current_week(), 4)),
        "rationale": "Customers ask for less sugar.",
    }
    body.update(overrides)
    return body


def started(weeks_from_now: int) -> str:
    week = iso_label(add_weeks(current_week(), weeks_from_now))
    return f"{week} has already started: choose this week or a later one."


def spec_events(spec: Specification) -> list[tuple]:
    return list(
        ActivityEvent.objects.filter(object_id=spec.pk, content_type__model="specification")
        .order_by("id")
        .values_list("actor__username", "verb", "message")
    )


def test_marketing_drafts_a_specification_citing_requests(as_user, marketing_user, catalogue):
    asked = CustomerRequestFactory(product=catalogue["lemon"])
    response = as_user(marketing_user).post(
        spec_url("TEA-LEM-05"), draft_body(cited_requests=[asked.pk]), format="json"
    )
    assert response.status_code == 201
    spec = Specification.objects.get(product=catalogue["lemon"], number=2)
    assert response.json() == spec_body(spec)
    assert (spec.status, spec.author, spec.version) == ("draft", marketing_user, 1)
    assert spec.colours == ["Yellow label", "Green cap"]
    assert spec.effective_from == add_weeks(current_week(), 4)
    assert response.json()["cited_requests"] == [asked.pk]
    assert response.json()["proposed_at"] is None
    assert spec_events(spec) == [("mara", "created", "Drafted v2.")]


def test_a_date_in_the_week_is_taken_as_its_monday_and_propose_proposes(
    as_user, sales_user, catalogue
):
    wednesday = add_weeks(current_week(), 5) + dt.timedelta(days=2)
    response = as_user(sales_user).post(
        spec_url("TEA-LEM-05"),
        draft_body(effective_from=wednesday.isoformat(), propose=True),
        format="json",
    )
    assert response.status_code == 201
    spec = Specification.objects.get(number=2)
    assert (spec.status, spec.effective_from, spec.version) == (
        "proposed",
        add_weeks(current_week(), 5),
        2,
    )
    assert response.json()["status"] == "proposed"
    assert response.json()["proposed_at"] == iso(spec.proposed_at)
    assert [verb for _, verb, _ in spec_events(spec)] == ["created", "transitioned"]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        (
            {"effective_from": iso_label(add_weeks(current_week(), -1))},
            {"effective_from": [started(-1)]},
        ),
        ({"effective_from": "2026-W60"}, {"effective_from": ["2026-W60 is not a week of 2026."]}),
        (
            {"effective_from": "next week"},
            {
                "effective_from": [
                    "Enter a week as 2026-W48 or a date as 2026-11-23; got 'next week'."
                ]
            },
        ),
        (
            {"effective_from": 202650},
            {"effective_from": ["Enter a week as 2026-W48 or a date as 2026-11-23."]},
        ),
        (
            {"effective_from": None},
            {"effective_from": ["Choose the week the change takes effect."]},
        ),
        (
            {"rationale": "  "},
            {"rationale": ["Say why this change is needed: what customers or the market ask."]},
        ),
        (
            {"colours": [], "package_sizes": [], "features": [], "materials": []},
            {"colours": ["A specification needs at least one colour, size, feature or material."]},
        ),
        (
            {"colours": "Yellow label"},
            {"colours": ['Expected a list of items but got type "str".']},
        ),
        ({"features": [["Vegan"]]}, {"features.0": ["Not a valid string."]}),
        (
            {"materials": ["x" * 81]},
            {"materials": [f"“{'x' * 20}…” is longer than 80 characters."]},
        ),
        ({"cited_requests": [987654]}, {"cited_requests": ["No customer request with id 987654."]}),
        ({"cited_requests": ["one"]}, {"cited_requests.0": ["A valid integer is required."]}),
        (
            {"cited_requests": 5},
            {"cited_requests": ['Expected a list of items but got type "int".']},
        ),
        ({"propose": "perhaps"}, {"propose": ["Must be a valid boolean."]}),
        ({"rationale": ["why"]}, {"rationale": ["Not a valid string."]}),
    ],
)
def test_specification_create_answers_400_at_the_field_and_saves_nothing(
    as_user, marketing_user, catalogue, overrides, fields
):
    response = as_user(marketing_user).post(
        spec_url("TEA-LEM-05"), draft_body(**overrides), format="json"
    )
    assert response.status_code == 400
    assert response.json() == invalid(fields)
    assert Specification.objects.count() == 1
    assert ActivityEvent.objects.count() == 0


def test_proposing_a_copy_of_the_version_in_force_saves_nothing(as_user, sales_user, catalogue):
    same = draft_body(colours=["Yellow label"], features=["Vegan"], propose=True)
    response = as_user(sales_user).post(spec_url("TEA-LEM-05"), same, format="json")
    assert response.status_code == 400
    message = "v2 is identical to the specification in force (v1)."
    assert response.json() == refused(message)
    # The draft saved before the proposal failed was rolled back with it.
    assert Specification.objects.count() == 1
    assert ActivityEvent.objects.count() == 0


@pytest.mark.parametrize("role_user", ["production_user", "quality_user"])
def test_production_and_quality_may_not_draft(request, as_user, catalogue, role_user):
    response = as_user(request.getfixturevalue(role_user)).post(
        spec_url("TEA-LEM-05"), draft_body(), format="json"
    )
    assert response.status_code == 403
    assert response.json() == NOT_ALLOWED
    assert Specification.objects.count() == 1


def test_a_discontinued_product_takes_no_new_specification(as_user, sales_user, catalogue):
    Product.objects.filter(sku="TEA-LEM-05").update(lifecycle="discontinued")
    response = as_user(sales_user).post(spec_url("TEA-LEM-05"), draft_body(), format="json")
    assert response.status_code == 400
    assert response.json() == refused("TEA-LEM-05 is discontinued: its specification is closed.")
    assert Specification.objects.count() == 1


@pytest.fixture
def proposal(catalogue, marketing_user):
    from coordination.services import specifications as services

    spec = services.specification_create(
        actor=marketing_user,
        product_id=catalogue["lemon"].pk,
        colours=["Green label"],
        features=["Less sugar"],
        effective_from=add_weeks(current_week(), 4),
        rationale="Customers ask for less sugar.",
        propose=True,
    )
    assert (spec.status, spec.version) == ("proposed", 2)
    return spec


def test_production_approves_a_proposal_later_than_proposed(as_user, production_user, proposal):
    later = add_weeks(current_week(), 6)
    response = as_user(production_user).post(
        spec_url("TEA-LEM-05", 2, "approve"),
        {
            "version": 2,
            "feasibility_note": "New label stock needed.",
            "unit_cost_impact": "0.04",
            "effective_from": iso_label(later),
        },
        format="json",
    )
    assert response.status_code == 200
    proposal.refresh_from_db()
    assert response.json() == spec_body(proposal)
    assert (
        proposal.status,
        proposal.effective_from,
        proposal.reviewed_by.username,
        proposal.unit_cost_impact,
        proposal.version,
    ) == ("approved", later, "petra", Decimal("0.04"), 3)
    v1 = Specification.objects.get(number=1)
    assert v1.effective_until == add_weeks(later, -1)
    assert spec_events(proposal)[-1] == (
        "petra",
        "transitioned",
        f"Approved v2 effective from {iso_label(later)}; unit cost impact +0.04. "
        "New label stock needed.",
    )


def test_production_rejects_and_marketing_withdraws(
    as_user, production_user, marketing_user, proposal, catalogue
):
    client = as_user(marketing_user)
    withdrawn = client.post(spec_url("TEA-LEM-05", 2, "withdraw"), {"version": 2}, format="json")
    assert withdrawn.status_code == 200
    assert (
        withdrawn.json()["status"],
        withdrawn.json()["version"],
        withdrawn.json()["proposed_at"],
    ) == ("draft", 3, None)
    proposed = client.post(spec_url("TEA-LEM-05", 2, "propose"), {"version": 3}, format="json")
    assert proposed.status_code == 200
    assert (proposed.json()["status"], proposed.json()["version"]) == ("proposed", 4)
    rejected = as_user(production_user).post(
        spec_url("TEA-LEM-05", 2, "reject"),
        {"version": 4, "feasibility_note": "The line cannot print green.", "unit_cost_impact": 0},
        format="json",
    )
    assert rejected.status_code == 200
    spec = Specification.objects.get(number=2)
    assert rejected.json() == spec_body(spec)
    assert (spec.status, spec.feasibility_note, spec.unit_cost_impact, spec.version) == (
        "rejected",
        "The line cannot print green.",
        Decimal("0.00"),
        5,
    )
    assert Specification.objects.get(number=1).effective_until is None


def assert_unchanged(spec: Specification, status: str, version: int, events: int) -> None:
    spec.refresh_from_db()
    assert (spec.status, spec.version) == (status, version)
    assert (
        ActivityEvent.objects.filter(object_id=spec.pk, content_type__model="specification").count()
        == events
    )


REVIEW = {"feasibility_note": "Fine.", "unit_cost_impact": "0.00"}


@pytest.mark.parametrize(
    ("user", "action", "body", "status", "expected"),
    [
        # A role that may not take the action at all: 403.
        ("marketing_user", "approve", {"version": 2, **REVIEW}, 403, NOT_ALLOWED),
        ("sales_user", "reject", {"version": 2, **REVIEW}, 403, NOT_ALLOWED),
        ("production_user", "withdraw", {"version": 2}, 403, NOT_ALLOWED),
        # The state does not allow it: 400.
        (
            "marketing_user",
            "propose",
            {"version": 2},
            400,
            refused("Only a draft can be proposed; v2 is proposed."),
        ),
        # A stale version: 409.
        (
            "production_user",
            "approve",
            {"version": 1, **REVIEW},
            409,
            refused(
                "Specification TEA-LEM-05 spec v2 was changed by someone else while you were "
                "editing it. Reload to see the current version, then apply your change again.",
                "stale_edit",
            ),
        ),
        # Bad input: 400 at the field.
        (
            "production_user",
            "approve",
            {**REVIEW},
            400,
            invalid({"version": ["This field is required."]}),
        ),
        ("marketing_user", "withdraw", {}, 400, invalid({"version": ["This field is required."]})),
        (
            "production_user",
            "approve",
            {"version": 2, "feasibility_note": " ", "unit_cost_impact": None},
            400,
            invalid(
                {
                    "feasibility_note": ["Explain whether and how production can make this."],
                    "unit_cost_impact": ["Give the change in unit cost (0 if none)."],
                }
            ),
        ),
        (
            "production_user",
            "reject",
            {"version": 2, "feasibility_note": "No.", "unit_cost_impact": "a lot"},
            400,
            invalid({"unit_cost_impact": ["A valid number is required."]}),
        ),
        (
            "production_user",
            "approve",
            {"version": 2, **REVIEW, "effective_from": iso_label(add_weeks(current_week(), -2))},
            400,
            invalid({"effective_from": [started(-2)]}),
        ),
        (
            "production_user",
            "approve",
            {"version": [2], **REVIEW},
            400,
            invalid({"version": ["A valid integer is required."]}),
        ),
        (
            "production_user",
            "reject",
            {"version": 2, "feasibility_note": ["No"], "unit_cost_impact": 0},
            400,
            invalid({"feasibility_note": ["Not a valid string."]}),
        ),
    ],
)
def test_refused_specification_actions_change_nothing(
    request, as_user, proposal, user, action, body, status, expected
):
    events = ActivityEvent.objects.filter(
        object_id=proposal.pk, content_type__model="specification"
    ).count()
    response = as_user(request.getfixturevalue(user)).post(
        spec_url("TEA-LEM-05", 2, action), body, format="json"
    )
    assert response.status_code == status
    assert response.json() == expected
    assert_unchanged(proposal, "proposed", 2, events)
    assert Specification.objects.get(number=1).effective_until is None


SPEC_POSTS = [
    spec_url("TEA-LEM-05"),
    spec_url("TEA-LEM-05", 2, "propose"),
    spec_url("TEA-LEM-05", 2, "withdraw"),
    spec_url("TEA-LEM-05", 2, "approve"),
    spec_url("TEA-LEM-05", 2, "reject"),
]


@pytest.mark.parametrize("url", [PRODUCTS, *SPEC_POSTS])
def test_malformed_json_and_non_objects_are_400_never_500(as_user, admin_user, proposal, url):
    client = as_user(admin_user)
    broken = client.post(url, '{"version": 2,', content_type="application/json")
    assert broken.status_code == 400
    body = broken.json()
    assert body["error"]["code"] == "parse_error"
    assert body["error"]["message"].startswith("JSON parse error - ")
    assert body["error"]["fields"] == {}
    for payload in ([1, 2], "text", 42, None):
        response = client.post(url, json.dumps(payload), content_type="application/json")
        assert response.status_code == 400, payload
        assert response.json()["error"]["code"] == "invalid"
        assert list(response.json()["error"]["fields"]) == ["non_field_errors"]
    assert_unchanged(proposal, "proposed", 2, 2)
    assert Product.objects.count() == 3


def test_malformed_json_patch_is_400(as_user, production_user, catalogue):
    response = as_user(production_user).patch(
        f"{PRODUCTS}TEA-LEM-05/", "{", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert Product.objects.get(sku="TEA-LEM-05").version == 1


# ------------------------------------------------------------------ OpenAPI schema


def test_openapi_schema_describes_every_endpoint_with_its_bodies():
    from drf_spectacular.generators import SchemaGenerator

    from coordination.api import urls as api

    schema = SchemaGenerator(patterns=api.urlpatterns).get_schema(request=None, public=True)
    operations = {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    spec = "/products/{product_sku}/specifications/{number}/"
    request_ = "/customer-requests/{id}/"
    assert sorted(operations) == sorted(
        [
            ("GET", "/products/"),
            ("POST", "/products/"),
            ("GET", "/products/{sku}/"),
            ("PATCH", "/products/{sku}/"),
            ("GET", "/products/{product_sku}/specifications/"),
            ("POST", "/products/{product_sku}/specifications/"),
            ("GET", spec),
            *[("POST", f"{spec}{name}/") for name in ("propose", "withdraw", "approve", "reject")],
            ("GET", "/customer-requests/"),
            ("POST", "/customer-requests/"),
            ("GET", request_),
            *[
                ("POST", f"{request_}{name}/")
                for name in (
                    "route",
                    "start-review",
                    "answer-feasibility",
                    "quote",
                    "accept",
                    "decline",
                    "change-order",
                    "cancel-order",
                    "resolve",
                )
            ],
        ]
    )

    def body(method, path):
        ref = operations[(method, path)]["requestBody"]["content"]["application/json"]["schema"]
        return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]

    assert body("PATCH", "/products/{sku}/")["required"] == ["version"]
    assert body("POST", f"{spec}approve/")["required"] == ["version"]
    assert body("POST", f"{request_}quote/")["required"] == ["unit_price", "version"]
    assert sorted(body("POST", "/customer-requests/")["required"]) == [
        "channel",
        "customer_name",
        "kind",
        "summary",
    ]
    listed = operations[("GET", "/customer-requests/")]
    assert sorted(p["name"] for p in listed["parameters"]) == [
        "department",
        "kind",
        "ordering",
        "page",
        "page_size",
        "product",
        "status",
        "updated_since",
    ]
    error = operations[("POST", f"{request_}accept/")]["responses"]["409"]
    assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
