"""Destructive specification steps ask for confirmation before the form is sent."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ProductFactory, SpecificationFactory

pytestmark = pytest.mark.django_db

# static/js/tandem.js asks with the data-confirm text (no inline handlers under the CSP).
REJECT_CONFIRM = (
    'data-confirm="Reject specification 2 of TEA-LEM-05? '
    'Its authors must propose it again.">Reject</button>'
)
WITHDRAW_CONFIRM = (
    'data-confirm="Withdraw specification 2 to draft? '
    'Production stops reviewing it.">Withdraw to draft</button>'
)


@pytest.fixture
def proposed():
    product = ProductFactory(sku="TEA-LEM-05")
    SpecificationFactory(product=product, number=1)
    return SpecificationFactory(
        product=product, number=2, status="proposed", reviewed_by=None, reviewed_at=None
    )


def _detail(client, spec) -> str:
    url = reverse("specification_detail", args=[spec.product.sku, spec.number])
    return client.get(url).content.decode()


def test_production_confirms_before_rejecting_a_proposal(client, production_user, proposed):
    client.force_login(production_user)

    html = _detail(client, proposed)

    assert html.count(REJECT_CONFIRM) == 1
    assert '<button type="submit" class="button primary">Approve</button>' in html


def test_the_proposer_confirms_before_withdrawing_it(client, admin_user, proposed):
    client.force_login(admin_user)

    html = _detail(client, proposed)

    assert html.count(WITHDRAW_CONFIRM) == 1
