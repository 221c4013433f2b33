"""Budgets imported from real .xlsx workbooks: months as Excel dates or text, figures as
Excel numbers; bad rows named by sheet and row; refused workbooks save nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from demand.csv_import import ImportRejected
from planning.models import Budget
from planning.services import budget_import
from tests.factories import ProductLineFactory
from tests.workbooks import XLSX, macro_workbook, workbook

pytestmark = pytest.mark.django_db

JAN, FEB = dt.date(2027, 1, 1), dt.date(2027, 2, 1)
GOOD_ROWS = (
    ("Product line", "Month", "Revenue", "Units"),
    ("Iced teas", dt.datetime(2027, 1, 1), 125000.5, 50000.0),  # Excel date and numbers
    ("iced TEAS", "2027-02", 0, 0),  # the month typed as text
    ("Sparkling waters", dt.date(2027, 1, 1), 80000, 40000),
)


@pytest.fixture
def lines():
    return ProductLineFactory(name="Iced teas"), ProductLineFactory(name="Sparkling waters")


def budgets():
    return sorted(Budget.objects.values_list("product_line__name", "month", "revenue", "units"))


def test_a_workbook_imports_every_row(production_user, lines):
    result = budget_import(actor=production_user, rows=workbook(*GOOD_ROWS), filename="b.xlsx")
    assert (result.rows, result.created, result.updated) == (3, 3, 0)
    assert budgets() == [
        ("Iced teas", JAN, Decimal("125000.50"), 50000),
        ("Iced teas", FEB, Decimal("0.00"), 0),
        ("Sparkling waters", JAN, Decimal("80000.00"), 40000),
    ]


def test_bad_rows_are_named_by_sheet_and_row_and_nothing_is_saved(production_user, lines):
    data = workbook(
        ("product_line", "month", "revenue", "units"),
        ("Iced teas", dt.datetime(2027, 1, 15), 1, 1),  # a date that is not a month's 1st
        ("Iced teas", "2027-02", "=B2*2", 1),
        ("Iced teas", "2027-03", 10.125, 1.5),
        title="Budget 2027",
    )
    with pytest.raises(ImportRejected) as caught:
        budget_import(actor=production_user, rows=data, filename="b.xlsx")
    assert [item["place"] + ": " + item["message"] for item in caught.value.listed()] == [
        "Budget 2027, row 2, month: Write the month as YYYY-MM, e.g. 2027-01; got '2027-01-15'.",
        "Budget 2027, row 3, revenue: The revenue cell holds a formula ('=B2*2'), not a "
        "value; type the value, or copy the column and paste it as values only.",
        "Budget 2027, row 4, revenue: The revenue has at most two decimals (cents); got 10.125.",
        "Budget 2027, row 4, units: The units must be a whole number; got 1.5.",
    ]
    assert Budget.objects.count() == 0


def post(client, content: bytes, name: str = "b.xlsx"):
    upload = SimpleUploadedFile(name, content, content_type=XLSX)
    return client.post(reverse("planning_budget_import"), {"file": upload, "sheet": ""})


def test_import_page_imports_a_workbook(client, production_user, lines):
    client.force_login(production_user)
    response = post(client, workbook(*GOOD_ROWS))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('planning_budgets')}?year=2027"
    assert Budget.objects.count() == 3


def test_import_page_lists_bad_rows_by_sheet_and_row(client, production_user, lines):
    client.force_login(production_user)
    response = post(
        client,
        workbook(
            ("product_line", "month", "revenue", "units"),
            ("Iced teas", "2027-01", "x", 1),
            title="B",
        ),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert '<th scope="col" class="where">Sheet, row</th>' in html
    assert '<td class="where">B, row 2</td><td>revenue</td>' in html
    assert escape("The revenue must be a number, e.g. 125000.00; got 'x'.") in html
    assert Budget.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"product_line,month,revenue,units\nIced teas,2027-01,1,1\n",
            "b.xlsx is not an Excel workbook: its content is not that of an .xlsx file (a "
            "CSV file renamed?). Upload it with a .csv name, or open it in Excel and save it "
            "as Excel Workbook (.xlsx).",
        ),
        (
            macro_workbook(),
            "This workbook contains macros (.xlsm), which Tandem does not accept. Save it as "
            "Excel Workbook (.xlsx) without macros, or as CSV UTF-8.",
        ),
    ],
    ids=["renamed-csv", "macros"],
)
def test_import_page_refuses_a_bad_workbook_at_the_field(
    client, production_user, lines, content, message
):
    client.force_login(production_user)
    response = post(client, content)
    assert response.status_code == 400
    assert response.context["form"].errors == {"file": [message]}
    assert escape(message) in response.content.decode()
    assert Budget.objects.count() == 0
