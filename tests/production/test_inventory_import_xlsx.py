"""Inventory counts imported from real .xlsx workbooks: page and command."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from production.models import InventoryPosition
from tests.factories import ProductFactory
from tests.workbooks import XLSX, macro_workbook, workbook

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 8)
GOOD_ROWS = (
    ("SKU", "As of", "On hand"),
    ("BEV-1001", dt.datetime(2024, 3, 1), 40.0),
    ("BEV-1001", "2024-03-08", 35),
    ("JCE-2002", dt.date(2024, 3, 8), 0),
)
GOOD_POSITIONS = [("BEV-1001", D1, 40), ("BEV-1001", D2, 35), ("JCE-2002", D2, 0)]


@pytest.fixture
def products():
    return {sku: ProductFactory(sku=sku).pk for sku in ("BEV-1001", "JCE-2002")}


def positions():
    return list(
        InventoryPosition.objects.order_by("product__sku", "as_of").values_list(
            "product__sku", "as_of", "on_hand"
        )
    )


def post(client, content: bytes, name="counts.xlsx", **fields):
    upload = SimpleUploadedFile(name, content, content_type=XLSX)
    return client.post(reverse("inventory_import"), {"file": upload, **fields})


def test_import_page_imports_a_workbook(client, production_user, products):
    client.force_login(production_user)
    response = post(client, workbook(*GOOD_ROWS))
    assert response.status_code == 302
    assert positions() == GOOD_POSITIONS


def test_import_page_checks_a_named_sheet_only(client, production_user, products):
    client.force_login(production_user)
    data = workbook(("x",), sheets={"Counts": GOOD_ROWS})
    response = post(client, data, sheet="Counts", check_only="on")
    assert response.status_code == 200
    assert response.context["result"].rows == 3
    assert positions() == []


def test_import_page_names_a_formula_by_sheet_and_row(client, production_user, products):
    client.force_login(production_user)
    data = workbook(("sku", "as_of", "on_hand"), ("BEV-1001", "2024-03-01", "=SUM(1,2)"))
    response = post(client, data)
    html = response.content.decode()
    assert '<td class="where">Sheet1, row 2</td><td>on_hand</td>' in html
    assert (
        escape(
            "The units on hand cell holds a formula ('=SUM(1,2)'), not a value; type the "
            "value, or copy the column and paste it as values only."
        )
        in html
    )
    assert positions() == []


def test_import_page_refuses_macros_at_the_field(client, production_user, products):
    client.force_login(production_user)
    response = post(client, macro_workbook())
    assert response.context["form"].errors == {
        "file": [
            "This workbook contains macros (.xlsm), which Tandem does not accept. Save it as "
            "Excel Workbook (.xlsx) without macros, or as CSV UTF-8."
        ]
    }
    assert positions() == []


def test_the_command_imports_a_workbook(tmp_path, admin_user, products, capsys):
    path = tmp_path / "counts.xlsx"
    path.write_bytes(workbook(*GOOD_ROWS))
    call_command("import_inventory", str(path))
    assert "3 new, 0 updated" in capsys.readouterr().out
    assert positions() == GOOD_POSITIONS


def test_the_command_refuses_an_old_xls(tmp_path, admin_user, products):
    path = tmp_path / "counts.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(CommandError) as raised:
        call_command("import_inventory", str(path))
    assert str(raised.value) == (
        f"{path} was refused: This is an Excel 97-2003 workbook (.xls) or a password-protected "
        "one, which Tandem cannot read. Save it as Excel Workbook (.xlsx) without a password, "
        "or as CSV UTF-8."
    )
    assert positions() == []


def test_the_api_imports_a_workbook_body(client, production_user, products):
    client.force_login(production_user)
    response = client.post(
        "/api/v1/inventory-positions/", data=workbook(*GOOD_ROWS), content_type=XLSX
    )
    assert response.status_code == 201
    assert (response.json()["rows"], response.json()["created"]) == (3, 3)
    assert positions() == GOOD_POSITIONS
