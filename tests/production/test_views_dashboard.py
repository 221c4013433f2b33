"""The production dashboard shows a recompute of the line live: its "Recent recomputes"
card polls while a recompute is queued or running, and reloads the page once it is done."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import (
    LineFactory,
    ProductFactory,
    RecomputeRequestFactory,
    RecomputeRunFactory,
)

pytestmark = pytest.mark.django_db

POLL = 'hx-trigger="every 2s"'
POLL_HEADERS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "recompute-status"}


@pytest.fixture
def line():
    line = LineFactory(name="Bottling 1")
    ProductFactory(sku="TEA-LEM-05", production_line=line)
    return line


def _dashboard(client, line, **headers):
    return client.get(reverse("production_dashboard"), {"line": line.pk}, **headers)


def test_a_queued_recompute_of_the_line_makes_the_card_poll(client, production_user, line):
    RecomputeRequestFactory(
        reason="Promotion “Summer” was planned", product_ids=[1], line_ids=[line.pk]
    )
    client.force_login(production_user)

    html = _dashboard(client, line).content.decode()

    card = html[html.index('id="recompute-status"') :]
    card = card[: card.index("</section>")]
    assert POLL in card
    assert f'hx-get="/production/?line={line.pk}"' in card
    assert '<span class="badge badge-info">Queued</span> Promotion “Summer” was planned' in card
    assert "This page updates itself when the recompute is done." in card
    assert f'<a href="/production/?line={line.pk}">Reload</a>' in card


def test_a_running_recompute_shows_as_recomputing(client, production_user, line):
    RecomputeRequestFactory(
        reason="Inventory update", product_ids=[1, 2], line_ids=[line.pk], status="running"
    )
    client.force_login(production_user)

    html = _dashboard(client, line).content.decode()

    assert POLL in html
    assert '<span class="badge badge-warn">Recomputing</span> Inventory update' in html
    assert "· 2 products ·" in html


def test_no_polling_when_every_recompute_of_the_line_is_finished(client, production_user, line):
    other = LineFactory(name="Canning 2")
    RecomputeRequestFactory(reason="Done", line_ids=[line.pk], status="done")
    RecomputeRequestFactory(reason="Failed", line_ids=[line.pk], status="failed")
    RecomputeRequestFactory(reason="Another line", line_ids=[other.pk])
    RecomputeRunFactory(line=line, trigger="Demo data loaded")
    client.force_login(production_user)

    html = _dashboard(client, line).content.decode()

    assert 'id="recompute-status"' in html
    assert POLL not in html
    assert "hx-get=" not in html[html.index('id="recompute-status"') :].split("</section>")[0]
    assert "This page updates itself" not in html
    assert "Demo data loaded" in html


def test_the_poll_returns_the_card_alone_while_still_running(client, production_user, line):
    RecomputeRequestFactory(reason="Capacity change", line_ids=[line.pk], status="running")
    client.force_login(production_user)

    response = _dashboard(client, line, **POLL_HEADERS)

    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Refresh" not in response.headers
    assert html.lstrip().startswith('<section class="card" id="recompute-status"')
    assert html.count("<section") == 1
    assert POLL in html
    assert "Capacity change" in html


def test_the_poll_reloads_the_page_once_the_recompute_is_done(client, production_user, line):
    request = RecomputeRequestFactory(reason="Capacity change", line_ids=[line.pk])
    request.status = "done"
    request.save(update_fields=["status"])
    RecomputeRunFactory(line=line, trigger="Capacity change")
    client.force_login(production_user)

    response = _dashboard(client, line, **POLL_HEADERS)

    html = response.content.decode()
    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"
    assert POLL not in html
    assert '<span class="badge badge-ok">Done</span> Capacity change' in html


def test_other_htmx_requests_still_get_the_quota_grid(client, production_user, line):
    client.force_login(production_user)

    response = _dashboard(client, line, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="quota-grid">')
    assert 'id="recompute-status"' not in html
    assert "HX-Refresh" not in response.headers
