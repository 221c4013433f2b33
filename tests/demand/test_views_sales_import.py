"""After a sales import is applied, its page shows the recompute it asked for: polling
while the recompute is queued or running, and a summary with links once it is done."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from coordination.models import RecomputeRequest
from demand.models import SalesImport
from demand.services import sales_import as services
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

GOOD = "sku,week,units\nBEV-1001,2024-W01,12\nBEV-1001,2024-W02,7\nJCE-2002,2024-01-17,0\n"
POLL = 'hx-trigger="every 1s"'
POLL_HEADERS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "import-recompute"}


@pytest.fixture
def applied(marketing_user):
    for sku in ("BEV-1001", "JCE-2002"):
        ProductFactory(sku=sku)
    preview = services.sales_import_preview(actor=marketing_user, filename="s.csv", content=GOOD)
    # In a test transaction the enqueue never runs: the recompute stays queued.
    return services.sales_import_apply(actor=marketing_user, import_id=preview.pk)


def _recompute_of(record) -> RecomputeRequest:
    return RecomputeRequest.objects.get(
        subject_type=ContentType.objects.get_for_model(SalesImport), subject_id=record.pk
    )


def _page(client, record, **headers):
    return client.get(reverse("sales_import_preview", args=[record.pk]), **headers)


def test_applying_an_import_asks_for_a_recompute_about_it(applied):
    recompute = _recompute_of(applied)

    assert recompute.status == "pending"
    assert recompute.reason == "Sales import s.csv: 3 rows"
    assert RecomputeRequest.objects.count() == 1


def test_the_page_polls_while_the_recompute_is_queued(client, marketing_user, applied):
    client.force_login(marketing_user)

    html = _page(client, applied).content.decode()

    assert POLL in html
    assert f'hx-get="/sales/import/{applied.pk}/"' in html
    assert (
        '<span class="badge badge-info">Queued</span> The forecasts and quotas of 2 products '
        "wait for a planning worker…"
    ) in html
    assert f'<a href="/sales/import/{applied.pk}/">Reload</a>' in html


def test_the_poll_returns_the_status_alone(client, marketing_user, applied):
    RecomputeRequest.objects.filter(pk=_recompute_of(applied).pk).update(status="running")
    client.force_login(marketing_user)

    html = _page(client, applied, **POLL_HEADERS).content.decode()

    assert html.lstrip().startswith('<div id="import-recompute"')
    assert "import-panel" not in html
    assert POLL in html
    assert '<span class="badge badge-warn">Recomputing</span>' in html


def test_polling_stops_once_the_recompute_is_done(client, marketing_user, applied):
    RecomputeRequest.objects.filter(pk=_recompute_of(applied).pk).update(status="done")
    client.force_login(marketing_user)

    polled = _page(client, applied, **POLL_HEADERS).content.decode()
    full = _page(client, applied).content.decode()

    for html in (polled, full):
        assert POLL not in html
        assert (
            '<span class="badge badge-ok">Up to date</span> The forecasts and quotas of '
            "2 products are recomputed."
        ) in html
        assert '<a href="/production/">Production plan</a>' in html
    assert "<dt>New rows</dt><dd>3</dd>" in full


def test_a_failed_recompute_is_shown_without_polling(client, marketing_user, applied):
    RecomputeRequest.objects.filter(pk=_recompute_of(applied).pk).update(
        status="failed", error="line 3 has no capacity"
    )
    client.force_login(marketing_user)

    html = _page(client, applied).content.decode()

    assert POLL not in html
    assert "The recompute failed: line 3 has no capacity." in html


def test_a_preview_shows_no_recompute(client, marketing_user):
    ProductFactory(sku="BEV-1001")
    ProductFactory(sku="JCE-2002")
    preview = services.sales_import_preview(actor=marketing_user, filename="s.csv", content=GOOD)
    client.force_login(marketing_user)

    html = _page(client, preview).content.decode()

    assert 'id="import-recompute"' not in html
    assert POLL not in html
    assert RecomputeRequest.objects.count() == 0
