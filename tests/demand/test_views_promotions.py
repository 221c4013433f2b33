"""A promotion's page shows the recompute it asked for: polling while it is queued or
running (with a plain Reload link for readers without JavaScript), still once done."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from demand.models import Promotion
from tests.factories import PromotionFactory, RecomputeRequestFactory

pytestmark = pytest.mark.django_db

POLL = 'hx-trigger="every 1s"'


@pytest.fixture
def promotion():
    return PromotionFactory(name="Summer lemonade", status="planned")


def _recompute(promotion, status):
    return RecomputeRequestFactory(
        reason="Promotion planned",
        product_ids=[1, 2],
        status=status,
        subject_type=ContentType.objects.get_for_model(Promotion),
        subject_id=promotion.pk,
    )


@pytest.mark.parametrize(
    ("status", "text"),
    [
        ("pending", '<span class="badge badge-info">Queued</span> Waiting for a planning worker…'),
        ("running", '<span class="badge badge-warn">Recomputing</span> Forecasts and quotas of 2'),
    ],
)
def test_the_page_polls_while_the_recompute_is_unfinished(
    client, marketing_user, promotion, status, text
):
    _recompute(promotion, status)
    client.force_login(marketing_user)

    for url in ("promotion_detail", "promotion_progress"):
        html = client.get(reverse(url, args=[promotion.pk])).content.decode()

        assert POLL in html
        assert f'hx-get="/promotions/{promotion.pk}/progress/"' in html
        assert text in html
        assert f'<a href="/promotions/{promotion.pk}/">Reload</a>' in html


def test_polling_stops_once_the_recompute_is_done(client, marketing_user, promotion):
    done = _recompute(promotion, "done")
    done.finished_at = timezone.now() - dt.timedelta(seconds=20)
    done.save(update_fields=["finished_at"])
    client.force_login(marketing_user)

    html = client.get(reverse("promotion_progress", args=[promotion.pk])).content.decode()

    assert POLL not in html
    # naturaltime keeps the number and its unit together with a no-break space.
    assert '<span class="badge badge-ok">Up to date</span> Recomputed 20\xa0seconds ago.' in html
    assert f'<a href="/production/promotions/{promotion.pk}/impact/">' in html
    assert ">Reload</a>" not in html
