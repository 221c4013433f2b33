"""Sales history imported from real .xlsx workbooks: service, browser pages and command,
with every kind of bad workbook refused with its message and nothing saved."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from demand import xlsx
from demand.csv_import import ImportRejected
from demand.models import SalesActual, SalesImport
from demand.services import sales_import as services
from demand.xlsx import WorkbookRefused
from tests.factories import ProductFactory
from tests.workbooks import XLSX, full_height_sheet, macro_workbook, workbook, zip_bomb

pytestmark = pytest.mark.django_db

W1, W2, W3 = dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)
GOOD_ROWS = (
    ("SKU", "Week", "Units"),
    ("BEV-1001", dt.datetime(2024, 1, 3), 12.0),  # a real Excel date; 12.0 as Excel keeps 12
    (),
    ("BEV-1001", "2024-W02", 7),
    ("jce-2002", "2024-01-17", 0),  # a date typed as text
)
GOOD_HISTORY = [("BEV-1001", W1, 12), ("BEV-1001", W2, 7), ("JCE-2002", W3, 0)]
BAD_ROWS = (
    ("sku", "week", "units", "note"),
    ("BEV-1001", "2024-W01", "=3*4", "=A2"),  # a formula where the units belong
    ("BEV-1001", "2024-W02", 12.5),
    ("NOPE-1", "2024-W03", 1),
    ("JCE-2002", "23/11/2024", 1),
)
BAD_ERRORS = [
    (
        2,
        "units",
        "The units cell holds a formula ('=3*4'), not a value; type the value, or copy the "
        "column and paste it as values only.",
    ),
    (3, "units", "The units must be a whole number; got '12.5'."),
    (4, "sku", "No product has the SKU 'NOPE-1'."),
    (
        5,
        "week",
        "Enter a week as 2026-W48 or a date as 2026-11-23; got '23/11/2024'.",
    ),
]
RENAMED_CSV = (
    "sales.xlsx is not an Excel workbook: its content is not that of an .xlsx file (a CSV "
    "file renamed?). Upload it with a .csv name, or open it in Excel and save it as Excel "
    "Workbook (.xlsx)."
)
MACROS = (
    "This workbook contains macros (.xlsm), which Tandem does not accept. Save it as Excel "
    "Workbook (.xlsx) without macros, or as CSV UTF-8."
)


@pytest.fixture
def products():
    return {sku: ProductFactory(sku=sku).pk for sku in ("BEV-1001", "JCE-2002")}


def history():
    return sorted(
        SalesActual.objects.values_list("product__sku", "week", "units").order_by(
            "product__sku", "week"
        )
    )


# ------------------------------------------------------------------------ services


def test_a_workbook_is_previewed_by_sheet_row_and_applied(marketing_user, products):
    record = services.sales_import_preview(
        actor=marketing_user, filename="sales.xlsx", content=workbook(*GOOD_ROWS)
    )
    record.refresh_from_db()
    assert record.status == "previewed"
    assert (record.row_count, record.products_count) == (3, 2)
    assert (record.first_week, record.last_week) == (W1, W3)
    # Kept as CSV text whose lines are the sheet's rows, so the apply step reads it as CSV.
    assert record.content == (
        "sku,week,units\nBEV-1001,2024-W01,12\n\nBEV-1001,2024-W02,7\nJCE-2002,2024-W03,0\n"
    )
    assert [row["line"] for row in services.sales_import_sample(record)] == [2, 4, 5]
    assert SalesActual.objects.count() == 0

    applied = services.sales_import_apply(actor=marketing_user, import_id=record.pk)
    assert (applied.status, applied.created_count, applied.updated_count) == ("applied", 3, 0)
    assert history() == GOOD_HISTORY


def test_a_named_sheet_is_imported(marketing_user, products):
    data = workbook(("notes",), ("see the other sheet",), sheets={"Week 2": GOOD_ROWS})
    record = services.sales_import_rows(
        actor=marketing_user, rows=data, source="command", filename="s.xlsx", sheet="Week 2"
    )
    assert (record.status, record.created_count) == ("applied", 3)
    assert history() == GOOD_HISTORY


def test_bad_rows_are_named_by_sheet_and_row_and_nothing_is_saved(marketing_user, products):
    data = workbook(*BAD_ROWS, title="Sales")
    with pytest.raises(ImportRejected) as caught:
        services.sales_import_rows(
            actor=marketing_user, rows=data, source="command", filename="bad.xlsx"
        )
    rejection = caught.value
    assert [(e.position, e.column, e.message) for e in rejection.row_errors] == BAD_ERRORS
    assert rejection.sheet == "Sales"
    assert rejection.position_title == "Sheet, row"
    assert [item["place"] for item in rejection.listed()] == [
        "Sales, row 2, units",
        "Sales, row 3, units",
        "Sales, row 4, sku",
        "Sales, row 5, week",
    ]
    record = SalesImport.objects.get()
    assert record.status == "rejected"
    assert record.errors[0] == {
        "row": 2,
        "sheet": "Sales",
        "column": "units",
        "message": BAD_ERRORS[0][2],
    }
    assert SalesActual.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "filename", "code", "message"),
    [
        (b"sku,week,units\nBEV-1001,2024-W01,1\n", "sales.xlsx", "not_a_workbook", RENAMED_CSV),
        (macro_workbook(), "sales.xlsm", "macros", MACROS),
    ],
    ids=["renamed-csv", "macros"],
)
def test_a_file_that_is_no_workbook_is_refused_and_nothing_is_recorded(
    marketing_user, products, content, filename, code, message
):
    for call in (
        lambda: services.sales_import_rows(
            actor=marketing_user, rows=content, source="api", filename=filename
        ),
        lambda: services.sales_import_preview(
            actor=marketing_user, filename=filename, content=content
        ),
    ):
        with pytest.raises(WorkbookRefused) as caught:
            call()
        assert (caught.value.code, caught.value.message_dict) == (code, {"file": [message]})
    assert SalesImport.objects.count() == 0
    assert SalesActual.objects.count() == 0


# ------------------------------------------------------------------------- browser


def upload(client, content: bytes, name="sales.xlsx", sheet=""):
    file = SimpleUploadedFile(name, content, content_type=XLSX)
    return client.post(reverse("sales_import"), {"file": file, "sheet": sheet})


def test_upload_a_workbook_preview_and_apply_in_the_browser(client, marketing_user, products):
    client.force_login(marketing_user)
    page = client.get(reverse("sales_import"))
    assert 'accept=".csv,.xlsx,' in page.content.decode()
    assert "Sheet (Excel only)" in page.content.decode()
    response = upload(client, workbook(*GOOD_ROWS))
    record = SalesImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sales_import_preview", args=[record.pk])
    assert (record.filename, record.status, record.row_count) == ("sales.xlsx", "previewed", 3)
    applied = client.post(reverse("sales_import_apply", args=[record.pk]))
    assert applied.status_code == 302
    assert history() == GOOD_HISTORY


def test_a_workbook_with_bad_rows_shows_each_by_sheet_and_row(client, marketing_user, products):
    client.force_login(marketing_user)
    response = upload(client, workbook(*BAD_ROWS, title="Sales"))
    record = SalesImport.objects.get()
    assert record.status == "rejected"
    page = client.get(response["Location"]).content.decode()
    assert '<th scope="col" class="where">Sheet, row</th>' in page
    assert '<td class="where">Sales, row 2</td><td>units</td>' in page
    assert escape(BAD_ERRORS[0][2]) in page
    assert SalesActual.objects.count() == 0


def bomb_message():
    return (
        "This workbook unpacks to 301 MB; the limit is 300 MB. Split it, or save it as CSV UTF-8."
    )


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (lambda: b"sku,week,units\nBEV-1001,2024-W01,1\n", "sales.xlsx", RENAMED_CSV),
        (macro_workbook, "sales.xlsx", MACROS),
        (lambda: zip_bomb(301_000_000), "sales.xlsx", bomb_message()),
        (
            lambda: workbook(*GOOD_ROWS),
            "sales.xlsx",
            "The workbook has no sheet called 'Nope'; its sheets are 'Sheet1'.",
        ),
    ],
    ids=["renamed-csv", "macros", "zip-bomb", "unknown-sheet"],
)
def test_a_refused_workbook_is_said_at_the_file_field_and_nothing_is_saved(
    client, marketing_user, products, make, name, message
):
    client.force_login(marketing_user)
    sheet = "Nope" if "Nope" in message else ""
    response = upload(client, make(), name, sheet=sheet)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"file": [message]}
    assert escape(message) in response.content.decode()
    assert SalesImport.objects.count() == 0
    assert SalesActual.objects.count() == 0


def test_a_sheet_of_1048576_rows_is_refused_past_the_row_limit(
    client, marketing_user, products, monkeypatch
):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 1_000)
    client.force_login(marketing_user)
    # Every row repeats BEV-1001 2024-W01: 999 duplicate errors before the limit, which
    # is still what the page says, at the file.
    response = upload(client, full_height_sheet())
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": [
            "The sheet goes on past row 1,001: at most 1,000 rows are imported from a "
            "workbook. Split it into several files, or save it as CSV UTF-8 (no row limit)."
        ]
    }
    assert SalesImport.objects.count() == 0
    assert SalesActual.objects.count() == 0


# ------------------------------------------------------------------------- command


def test_the_command_imports_a_workbook_sheet(tmp_path, admin_user, products, capsys):
    path = tmp_path / "sales.xlsx"
    path.write_bytes(workbook(("a",), sheets={"Data": GOOD_ROWS}))
    call_command("import_sales", str(path), "--sheet", "Data")
    assert capsys.readouterr().out.startswith(
        "Imported 3 rows for 2 products, weeks 2024-W01 to 2024-W03: 3 new, 0 updated, in "
    )
    assert history() == GOOD_HISTORY


def test_the_command_lists_bad_rows_by_sheet_and_row(tmp_path, admin_user, products, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook(*BAD_ROWS, title="Sales"))
    with pytest.raises(CommandError) as raised:
        call_command("import_sales", str(path))
    assert str(raised.value) == f"{path} was rejected. Nothing was imported: 4 errors."
    assert capsys.readouterr().err.splitlines() == [
        f"Sales, row {row}, {column}: {message}" for row, column, message in BAD_ERRORS
    ]
    assert SalesActual.objects.count() == 0


def test_the_command_refuses_a_renamed_csv(tmp_path, admin_user, products):
    path = tmp_path / "sales.xlsx"
    path.write_text("sku,week,units\nBEV-1001,2024-W01,1\n", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("import_sales", str(path))
    assert str(raised.value) == f"{path} was refused: {RENAMED_CSV}"
    assert SalesImport.objects.count() == 0


# ----------------------------------------------------------------------------- API

API = "/api/v1/sales-actuals/"


def api_post(client, content: bytes, query: str = "", **headers):
    return client.post(API + query, data=content, content_type=XLSX, **headers)


def test_the_api_imports_a_workbook_body(client, sales_user, products):
    client.force_login(sales_user)
    data = workbook(("x",), sheets={"Sales": GOOD_ROWS})
    response = api_post(client, data, "?sheet=Sales")
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
    assert (record.source, record.filename) == ("api", "API request")
    assert history() == GOOD_HISTORY


def test_the_api_lists_a_workbooks_bad_rows_by_row_and_column(client, marketing_user, products):
    client.force_login(marketing_user)
    response = api_post(client, workbook(*BAD_ROWS, title="Sales"))
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Nothing was imported: 4 errors. Each key in fields is "
            "<row>.<column> of the sheet 'Sales'.",
            "fields": {f"{row}.{column}": [message] for row, column, message in BAD_ERRORS},
        }
    }
    assert SalesActual.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "query", "message"),
    [
        (
            b"sku,week,units\nBEV-1001,2024-W01,1\n",
            "",
            "The body is not an .xlsx workbook. Send the workbook's bytes as they are, or "
            "the rows as a JSON list.",
        ),
        (b"", "", None),
        (macro_workbook(), "", MACROS),
        (
            workbook(*GOOD_ROWS),
            "?sheet=Nope",
            "The workbook has no sheet called 'Nope'; its sheets are 'Sheet1'.",
        ),
    ],
    ids=["csv-as-xlsx", "empty", "macros", "unknown-sheet"],
)
def test_the_api_refuses_a_body_that_is_no_workbook(
    client, marketing_user, products, content, query, message
):
    client.force_login(marketing_user)
    response = api_post(client, content, query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    expected = message or (
        "The body is not an .xlsx workbook. Send the workbook's bytes as they are, or the "
        "rows as a JSON list."
    )
    if content:
        assert error["fields"] == {"file": [expected]}
    else:  # no body at all: no parser runs, and the list the endpoint wants is asked for
        assert (error["message"], error["fields"]) == (
            "Send a JSON list of objects with sku, week and units.",
            {},
        )
    assert SalesImport.objects.count() == 0
    assert SalesActual.objects.count() == 0


def test_the_api_replays_a_workbook_post_with_the_same_idempotency_key(
    client, sales_user, products
):
    client.force_login(sales_user)
    data = workbook(*GOOD_ROWS)
    first = api_post(client, data, HTTP_IDEMPOTENCY_KEY="import-1")
    again = api_post(client, data, HTTP_IDEMPOTENCY_KEY="import-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert SalesImport.objects.count() == 1
    other = api_post(client, workbook(*GOOD_ROWS[:2]), HTTP_IDEMPOTENCY_KEY="import-1")
    assert other.status_code == 422


def test_the_command_refuses_a_sheet_past_the_row_limit(
    tmp_path, admin_user, products, monkeypatch
):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 10)
    path = tmp_path / "big.xlsx"
    path.write_bytes(full_height_sheet())
    with pytest.raises(CommandError) as raised:
        call_command("import_sales", str(path))
    assert str(raised.value) == (
        f"{path} was refused: The sheet goes on past row 11: at most 10 rows are imported "
        "from a workbook. Split it into several files, or save it as CSV UTF-8 (no row limit)."
    )
    assert SalesImport.objects.count() == 0
