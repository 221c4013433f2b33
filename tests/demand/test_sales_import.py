"""Sales history import: service, command, API and browser pages."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from coordination.models import Product, RecomputeRequest
from demand.csv_import import BulkJSONParser, ImportRejected
from demand.models import SalesActual, SalesImport
from demand.services import sales_import as services
from demand.views import sales_import as views
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
W1, W2, W3 = dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)
NEXT_YEAR = dt.date.today().year + 1  # within the accepted dates, still ahead
GOOD = "sku,week,units\nBEV-1001,2024-W01,12\nBEV-1001,2024-W02,7\nJCE-2002,2024-01-17,0\n"


@pytest.fixture
def products():
    return {sku: ProductFactory(sku=sku).pk for sku in ("BEV-1001", "JCE-2002")}


def history():
    return sorted(
        SalesActual.objects.values_list("product__sku", "week", "units").order_by(
            "product__sku", "week"
        )
    )


GOOD_HISTORY = [("BEV-1001", W1, 12), ("BEV-1001", W2, 7), ("JCE-2002", W3, 0)]


def stored_errors(record):
    return [(e["line"], e["column"], e["message"]) for e in record.errors]


# ------------------------------------------------------------------------ services


def test_preview_keeps_a_good_file_and_writes_nothing(marketing_user, products):
    record = services.sales_import_preview(
        actor=marketing_user, filename="C:\\exports\\sales.csv", content=GOOD.encode()
    )
    record.refresh_from_db()
    assert record.status == "previewed"
    assert record.filename == "sales.csv"
    assert record.source == "browser"
    assert (record.row_count, record.products_count) == (3, 2)
    assert (record.first_week, record.last_week) == (W1, W3)
    assert record.errors == []
    assert record.content == GOOD
    assert record.uploaded_by == marketing_user
    assert SalesActual.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0
    assert services.sales_import_sample(record, limit=2) == [
        {
            "line": 2,
            "sku": "BEV-1001",
            "date": W1,
            "date_label": "2024-W01",
            "quantity": 12,
            "known": True,
            "channel": "all",
        },
        {
            "line": 3,
            "sku": "BEV-1001",
            "date": W2,
            "date_label": "2024-W02",
            "quantity": 7,
            "known": True,
            "channel": "all",
        },
    ]


def test_apply_writes_every_row_and_asks_for_one_recompute(
    sales_user, products, django_capture_on_commit_callbacks
):
    preview = services.sales_import_preview(actor=sales_user, filename="s.csv", content=GOOD)
    with django_capture_on_commit_callbacks() as callbacks:
        record = services.sales_import_apply(actor=sales_user, import_id=preview.pk)
    assert len(callbacks) == 1  # the enqueue, after commit
    record.refresh_from_db()
    assert record.status == "applied"
    assert (record.created_count, record.updated_count) == (3, 0)
    assert record.applied_at is not None
    assert record.seconds >= 0
    assert record.content == ""
    assert history() == GOOD_HISTORY
    request = RecomputeRequest.objects.get()
    assert request.source == "sales_import"
    assert request.product_ids == sorted(products.values())
    assert request.reason == "Sales import s.csv: 3 rows"
    assert request.requested_by == sales_user
    assert request.status == "pending"


def test_a_second_apply_of_the_same_import_is_refused(marketing_user, products):
    preview = services.sales_import_preview(actor=marketing_user, filename="s.csv", content=GOOD)
    services.sales_import_apply(actor=marketing_user, import_id=preview.pk)
    with pytest.raises(ValidationError, match="was already imported on"):
        services.sales_import_apply(actor=marketing_user, import_id=preview.pk)
    assert history() == GOOD_HISTORY
    assert RecomputeRequest.objects.count() == 1


def test_reimporting_the_same_file_is_idempotent(marketing_user, products):
    first = services.sales_import_preview(actor=marketing_user, filename="s.csv", content=GOOD)
    services.sales_import_apply(actor=marketing_user, import_id=first.pk)
    ids_before = sorted(SalesActual.objects.values_list("pk", flat=True))
    again = services.sales_import_preview(actor=marketing_user, filename="s.csv", content=GOOD)
    again = services.sales_import_apply(actor=marketing_user, import_id=again.pk)
    assert (again.created_count, again.updated_count) == (0, 3)
    assert history() == GOOD_HISTORY
    assert sorted(SalesActual.objects.values_list("pk", flat=True)) == ids_before
    assert RecomputeRequest.objects.count() == 2  # one per applied import


def test_a_corrected_file_updates_and_adds(marketing_user, products):
    services.sales_import_rows(actor=marketing_user, rows=GOOD, source="command")
    record = services.sales_import_rows(
        actor=marketing_user,
        rows="sku,week,units\nBEV-1001,2024-W01,20\nBEV-1001,2024-W03,5\n",
        source="command",
    )
    assert (record.created_count, record.updated_count) == (1, 1)
    assert history() == [
        ("BEV-1001", W1, 20),
        ("BEV-1001", W2, 7),
        ("BEV-1001", W3, 5),
        ("JCE-2002", W3, 0),
    ]


MISSING_UNITS = (
    'Missing column "units" (also accepted: quantity, qty, units_sold). The first line '
    "must name the columns sku, week and units."
)


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        (
            "sku,week,units\nBEV-1001,2024-W01,1\nBEV-9999,2024-W01,1\n",
            [(3, "sku", "No product has the SKU 'BEV-9999'.")],
        ),
        (
            "sku,week,units\nBEV-1001,2024-W01,1\nBEV-1001,01/02/2024,1\n",
            [
                (
                    3,
                    "week",
                    "Enter a week as 2026-W48 or a date as 2026-11-23; got '01/02/2024'.",
                )
            ],
        ),
        (
            "sku,week,units\nBEV-1001,2024-W01,1\nJCE-2002,2024-W01,-3\n",
            [(3, "units", "The units cannot be negative; got -3.")],
        ),
        (
            "sku,week,units\nBEV-1001,2024-W01,1\nJCE-2002,2024-W01,1.5\n",
            [(3, "units", "The units must be a whole number; got '1.5'.")],
        ),
        (
            "sku,week,units\nBEV-1001,2024-W01,1\nJCE-2002,2024-W01,1\nBEV-1001,2024-01-05,2\n",
            [(4, "week", "Duplicate of line 2: BEV-1001 already has a row for 2024-W01.")],
        ),
        ("sku,week\nBEV-1001,2024-W01\n", [(1, "units", MISSING_UNITS)]),
        (
            "",
            [
                (
                    1,
                    "",
                    "The file is empty: the first line must name the columns sku, week and units.",
                )
            ],
        ),
        (
            f"sku,week,units\nBEV-1001,{NEXT_YEAR}-W01,1\n",
            [
                (
                    2,
                    "week",
                    f"{NEXT_YEAR}-W01 has not started yet: sales can only be imported for past "
                    "and current weeks.",
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
def test_a_bad_row_rejects_the_file_and_saves_nothing(marketing_user, products, content, errors):
    record = services.sales_import_preview(
        actor=marketing_user, filename="bad.csv", content=content
    )
    record.refresh_from_db()
    assert record.status == "rejected"
    assert stored_errors(record) == errors
    assert record.content == ""
    assert SalesActual.objects.count() == 0
    with pytest.raises(ValidationError, match="has errors and cannot be imported"):
        services.sales_import_apply(actor=marketing_user, import_id=record.pk)
    assert SalesActual.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0
    with pytest.raises(ImportRejected) as info:
        services.sales_import_rows(actor=marketing_user, rows=content, source="command")
    assert [(e.position, e.column, e.message) for e in info.value.row_errors] == errors
    assert SalesActual.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_a_semicolon_file_with_byte_order_mark(marketing_user, products):
    content = "\ufeffSKU;Week;Quantity\r\nBEV-1001;2024-W01;12\r\nJCE-2002;2024-W03;4\r\n"
    record = services.sales_import_preview(
        actor=marketing_user, filename="excel.csv", content=content.encode("utf-8")
    )
    assert record.status == "previewed"
    record = services.sales_import_apply(actor=marketing_user, import_id=record.pk)
    assert record.created_count == 2
    assert history() == [("BEV-1001", W1, 12), ("JCE-2002", W3, 4)]


def test_apply_rechecks_products_changed_since_the_preview(marketing_user, products):
    record = services.sales_import_preview(actor=marketing_user, filename="s.csv", content=GOOD)
    Product.objects.filter(sku="JCE-2002").delete()
    with pytest.raises(ImportRejected) as info:
        services.sales_import_apply(actor=marketing_user, import_id=record.pk)
    assert info.value.message_dict == {"4.sku": ["No product has the SKU 'JCE-2002'."]}
    record.refresh_from_db()
    assert record.status == "previewed"
    assert SalesActual.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_importing_needs_the_sales_import_permission(production_user, marketing_user, products):
    record = services.sales_import_preview(actor=marketing_user, filename="s.csv", content=GOOD)
    with pytest.raises(PermissionDenied):
        services.sales_import_preview(actor=production_user, filename="s.csv", content=GOOD)
    with pytest.raises(PermissionDenied):
        services.sales_import_apply(actor=production_user, import_id=record.pk)
    with pytest.raises(PermissionDenied):
        services.sales_import_rows(actor=production_user, rows=GOOD, source="api")
    assert SalesImport.objects.count() == 1
    assert SalesActual.objects.count() == 0


def test_rows_in_one_go_record_a_rejected_import_unless_dry_run(marketing_user, products):
    items = [{"sku": "BEV-1001", "week": "2024-W01", "units": -1}]
    with pytest.raises(ImportRejected):
        services.sales_import_rows(actor=marketing_user, rows=items, source="api", dry_run=True)
    assert SalesImport.objects.count() == 0
    with pytest.raises(ImportRejected) as info:
        services.sales_import_rows(actor=marketing_user, rows=items, source="api")
    record = SalesImport.objects.get()
    assert info.value.record == record
    assert (record.status, record.source, record.filename) == ("rejected", "api", "api import")
    assert record.errors == [
        {"item": 0, "column": "units", "message": "The units cannot be negative; got -1."}
    ]
    checked = services.sales_import_rows(
        actor=marketing_user, rows=GOOD, source="command", dry_run=True
    )
    assert (checked.pk, checked.status, checked.row_count) == (None, "previewed", 3)
    assert SalesActual.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


# ------------------------------------------------------------------------ command


@pytest.fixture
def csv_file(tmp_path):
    def write(text, name="sales.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_command_imports_a_file_and_prints_the_summary(admin_user, products, csv_file, capsys):
    path = csv_file(GOOD)
    call_command("import_sales", path)
    out = capsys.readouterr().out
    assert out.startswith(
        "Imported 3 rows for 2 products, weeks 2024-W01 to 2024-W03: 3 new, 0 updated, in "
    )
    assert history() == GOOD_HISTORY
    record = SalesImport.objects.get()
    assert (record.source, record.filename, record.uploaded_by) == (
        "command",
        "sales.csv",
        admin_user,
    )
    assert RecomputeRequest.objects.get().source == "sales_import"


def test_command_lists_every_error_by_line_and_exits_non_zero(
    admin_user, products, csv_file, capsys
):
    path = csv_file("sku,week,units\nBEV-1001,2024-W01,x\nNOPE-1,2024-W01,1\n")
    with pytest.raises(CommandError) as info:
        call_command("import_sales", path)
    assert info.value.returncode == 1
    assert str(info.value) == f"{path} was rejected. Nothing was imported: 2 errors."
    assert capsys.readouterr().err.splitlines() == [
        "line 2, units: The units must be a whole number; got 'x'.",
        "line 3, sku: No product has the SKU 'NOPE-1'.",
    ]
    assert SalesActual.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_command_dry_run_saves_nothing(admin_user, products, csv_file, capsys):
    call_command("import_sales", csv_file(GOOD), "--dry-run")
    assert "is valid: 3 rows for 2 products, weeks 2024-W01 to 2024-W03. Nothing was saved" in (
        capsys.readouterr().out
    )
    assert SalesActual.objects.count() == 0
    assert SalesImport.objects.count() == 0


def test_command_needs_a_user_with_the_permission(
    products, csv_file, marketing_user, production_user
):
    path = csv_file(GOOD)
    with pytest.raises(CommandError, match="No user to record as the importer"):
        call_command("import_sales", path)
    with pytest.raises(CommandError, match="petra: Your role may not import sales history"):
        call_command("import_sales", path, "--user", production_user.username)
    call_command("import_sales", path, "--user", marketing_user.username)
    assert SalesImport.objects.get().uploaded_by == marketing_user
    with pytest.raises(CommandError, match="Cannot read /nonexistent"):
        call_command("import_sales", "/nonexistent.csv", "--user", "mara")


# ---------------------------------------------------------------------------- API

API = "/api/v1/sales-actuals/"


def post(client, body):
    return client.post(API, data=json.dumps(body), content_type="application/json")


def test_api_post_imports_the_list(client, sales_user, products):
    client.force_login(sales_user)
    items = [
        {"sku": "BEV-1001", "week": "2024-W01", "units": 12},
        {"sku": "bev-1001", "week": "2024-01-10", "units": "7"},
        {"sku": "JCE-2002", "week": "2024-W03", "units": 0},
    ]
    response = post(client, items)
    assert response.status_code == 201
    record = SalesImport.objects.get()
    assert response.json() == {
        "id": record.pk,
        "status": "applied",
        "rows": 3,
        "created": 3,
        "updated": 0,
        "products": 2,
        "first_week": "2024-01-01",
        "last_week": "2024-01-15",
        "seconds": record.seconds,
    }
    assert history() == GOOD_HISTORY
    assert RecomputeRequest.objects.get().product_ids == sorted(products.values())
    again = post(client, items)
    assert (again.status_code, again.json()["created"], again.json()["updated"]) == (201, 0, 3)


def test_api_post_lists_every_error_by_index(client, marketing_user, products):
    client.force_login(marketing_user)
    response = post(
        client,
        [
            {"sku": "BEV-1001", "week": "2024-W01", "units": 1},
            {"sku": "BEV-1001", "week": "2024-W01", "units": 2},
            {"sku": "NOPE-1", "week": "soon", "units": -1},
            "BEV-1001",
        ],
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Nothing was imported: 5 errors. Each key in fields is "
            "<item index>.<field>.",
            "fields": {
                "1.week": ["Duplicate of item 0: BEV-1001 already has a row for 2024-W01."],
                "2.sku": ["No product has the SKU 'NOPE-1'."],
                "2.week": ["Enter a week as 2026-W48 or a date as 2026-11-23; got 'soon'."],
                "2.units": ["The units cannot be negative; got -1."],
                "3": ["Each item must be an object with sku, week and units; got str."],
            },
        }
    }
    assert SalesActual.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0
    assert SalesImport.objects.get().status == "rejected"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"sku": "BEV-1001"}, "invalid", "Send a JSON list of objects with sku, week and units."),
        ("[{", "parse_error", None),
        (
            [{"sku": "BEV-1001", "week": "2024-W01", "units": 1}] * 100_001,
            "too_many_items",
            "At most 100,000 items per request; this one has 100,001. "
            "Send the rest in another request.",
        ),
    ],
    ids=["not-a-list", "malformed", "too-many"],
)
def test_api_post_refuses_bodies_it_cannot_take(
    client, marketing_user, products, body, code, message
):
    client.force_login(marketing_user)
    data = body if isinstance(body, str) else json.dumps(body)
    response = client.post(API, data=data, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    if message:
        assert error["message"] == message
    else:
        assert error["message"].startswith("JSON parse error")
    assert SalesActual.objects.count() == 0
    assert SalesImport.objects.count() == 0


def test_api_post_refuses_a_body_over_the_limit(client, marketing_user, products, monkeypatch):
    monkeypatch.setattr(BulkJSONParser, "max_bytes", 100)
    client.force_login(marketing_user)
    response = post(client, [{"sku": "BEV-1001", "week": "2024-W01", "units": 1}] * 3)
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "too_large",
            "message": "The request body is over 0 MB; send fewer items per request.",
            "fields": {},
        }
    }
    assert SalesImport.objects.count() == 0


def test_api_post_empty_list(client, marketing_user, products):
    client.force_login(marketing_user)
    response = post(client, [])
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "0": ["Send at least one item with sku, week and units."]
    }


def test_api_refuses_production_posting_and_anonymous_users(client, production_user, products):
    item = [{"sku": "BEV-1001", "week": "2024-W01", "units": 1}]
    anonymous = post(client, item)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert client.get(API).status_code == 401
    client.force_login(production_user)
    refused = post(client, item)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert client.get(API).status_code == 200  # every role reads the sales history
    assert SalesActual.objects.count() == 0
    assert SalesImport.objects.count() == 0


def test_api_lists_by_sku_then_week_with_filters(client, quality_user, marketing_user, products):
    services.sales_import_rows(
        actor=marketing_user,
        rows="sku,week,units\nJCE-2002,2024-W01,3\nBEV-1001,2024-W02,7\nBEV-1001,2024-W01,12\n",
        source="command",
    )
    client.force_login(quality_user)
    body = client.get(API).json()
    assert body["count"] == 3
    assert [(r["sku"], r["week"], r["iso_week"], r["units"]) for r in body["results"]] == [
        ("BEV-1001", "2024-01-01", "2024-W01", 12),
        ("BEV-1001", "2024-01-08", "2024-W02", 7),
        ("JCE-2002", "2024-01-01", "2024-W01", 3),
    ]
    one = client.get(API, {"product": "bev-1001", "from": "2024-W02", "to": "2024-01-14"}).json()
    assert [(r["sku"], r["week"]) for r in one["results"]] == [("BEV-1001", "2024-01-08")]
    paged = client.get(API, {"page_size": 2, "page": 2}).json()
    assert [r["sku"] for r in paged["results"]] == ["JCE-2002"]
    bad = client.get(API, {"from": "last week"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {
        "from": ["Enter a week as 2026-W48 or a date as 2026-11-23; got 'last week'."]
    }


# ------------------------------------------------------------------------- views


def upload(client, text, name="sales.csv", **extra):
    file = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    return client.post(reverse("sales_import"), {"file": file}, **extra)


def test_upload_preview_apply_in_the_browser(client, marketing_user, products):
    client.force_login(marketing_user)
    page = client.get(reverse("sales_import"))
    assert page.status_code == 200
    assert "No sales history imported yet." in page.content.decode()

    response = upload(client, GOOD)
    record = SalesImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sales_import_preview", args=[record.pk])
    preview = client.get(response["Location"])
    html = preview.content.decode()
    assert preview.status_code == 200
    assert [row["sku"] for row in preview.context["sample"]] == ["BEV-1001", "BEV-1001", "JCE-2002"]
    assert "Import 3 rows" in html
    assert "Importing…" in html
    assert SalesActual.objects.count() == 0

    applied = client.post(reverse("sales_import_apply", args=[record.pk]), follow=True)
    html = applied.content.decode()
    assert applied.redirect_chain == [(reverse("sales_import_preview", args=[record.pk]), 302)]
    assert "Imported 3 rows of sales.csv: 3 new, 0 updated." in html
    assert "Import 3 rows" not in html
    assert history() == GOOD_HISTORY
    assert RecomputeRequest.objects.count() == 1

    again = client.post(reverse("sales_import_apply", args=[record.pk]), follow=True)
    assert "sales.csv was already imported on" in again.content.decode()
    assert RecomputeRequest.objects.count() == 1
    listing = client.get(reverse("sales_import")).content.decode()
    assert "sales.csv" in listing
    assert "Applied" in listing


def test_htmx_upload_redirects_and_htmx_apply_returns_the_result_panel(
    client, sales_user, products
):
    client.force_login(sales_user)
    response = upload(client, GOOD, **HTMX)
    record = SalesImport.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("sales_import_preview", args=[record.pk])
    applied = client.post(reverse("sales_import_apply", args=[record.pk]), **HTMX)
    html = applied.content.decode()
    assert applied.status_code == 200
    assert html.lstrip().startswith('<div id="import-panel">')
    assert "<h1>" not in html
    assert "Imported" in html
    assert "<dt>New rows</dt><dd>3</dd>" in html
    assert SalesActual.objects.count() == 3


def test_a_bad_upload_lists_every_error_and_saves_nothing(client, marketing_user, products):
    client.force_login(marketing_user)
    response = upload(
        client, "sku,week,units\nBEV-1001,2024-W01,-1\nNOPE-1,2024-W01,2\n", follow=True
    )
    html = response.content.decode()
    assert response.context["errors"] == [
        {
            "position": 2,
            "line": 2,
            "column": "units",
            "message": "The units cannot be negative; got -1.",
        },
        {"position": 3, "line": 3, "column": "sku", "message": "No product has the SKU 'NOPE-1'."},
    ]
    assert "Rejected: nothing was saved" in html
    assert "The units cannot be negative; got -1." in html
    assert "No product has the SKU &#x27;NOPE-1&#x27;." in html
    assert "Import 2 rows" not in html
    assert SalesActual.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_an_upload_over_the_size_limit_is_refused(client, marketing_user, products, monkeypatch):
    monkeypatch.setattr(views, "MAX_UPLOAD_BYTES", 1_000_000)
    client.force_login(marketing_user)
    response = upload(client, "sku,week,units\n" + "BEV-1001,2024-W01,1\n" * 60_000)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is 1.2 MB; the limit is 1 MB. Split it, or import it with the manage.py "
        "command or the API."
    ]
    assert SalesImport.objects.count() == 0


def test_pages_need_the_sales_import_permission(client, production_user, quality_user, products):
    anonymous = client.get(reverse("sales_import"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    for user in (production_user, quality_user):
        client.force_login(user)
        assert client.get(reverse("sales_import")).status_code == 403
        assert upload(client, GOOD).status_code == 403
    assert SalesImport.objects.count() == 0
    client.force_login(production_user)
    assert client.get(reverse("sales_import_preview", args=[1])).status_code == 403
    assert client.post(reverse("sales_import_apply", args=[1])).status_code == 403


def test_apply_is_post_only(client, marketing_user, products):
    record = services.sales_import_preview(actor=marketing_user, filename="s.csv", content=GOOD)
    client.force_login(marketing_user)
    assert client.get(reverse("sales_import_apply", args=[record.pk])).status_code == 405
    assert client.get(reverse("sales_import_preview", args=[record.pk + 1])).status_code == 404
    assert SalesActual.objects.count() == 0
