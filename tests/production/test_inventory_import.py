"""Inventory counts import: service, command, API and browser pages."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from coordination.models import RecomputeRequest
from demand.csv_import import ImportRejected
from production.models import InventoryPosition
from production.services import inventory_import as services
from tests.factories import ProductFactory

NEXT_YEAR = dt.date.today().year + 1  # within the accepted dates, still ahead

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 8)
GOOD = "sku,as_of,on_hand\nBEV-1001,2024-03-01,40\nBEV-1001,2024-03-08,35\nJCE-2002,2024-03-08,0\n"
GOOD_POSITIONS = [("BEV-1001", D1, 40), ("BEV-1001", D2, 35), ("JCE-2002", D2, 0)]


@pytest.fixture
def products():
    return {sku: ProductFactory(sku=sku).pk for sku in ("BEV-1001", "JCE-2002", "TEA-3003")}


def positions():
    return list(
        InventoryPosition.objects.order_by("product__sku", "as_of").values_list(
            "product__sku", "as_of", "on_hand"
        )
    )


def errors_of(exc):
    return [(e.position, e.column, e.message) for e in exc.row_errors]


# ------------------------------------------------------------------------ service


def test_import_writes_counts_and_asks_for_one_recompute(
    production_user, products, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        result = services.inventory_import(
            actor=production_user, rows=GOOD.encode(), source="browser", filename="count.csv"
        )
    assert len(callbacks) == 1
    assert result == services.InventoryImportResult(
        filename="count.csv",
        rows=3,
        products=2,
        first_date=D1,
        last_date=D2,
        created=3,
        updated=0,
        seconds=result.seconds,
    )
    assert positions() == GOOD_POSITIONS
    request = RecomputeRequest.objects.get()
    assert request.source == "inventory"
    assert request.product_ids == sorted([products["BEV-1001"], products["JCE-2002"]])
    assert request.reason == "Inventory import count.csv: 3 rows"
    assert request.requested_by == production_user


def test_reimporting_the_same_counts_is_idempotent(production_user, products):
    services.inventory_import(actor=production_user, rows=GOOD, source="command")
    ids = sorted(InventoryPosition.objects.values_list("pk", flat=True))
    again = services.inventory_import(actor=production_user, rows=GOOD, source="command")
    assert (again.created, again.updated) == (0, 3)
    assert positions() == GOOD_POSITIONS
    assert sorted(InventoryPosition.objects.values_list("pk", flat=True)) == ids
    assert RecomputeRequest.objects.count() == 2


MISSING_ON_HAND = (
    'Missing column "on_hand" (also accepted: quantity, qty, units, stock). The first line '
    "must name the columns sku, as_of and on_hand."
)


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        (
            "sku,as_of,on_hand\nBEV-1001,2024-03-01,1\nNOPE-1,2024-03-01,1\n",
            [(3, "sku", "No product has the SKU 'NOPE-1'.")],
        ),
        (
            "sku,as_of,on_hand\nBEV-1001,2024-03-01,1\nJCE-2002,01/03/2024,1\n",
            [(3, "as_of", "Enter a date as 2026-11-23; got '01/03/2024'.")],
        ),
        (
            "sku,as_of,on_hand\nBEV-1001,2024-03-01,1\nJCE-2002,2024-03-01,-2\n",
            [(3, "on_hand", "The units on hand cannot be negative; got -2.")],
        ),
        (
            "sku,as_of,on_hand\nBEV-1001,2024-03-01,1\nJCE-2002,2024-03-01,ten\n",
            [(3, "on_hand", "The units on hand must be a whole number; got 'ten'.")],
        ),
        (
            "sku,as_of,on_hand\nBEV-1001,2024-03-01,1\nBEV-1001,2024-03-01,2\n",
            [(3, "as_of", "Duplicate of line 2: BEV-1001 already has a row for 2024-03-01.")],
        ),
        ("sku,as_of\nBEV-1001,2024-03-01\n", [(1, "on_hand", MISSING_ON_HAND)]),
        (
            "",
            [
                (
                    1,
                    "",
                    "The file is empty: the first line must name the columns sku, as_of and "
                    "on_hand.",
                )
            ],
        ),
        (
            f"sku,as_of,on_hand\nBEV-1001,{NEXT_YEAR}-01-01,1\n",
            [
                (
                    2,
                    "as_of",
                    f"{NEXT_YEAR}-01-01 is in the future: enter the date the stock was counted.",
                )
            ],
        ),
    ],
    ids=[
        "unknown-sku",
        "bad-date",
        "negative",
        "not-integer",
        "duplicate",
        "missing-column",
        "empty",
        "future",
    ],
)
def test_a_bad_row_rejects_the_file_and_saves_nothing(production_user, products, content, errors):
    with pytest.raises(ImportRejected) as info:
        services.inventory_import(actor=production_user, rows=content, source="browser")
    assert errors_of(info.value) == errors
    assert InventoryPosition.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_a_semicolon_file_with_byte_order_mark(production_user, products):
    content = "\ufeffSKU;As of;Stock\r\nBEV-1001;2024-03-01;40\r\n".encode()
    result = services.inventory_import(actor=production_user, rows=content, source="browser")
    assert result.created == 1
    assert positions() == [("BEV-1001", D1, 40)]


def test_importing_needs_the_inventory_permission(marketing_user, products):
    with pytest.raises(PermissionDenied):
        services.inventory_import(actor=marketing_user, rows=GOOD, source="browser")
    assert InventoryPosition.objects.count() == 0


def test_dry_run_only_checks(production_user, products):
    result = services.inventory_import(
        actor=production_user, rows=GOOD, source="browser", dry_run=True
    )
    assert (result.rows, result.products, result.dry_run, result.created) == (3, 2, True, 0)
    assert InventoryPosition.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_latest_positions_show_each_products_latest_count(production_user, products):
    services.inventory_import(actor=production_user, rows=GOOD, source="command")
    latest = services.latest_positions()
    assert [(p.sku, p.on_hand, p.counted_on) for p in latest] == [
        ("BEV-1001", 35, D2),
        ("JCE-2002", 0, D2),
        ("TEA-3003", None, None),
    ]
    assert [p.sku for p in services.latest_positions(search="jce")] == ["JCE-2002"]


# ------------------------------------------------------------------------ command


@pytest.fixture
def csv_file(tmp_path):
    def write(text):
        path = tmp_path / "count.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_command_imports_and_prints_the_summary(admin_user, products, csv_file, capsys):
    call_command("import_inventory", csv_file(GOOD))
    assert capsys.readouterr().out.startswith(
        "Imported 3 rows for 2 products, counted 2024-03-01 to 2024-03-08: 3 new, 0 updated, in "
    )
    assert positions() == GOOD_POSITIONS
    assert RecomputeRequest.objects.get().source == "inventory"


def test_command_lists_errors_by_line_and_exits_non_zero(admin_user, products, csv_file, capsys):
    path = csv_file("sku,as_of,on_hand\nBEV-1001,2024-03-01,-1\n")
    with pytest.raises(CommandError) as info:
        call_command("import_inventory", path)
    assert info.value.returncode == 1
    assert str(info.value) == f"{path} was rejected. Nothing was imported: 1 error."
    assert capsys.readouterr().err.splitlines() == [
        "line 2, on_hand: The units on hand cannot be negative; got -1."
    ]
    assert InventoryPosition.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_command_dry_run(admin_user, products, csv_file, capsys):
    call_command("import_inventory", csv_file(GOOD), "--dry-run")
    assert "is valid: 3 rows for 2 products" in capsys.readouterr().out
    assert InventoryPosition.objects.count() == 0


# ---------------------------------------------------------------------------- API

API = "/api/v1/inventory-positions/"


def post(client, body):
    return client.post(API, data=json.dumps(body), content_type="application/json")


def test_api_post_imports_the_list(client, production_user, products):
    client.force_login(production_user)
    items = [
        {"sku": "BEV-1001", "as_of": "2024-03-01", "on_hand": 40},
        {"sku": "BEV-1001", "as_of": "2024-03-08", "on_hand": 35},
        {"sku": "JCE-2002", "as_of": "2024-03-08", "on_hand": 0},
    ]
    response = post(client, items)
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "rows": 3,
        "created": 3,
        "updated": 0,
        "products": 2,
        "first_date": "2024-03-01",
        "last_date": "2024-03-08",
        "seconds": body["seconds"],
    }
    assert positions() == GOOD_POSITIONS
    assert RecomputeRequest.objects.get().source == "inventory"


def test_api_post_lists_every_error_by_index(client, admin_user, products):
    client.force_login(admin_user)
    response = post(
        client,
        [
            {"sku": "BEV-1001", "as_of": "2024-03-01", "on_hand": 1},
            {"sku": "BEV-1001", "as_of": "2024-3-1", "on_hand": -4},
            {"sku": "NOPE-1", "as_of": "2024-03-01", "on_hand": 1},
        ],
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Nothing was imported: 3 errors. Each key in fields is <item index>.<field>.",
        "fields": {
            "1.as_of": ["Enter a date as 2026-11-23; got '2024-3-1'."],
            "1.on_hand": ["The units on hand cannot be negative; got -4."],
            "2.sku": ["No product has the SKU 'NOPE-1'."],
        },
    }
    assert InventoryPosition.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (json.dumps({"sku": "BEV-1001"}), "invalid"),
        ("{]", "parse_error"),
        (json.dumps([{}] * 100_001), "too_many_items"),
    ],
    ids=["not-a-list", "malformed", "too-many"],
)
def test_api_post_refuses_bodies_it_cannot_take(client, production_user, products, data, code):
    client.force_login(production_user)
    response = client.post(API, data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert InventoryPosition.objects.count() == 0


def test_api_roles(client, marketing_user, products):
    item = [{"sku": "BEV-1001", "as_of": "2024-03-01", "on_hand": 1}]
    anonymous = post(client, item)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert client.get(API).status_code == 401
    client.force_login(marketing_user)
    assert post(client, item).status_code == 403  # marketing reads stock, does not count it
    assert client.get(API).status_code == 200
    assert InventoryPosition.objects.count() == 0


def test_api_lists_by_sku_then_date_with_filters(client, production_user, products):
    services.inventory_import(
        actor=production_user,
        rows="sku,as_of,on_hand\nJCE-2002,2024-03-01,3\nBEV-1001,2024-03-08,7\n"
        "BEV-1001,2024-03-01,12\n",
        source="command",
    )
    client.force_login(production_user)
    body = client.get(API).json()
    assert [(r["sku"], r["as_of"], r["on_hand"]) for r in body["results"]] == [
        ("BEV-1001", "2024-03-01", 12),
        ("BEV-1001", "2024-03-08", 7),
        ("JCE-2002", "2024-03-01", 3),
    ]
    one = client.get(API, {"product": "BEV-1001", "from": "2024-03-02"}).json()
    assert [(r["sku"], r["as_of"]) for r in one["results"]] == [("BEV-1001", "2024-03-08")]
    bad = client.get(API, {"to": "March"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"to": ["Enter a date as 2026-11-23; got 'March'."]}


# ------------------------------------------------------------------------- views


def upload(client, text, check_only=False, **extra):
    file = SimpleUploadedFile("count.csv", text.encode("utf-8"), content_type="text/csv")
    data = {"file": file}
    if check_only:
        data["check_only"] = "on"
    return client.post(reverse("inventory_import"), data, **extra)


def test_inventory_page_lists_the_latest_count_per_product(
    client, production_user, marketing_user, products
):
    services.inventory_import(actor=production_user, rows=GOOD, source="command")
    client.force_login(marketing_user)
    page = client.get(reverse("inventory"))
    assert page.status_code == 200
    assert [(p.sku, p.on_hand, p.counted_on) for p in page.context["page"]] == [
        ("BEV-1001", 35, D2),
        ("JCE-2002", 0, D2),
        ("TEA-3003", None, None),
    ]
    html = page.content.decode()
    assert "Never counted" in html
    assert "Import counts" not in html  # marketing reads, production imports
    partial = client.get(reverse("inventory"), {"q": "bev"}, **HTMX)
    assert partial.content.decode().lstrip().startswith('<div id="positions">')
    assert [p.sku for p in partial.context["page"]] == ["BEV-1001"]


def test_upload_imports_and_redirects_with_the_summary(client, production_user, products):
    client.force_login(production_user)
    assert client.get(reverse("inventory_import")).status_code == 200
    response = upload(client, GOOD, follow=True)
    assert response.redirect_chain == [(reverse("inventory"), 302)]
    assert "Imported 3 counts of count.csv: 3 new, 0 updated." in response.content.decode()
    assert positions() == GOOD_POSITIONS
    assert RecomputeRequest.objects.count() == 1


def test_htmx_upload_returns_the_result_panel(client, production_user, products):
    client.force_login(production_user)
    response = upload(client, GOOD, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="import-panel">')
    assert "Imported count.csv: 3 counts of 2 products — 3 new, 0 updated" in html
    assert '<a href="/production/">follow it on the production dashboard</a>' in html
    assert positions() == GOOD_POSITIONS


def test_a_bad_upload_lists_every_error_by_line_and_saves_nothing(
    client, production_user, products
):
    client.force_login(production_user)
    response = upload(client, "sku,as_of,on_hand\nBEV-1001,2024-03-01,-1\nNOPE-1,2024-03-01,1\n")
    html = response.content.decode()
    assert response.status_code == 200
    assert errors_of(response.context["rejection"]) == [
        (2, "on_hand", "The units on hand cannot be negative; got -1."),
        (3, "sku", "No product has the SKU 'NOPE-1'."),
    ]
    assert "Nothing was imported: 2 errors." in html
    assert (
        '<td class="num">3</td><td>sku</td><td>No product has the SKU &#x27;NOPE-1&#x27;.' in html
    )
    assert InventoryPosition.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_check_only_saves_nothing(client, production_user, products):
    client.force_login(production_user)
    response = upload(client, GOOD, check_only=True)
    assert "count.csv is valid: 3 counts of 2 products. Nothing was saved." in (
        response.content.decode()
    )
    assert InventoryPosition.objects.count() == 0


def test_inventory_pages_by_role(client, marketing_user, quality_user, products):
    anonymous = client.get(reverse("inventory"))
    assert anonymous.status_code == 302
    client.force_login(marketing_user)
    assert client.get(reverse("inventory")).status_code == 200
    assert client.get(reverse("inventory_import")).status_code == 403
    assert upload(client, GOOD).status_code == 403
    client.force_login(quality_user)
    assert client.get(reverse("inventory_import")).status_code == 403
    assert InventoryPosition.objects.count() == 0
