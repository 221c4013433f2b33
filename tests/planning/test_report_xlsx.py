"""The planning report as .xlsx: real workbook read back with openpyxl, exact cells,
formats and frozen headers; no formula from a decision's text."""

import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse

from planning import services
from planning.selectors import cycles as selectors
from planning.selectors.report import DEMAND_TERMS, report_csv_rows
from planning.spreadsheets import DEMAND_FIGURES
from tests.planning.planning_world import build_world
from tests.workbooks import XLSX, read_back, row_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(admin_user, sales_user):
    build_world(sales_user)
    opened = services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))
    return services.planning_cycle_start_review(
        actor=admin_user, cycle_id=opened.pk, expected_version=opened.version
    )


def test_the_report_downloads_as_a_formatted_workbook(client, cycle, quality_user):
    snapshot = selectors.latest_snapshot(cycle).data
    client.force_login(quality_user)
    page = client.get(reverse("planning_report", args=[cycle.pk])).content.decode()
    url = reverse("planning_report_xlsx", args=[cycle.pk])
    assert f'href="{url}" download>Download .xlsx</a>' in page

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="planning-2026-12.xlsx"'
    book = read_back(response.content)
    assert book.sheetnames == [
        "Demand",
        "Supply",
        "Orders",
        "Plan vs budget",
        "Decisions",
        "All figures",
    ]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])

    demand = book["Demand"]
    assert row_values(demand, 1) == [
        "Line",
        "Month",
        "Baseline",
        "Promotion uplift",
        "Dip after promotions",
        "Taken by siblings",
        "Added by siblings (halo)",
        "Firm orders",
        "Marketing adjustment",
        "Forecast",
        "Meeting adjustment",
        "Agreed",
    ]
    rows = snapshot["demand"]["rows"]
    assert demand.max_row == len(rows) + 1
    first = rows[0]
    assert row_values(demand, 2) == [
        first["line"],
        dt.datetime.fromisoformat(first["month"]),
        first["baseline"],
        first["uplift"],
        first["dip"],
        first["taken"],
        first["halo"],
        first["firm"],
        first["adjustment"],
        first["final"],
        0,
        first["final"],
    ]
    assert [cell.number_format for cell in demand[2]] == ["General", "mmm yyyy"] + ["#,##0"] * 10
    assert sum(demand.cell(row=r, column=10).value for r in range(2, demand.max_row + 1)) == (
        26 * 60 + 355
    )
    supply = book["Supply"]
    assert row_values(supply, 1)[2:5] == ["Capacity hours", "Needed hours", "Planned hours"]
    assert supply["C2"].number_format == "#,##0.0##"
    assert supply["F2"].number_format == "#,##0"

    money = book["Plan vs budget"]
    assert row_values(money, 1)[:4] == ["Product line", "Month", "Plan units", "Plan revenue (EUR)"]
    figures = book["All figures"]
    csv_rows = report_csv_rows(cycle)
    assert row_values(figures, 1) == ["Section", "Subject", "Period", "Measure", "Value"]
    assert figures.max_row == len(csv_rows) + 1
    assert [row_values(figures, r) for r in range(2, 5)] == [
        [*row[:4], row[4]] for row in csv_rows[:3]
    ]


def test_a_decision_text_never_becomes_a_formula(client, cycle, marketing_user):
    services.cycle_decision_create(
        actor=marketing_user,
        cycle_id=cycle.pk,
        kind="decision",
        text='=HYPERLINK("http://evil.example")',
        department="marketing",
    )
    client.force_login(marketing_user)
    response = client.get(reverse("planning_report_xlsx", args=[cycle.pk]))
    decisions = read_back(response.content)["Decisions"]
    assert row_values(decisions, 1) == ["Kind", "Status", "Department", "Due", "Owner", "Text"]
    assert row_values(decisions, 2) == [
        "Decision",
        "Open",
        "Marketing",
        None,
        None,  # no owner: an empty cell
        '=HYPERLINK("http://evil.example")',
    ]
    assert decisions["F2"].data_type == "s"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert not any(
        b"<f>" in archive.read(name) for name in archive.namelist() if "worksheets" in name
    )


def test_the_report_download_needs_the_planning_view_permission(client, cycle):
    response = client.get(reverse("planning_report_xlsx", args=[cycle.pk]))
    assert response.status_code == 302  # signed out: to sign in


def test_the_demand_sheet_has_every_term_of_the_report_s_demand_table():
    assert {key for key, _, _ in DEMAND_FIGURES} >= set(DEMAND_TERMS)
