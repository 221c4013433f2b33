"""Budgets: the grid of a year (save, stale save, bad figures) and the CSV import (good
file, bad files with nothing saved), with exact values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from demand.csv_import import ImportRejected
from planning.models import Budget
from planning.services import BudgetCell, BudgetConflict, budget_grid_save, budget_import
from tests.factories import ProductLineFactory

pytestmark = pytest.mark.django_db

YEAR = 2027
JAN, FEB = dt.date(YEAR, 1, 1), dt.date(YEAR, 2, 1)


@pytest.fixture
def teas():
    return ProductLineFactory(name="Iced teas")


@pytest.fixture
def waters():
    return ProductLineFactory(name="Sparkling waters")


def _grid_post(teas, waters=None, **cells):
    """A full grid POST: every cell empty at version 0 unless given as
    name=(revenue, units, version)."""
    data = {"year": str(YEAR)}
    for line in [teas] + ([waters] if waters else []):
        for month in range(1, 13):
            key = f"{line.pk}_{YEAR}{month:02d}"
            data[f"revenue_{key}"], data[f"units_{key}"], data[f"version_{key}"] = "", "", "0"
    for key, (revenue, units, version) in cells.items():
        data[f"revenue_{key}"], data[f"units_{key}"] = revenue, units
        data[f"version_{key}"] = str(version)
    return data


def _key(line, month):
    return f"{line.pk}_{month:%Y%m}"


def _rows():
    return sorted(
        (b.product_line.name, b.month.isoformat(), b.revenue, b.units, b.version)
        for b in Budget.objects.select_related("product_line")
    )


# ---------------------------------------------------------------------------- grid


def test_grid_saves_new_and_changed_cells(client, production_user, teas):
    client.force_login(production_user)
    data = _grid_post(teas, **{_key(teas, JAN): ("125,000.50", "50000", 0)})
    response = client.post(reverse("planning_budgets"), data)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('planning_budgets')}?year={YEAR}"
    assert _rows() == [("Iced teas", "2027-01-01", Decimal("125000.50"), 50000, 1)]
    budget = Budget.objects.get()
    assert budget.updated_by == production_user

    data = _grid_post(
        teas,
        **{
            _key(teas, JAN): ("130000", "52000", 1),
            _key(teas, FEB): ("0", "0", 0),
        },
    )
    response = client.post(reverse("planning_budgets"), data)
    assert response.status_code == 302
    assert _rows() == [
        ("Iced teas", "2027-01-01", Decimal("130000.00"), 52000, 2),
        ("Iced teas", "2027-02-01", Decimal("0.00"), 0, 1),
    ]
    # Clearing both figures removes the budget.
    data = _grid_post(
        teas, **{_key(teas, JAN): ("130000.00", "52000", 2), _key(teas, FEB): ("", "", 1)}
    )
    assert client.post(reverse("planning_budgets"), data).status_code == 302
    assert _rows() == [("Iced teas", "2027-01-01", Decimal("130000.00"), 52000, 2)]


def test_grid_page_shows_values_and_is_read_only_for_sales(
    client, sales_user, production_user, teas
):
    Budget.objects.create(
        product_line=teas,
        month=JAN,
        revenue=Decimal("98765.40"),
        units=4321,
        updated_by=production_user,
    )
    client.force_login(sales_user)
    response = client.get(reverse("planning_budgets"), {"year": YEAR})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<td class="num">98,765.40</td><td class="num">4,321</td>' in html
    assert f'name="revenue_{_key(teas, JAN)}"' not in html
    refused = client.post(
        reverse("planning_budgets"), _grid_post(teas, **{_key(teas, JAN): ("1", "1", 1)})
    )
    assert refused.status_code == 403
    assert _rows() == [("Iced teas", "2027-01-01", Decimal("98765.40"), 4321, 1)]


def test_grid_is_editable_by_admin(client, admin_user, teas):
    client.force_login(admin_user)
    response = client.get(reverse("planning_budgets"), {"year": YEAR})
    assert f'name="revenue_{_key(teas, JAN)}"' in response.content.decode()


@pytest.mark.parametrize(
    ("revenue", "units", "field", "message"),
    [
        ("-5", "10", "revenue", "The revenue cannot be negative; got -5."),
        ("10", "-1", "units", "The units cannot be negative; got -1."),
        (
            "1000000000000.01",
            "10",
            "revenue",
            "The revenue must be at most 1,000,000,000,000 EUR; got 1000000000000.01.",
        ),
        (
            "10",
            "1000000000001",
            "units",
            "The units must be at most 1,000,000,000,000; got 1000000000001.",
        ),
        ("lots", "10", "revenue", "The revenue must be a number, e.g. 125000.00; got 'lots'."),
        ("10", "12.5", "units", "The units must be a whole number; got 12.5."),
        ("10.123", "10", "revenue", "The revenue has at most two decimals (cents); got 10.123."),
        (
            "10",
            "",
            "units",
            "Enter the units too (0 for none), or clear both figures: no budget.",
        ),
        ("1e5", "10", "revenue", "The revenue must be a number, e.g. 125000.00; got '1e5'."),
    ],
)
def test_grid_refuses_bad_figures_at_the_field(
    client, production_user, teas, revenue, units, field, message
):
    Budget.objects.create(
        product_line=teas, month=FEB, revenue=Decimal("5.00"), units=5, updated_by=production_user
    )
    client.force_login(production_user)
    data = _grid_post(
        teas, **{_key(teas, JAN): (revenue, units, 0), _key(teas, FEB): ("6", "6", 1)}
    )
    response = client.post(reverse("planning_budgets"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors == {
        f"{field}_{_key(teas, JAN)}": [message],
        "__all__": ["Nothing was saved: correct the marked cells and save again."],
    }
    # Nothing saved, not even the valid cell.
    assert _rows() == [("Iced teas", "2027-02-01", Decimal("5.00"), 5, 1)]


def test_stale_grid_save_shows_the_other_value_and_changes_nothing(
    client, production_user, admin_user, teas, waters
):
    jan = Budget.objects.create(
        product_line=teas,
        month=JAN,
        revenue=Decimal("100.00"),
        units=10,
        updated_by=production_user,
    )
    # Ada saves January while Petra has the grid open at version 1.
    budget_grid_save(actor=admin_user, cells=[BudgetCell(teas.pk, JAN, Decimal("150.00"), 15, 1)])
    client.force_login(production_user)
    data = _grid_post(
        teas,
        waters,
        **{_key(teas, JAN): ("120.00", "12", 1), _key(waters, FEB): ("70", "7", 0)},
    )
    response = client.post(reverse("planning_budgets"), data)
    assert response.status_code == 409
    form = response.context["form"]
    assert form.errors[f"revenue_{_key(teas, JAN)}"] == [
        f"Changed by {admin_user} while you were editing: now 150.00 EUR and 15 units "
        "(you entered 120.00 and 12 units). Nothing was saved."
    ]
    assert form.non_field_errors() == [
        "1 budget cell changed while you were editing; nothing was saved. Their current "
        "values are shown: check them and save again."
    ]
    html = response.content.decode()
    assert f'name="revenue_{_key(teas, JAN)}" value="150.00"' in html
    assert f'name="version_{_key(teas, JAN)}" value="2"' in html
    assert f'name="revenue_{_key(waters, FEB)}" value="70"' in html  # her other edit is kept
    jan.refresh_from_db()
    assert (jan.revenue, jan.units, jan.version, jan.updated_by) == (
        Decimal("150.00"),
        15,
        2,
        admin_user,
    )
    assert Budget.objects.count() == 1


def test_grid_save_of_a_cell_removed_meanwhile_is_a_conflict(production_user, teas):
    budget = Budget.objects.create(
        product_line=teas, month=JAN, revenue=Decimal("1.00"), units=1, updated_by=production_user
    )
    budget.delete()
    with pytest.raises(BudgetConflict) as raised:
        budget_grid_save(
            actor=production_user, cells=[BudgetCell(teas.pk, JAN, Decimal("2.00"), 2, 1)]
        )
    assert raised.value.current == {(teas.pk, JAN): None}
    assert Budget.objects.count() == 0


def test_unchanged_cells_are_not_conflicts(production_user, admin_user, teas):
    Budget.objects.create(
        product_line=teas,
        month=JAN,
        revenue=Decimal("1.00"),
        units=1,
        updated_by=admin_user,
        version=3,
    )
    saved = budget_grid_save(
        actor=production_user,
        cells=[
            BudgetCell(teas.pk, JAN, Decimal("1.00"), 1, 1),  # as stored: nothing to do
            BudgetCell(teas.pk, FEB, Decimal("9.00"), 9, 0),
        ],
    )
    assert (saved.created, saved.updated, saved.removed) == (1, 0, 0)
    assert _rows() == [
        ("Iced teas", "2027-01-01", Decimal("1.00"), 1, 3),
        ("Iced teas", "2027-02-01", Decimal("9.00"), 9, 1),
    ]


@pytest.mark.parametrize("version", ["x", "", "-1", "1.5", None])
def test_missing_or_malformed_version_is_refused(client, production_user, teas, version):
    client.force_login(production_user)
    data = _grid_post(teas, **{_key(teas, JAN): ("1", "1", 0)})
    if version is None:
        del data[f"version_{_key(teas, JAN)}"]
    else:
        data[f"version_{_key(teas, JAN)}"] = version
    response = client.post(reverse("planning_budgets"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.has_hidden_field_errors()
    assert "This form is out of date or incomplete." in response.content.decode()
    assert Budget.objects.count() == 0


def test_database_refuses_negative_budgets(production_user, teas):
    from django.db import IntegrityError, transaction

    for revenue, units in ((Decimal("-1"), 1), (Decimal("1"), -1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Budget.objects.create(
                product_line=teas,
                month=JAN,
                revenue=revenue,
                units=units,
                updated_by=production_user,
            )
    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.create(
            product_line=teas,
            month=dt.date(YEAR, 1, 2),
            revenue=1,
            units=1,
            updated_by=production_user,
        )
    assert Budget.objects.count() == 0


# --------------------------------------------------------------------------- import

GOOD = (
    "product_line,month,revenue,units\n"
    "Iced teas,2027-01,125000.50,50000\n"
    "iced TEAS,2027-02,0,0\n"
    'Sparkling waters,2027-01,"80,000",40000\n'
)


def test_import_saves_every_row(production_user, teas, waters):
    result = budget_import(actor=production_user, rows=GOOD.encode(), filename="b.csv")
    assert (result.rows, result.created, result.updated) == (3, 3, 0)
    assert (result.first_month, result.last_month) == (JAN, FEB)
    assert _rows() == [
        ("Iced teas", "2027-01-01", Decimal("125000.50"), 50000, 1),
        ("Iced teas", "2027-02-01", Decimal("0.00"), 0, 1),
        ("Sparkling waters", "2027-01-01", Decimal("80000.00"), 40000, 1),
    ]
    again = budget_import(
        actor=production_user,
        rows="Product Line;Month;Revenue;Units\nIced teas;2027-01;125000.50;50001\n",
        filename="b2.csv",
    )
    assert (again.rows, again.created, again.updated) == (1, 0, 1)
    assert _rows()[0] == ("Iced teas", "2027-01-01", Decimal("125000.50"), 50001, 2)


BAD = (
    "product_line,month,revenue,units\n"
    "Iced teas,2027-01,100,10\n"
    "Juices,2027-01,100,10\n"
    "Iced teas,2027-01,200,20\n"
    "Sparkling waters,2027-13,100,10\n"
    "Sparkling waters,2027-02,lots,ten\n"
    "Sparkling waters,2027-03,-5,-1\n"
    "Sparkling waters,Jan 2027,1,1\n"
)


def test_import_with_errors_saves_nothing_and_names_each_line(production_user, teas, waters):
    with pytest.raises(ImportRejected) as raised:
        budget_import(actor=production_user, rows=BAD, filename="bad.csv")
    exc = raised.value
    assert exc.summary == "Nothing was imported: 8 errors."
    assert [(e.position, e.column, e.message) for e in exc.row_errors] == [
        (3, "product_line", "No product line is called 'Juices'."),
        (4, "month", "Duplicate of line 2: Iced teas already has a row for 2027-01."),
        (5, "month", "No such month: '2027-13' (months are 01 to 12)."),
        (6, "revenue", "The revenue must be a number, e.g. 125000.00; got 'lots'."),
        (6, "units", "The units must be a number, e.g. 50000; got 'ten'."),
        (7, "revenue", "The revenue cannot be negative; got -5."),
        (7, "units", "The units cannot be negative; got -1."),
        (8, "month", "Write the month as YYYY-MM, e.g. 2027-01; got 'Jan 2027'."),
    ]
    assert Budget.objects.count() == 0


def test_import_page_lists_errors_and_saves_nothing(client, production_user, teas):
    client.force_login(production_user)
    upload = SimpleUploadedFile(
        "b.csv", b"product_line,month,revenue,units\nIced teas,2027-01,1x,1\n"
    )
    response = client.post(reverse("planning_budget_import"), {"file": upload})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported: 1 error." in html
    assert "The revenue must be a number, e.g. 125000.00; got &#x27;1x&#x27;." in html
    assert Budget.objects.count() == 0


def test_import_page_imports_and_goes_to_the_grid(client, production_user, teas, waters):
    client.force_login(production_user)
    response = client.post(
        reverse("planning_budget_import"), {"file": SimpleUploadedFile("b.csv", GOOD.encode())}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('planning_budgets')}?year=2027"
    assert Budget.objects.count() == 3


def test_import_is_refused_to_marketing(client, marketing_user, teas):
    client.force_login(marketing_user)
    response = client.post(
        reverse("planning_budget_import"), {"file": SimpleUploadedFile("b.csv", GOOD.encode())}
    )
    assert response.status_code == 403
    assert Budget.objects.count() == 0


HINT = "product_line, month, revenue and units"


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (
            "",
            [
                (
                    1,
                    "",
                    "The file is empty: the first line must name the columns " + HINT + ".",
                )
            ],
        ),
        (
            "product_line,month,revenue\nIced teas,2027-01,1\n",
            [
                (
                    1,
                    "units",
                    'Missing column "units" (also accepted: quantity). The first line must '
                    "name the columns " + HINT + ".",
                )
            ],
        ),
        ("product_line,month,revenue,units\n", [(2, "", "The file has no rows below the header.")]),
        (
            "product_line,month,revenue,units\n,2027-01,1,1\n",
            [(2, "product_line", "Enter the product line.")],
        ),
    ],
)
def test_import_refuses_malformed_files(production_user, teas, text, errors):
    with pytest.raises(ImportRejected) as raised:
        budget_import(actor=production_user, rows=text, filename="x.csv")
    assert [(e.position, e.column, e.message) for e in raised.value.row_errors] == errors
    assert Budget.objects.count() == 0


def test_import_command_dry_run_then_import(tmp_path, admin_user, teas, waters):
    path = tmp_path / "budgets.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = StringIO()
    call_command(
        "import_budgets", str(path), "--dry-run", "--user", admin_user.username, stdout=out
    )
    assert out.getvalue() == (
        f"{path} is valid: 3 budget rows, 2027-01 to 2027-02. Nothing was saved (dry run).\n"
    )
    assert Budget.objects.count() == 0
    out = StringIO()
    call_command("import_budgets", str(path), "--user", admin_user.username, stdout=out)
    assert out.getvalue().startswith(
        "Imported 3 budget rows, 2027-01 to 2027-02: 3 new, 0 updated, in "
    )
    assert Budget.objects.count() == 3


def test_import_command_lists_every_error_and_saves_nothing(tmp_path, admin_user, teas):
    path = tmp_path / "bad.csv"
    path.write_text(
        "product_line,month,revenue,units\nIced teas,2027-01,1,1\nIced teas,2027-01,x,1\n",
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_budgets", str(path), "--user", admin_user.username, stderr=err)
    assert str(raised.value) == f"{path} was rejected. Nothing was imported: 2 errors."
    assert err.getvalue() == (
        "line 3, month: Duplicate of line 2: Iced teas already has a row for 2027-01.\n"
        "line 3, revenue: The revenue must be a number, e.g. 125000.00; got 'x'.\n"
    )
    assert Budget.objects.count() == 0


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            BudgetCell(0, JAN, Decimal("1"), None, 0),
            "A budget has both revenue and units, or neither.",
        ),
        (
            BudgetCell(0, dt.date(2027, 1, 2), Decimal("1"), 1, 0),
            "A budget's month is given by its first day.",
        ),
        (
            BudgetCell(0, JAN, Decimal("-1"), 1, 0),
            "Budget figures are from 0 to 1,000,000,000,000; got -1.",
        ),
        (
            BudgetCell(0, JAN, Decimal("1"), 10**12 + 1, 0),
            "Budget figures are from 0 to 1,000,000,000,000; got 1000000000001.",
        ),
    ],
)
def test_service_refuses_what_the_database_would(production_user, teas, cell, message):
    from dataclasses import replace

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        budget_grid_save(actor=production_user, cells=[replace(cell, product_line_id=teas.pk)])
    assert raised.value.messages == [message]
    assert Budget.objects.count() == 0


def test_a_product_line_deleted_since_the_grid_loaded_saves_nothing(production_user, teas):
    from django.core.exceptions import ValidationError

    gone = ProductLineFactory(name="Gone")
    gone_id = gone.pk
    gone.delete()
    with pytest.raises(ValidationError) as raised:
        budget_grid_save(
            actor=production_user,
            cells=[
                BudgetCell(teas.pk, JAN, Decimal("1"), 1, 0),
                BudgetCell(gone_id, JAN, Decimal("1"), 1, 0),
            ],
        )
    assert raised.value.messages == [
        "A product line of these budgets no longer exists; nothing was saved. "
        "Reload the page and try again."
    ]
    assert Budget.objects.count() == 0
