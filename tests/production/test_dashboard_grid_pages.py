"""The dashboard's grid shows a line of any size a page of products at a time (by SKU),
searchable by SKU or name; the heat of a cell is the same on every page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coordination.weeks import add_weeks, current_week
from production.selectors.dashboard import GRID_ROWS_PER_PAGE
from tests.factories import LineFactory, ProductFactory, QuotaRecommendationFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "quota-grid"}


@pytest.fixture
def big_line():
    """60 products, each recommended 10 x its number units next week: BEV-0060 the most."""
    line = LineFactory(name="Bottling 1")
    for n in range(1, 61):
        product = ProductFactory(sku=f"BEV-{n:04d}", name=f"Soda {n}", production_line=line)
        QuotaRecommendationFactory(
            product=product, week=add_weeks(current_week(), 1), baseline=10.0 * n
        )
    return line


def get(client, line, headers=None, **params):
    return client.get(
        reverse("production_dashboard"), {"line": line.pk, **params}, **(headers or {})
    )


def test_the_grid_shows_50_products_a_page_in_sku_order(client, production_user, big_line):
    client.force_login(production_user)
    assert GRID_ROWS_PER_PAGE == 50

    first = get(client, big_line)
    second = get(client, big_line, page=2)

    assert [r["product"].sku for r in first.context["grid"]] == [
        f"BEV-{n:04d}" for n in range(1, 51)
    ]
    assert [r["product"].sku for r in second.context["grid"]] == [
        f"BEV-{n:04d}" for n in range(51, 61)
    ]
    html = second.content.decode()
    assert "Products 51–60 of 60 · page 2 of 2" in html
    assert f'href="?line={big_line.pk}&amp;page=1"' in html
    # The heat compares with the line's largest quota (600), not the page's.
    assert first.context["grid"][29]["cells"][1]["heat"] == 2  # 300 of 600
    assert second.context["grid"][-1]["cells"][1]["heat"] == 5


def test_a_page_beyond_the_last_shows_the_last(client, production_user, big_line):
    client.force_login(production_user)
    response = get(client, big_line, page=99)
    assert response.status_code == 200
    assert response.context["grid_page"].number == 2


def test_the_grid_finds_products_by_sku_or_name(client, production_user, big_line):
    client.force_login(production_user)

    by_sku = get(client, big_line, q="BEV-005")
    by_name = get(client, big_line, q="  soda 6 ")
    nothing = get(client, big_line, q="tonic")

    assert [r["product"].sku for r in by_sku.context["grid"]] == [
        f"BEV-{n:04d}" for n in range(50, 60)
    ]
    assert [r["product"].sku for r in by_name.context["grid"]] == ["BEV-0006", "BEV-0060"]
    assert by_name.context["grid_query"] == "soda 6"
    assert "No product of Bottling 1 matches “tonic”." in nothing.content.decode()


def test_htmx_gets_the_grid_alone(client, production_user, big_line):
    client.force_login(production_user)

    html = get(client, big_line, headers=HTMX, page=2).content.decode()

    assert html.lstrip().startswith('<section class="card" id="quota-grid">')
    assert "<h1>" not in html
    assert "BEV-0051" in html and "BEV-0050" not in html
