"""Steps that cannot be undone — announcing, closing, declining the press — ask for
confirmation; ordinary steps do not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from recalls.models import RecallIncident
from recalls.services import communication, incidents
from tests.factories import LineFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(quality_user):
    line = LineFactory(name="Bottling 1")
    tea = ProductFactory(sku="TEA-LEM-05", production_line=line)
    return incidents.recall_open(
        actor=quality_user,
        product_ids=[tea.pk],
        title="Loose caps on lemon tea",
        classification=RecallIncident.Classification.CLASS_II,
        hazard="The tea may ferment.",
        source=RecallIncident.Source.INTERNAL_TEST,
        description="Capper head 3 torque low.",
    )


def _overview(client, incident) -> str:
    return client.get(reverse("recall_tab", args=[incident.code, "overview"])).content.decode()


@pytest.mark.parametrize(
    ("status", "button"),
    [
        (
            "investigating",
            'data-confirm="Announce {code}? Its public notice is published.">'
            "Move to announced</button>",
        ),
        (
            "recovering",
            'data-confirm="Close {code}? A closed recall cannot be reopened.">'
            "Move to closed</button>",
        ),
    ],
)
def test_announcing_and_closing_ask_first(client, quality_user, incident, status, button):
    RecallIncident.objects.filter(pk=incident.pk).update(status=status)
    client.force_login(quality_user)

    html = _overview(client, incident)

    assert html.count(button.format(code=incident.code)) == 1


def test_moving_to_investigating_does_not_ask(client, quality_user, incident):
    client.force_login(quality_user)

    html = _overview(client, incident)

    assert '<button type="submit" class="button primary">Move to investigating</button>' in html
    assert 'data-confirm="Announce' not in html
    assert 'data-confirm="Close' not in html


def test_declining_to_comment_to_the_press_asks_first(
    client, quality_user, marketing_user, incident
):
    communication.press_inquiry_log(
        actor=marketing_user,
        incident_id=incident.pk,
        outlet="Daily Courier",
        contact="Desk",
        question="Comment?",
        response_due=timezone.now() + dt.timedelta(hours=2),
    )
    client.force_login(marketing_user)

    html = client.get(reverse("recall_tab", args=[incident.code, "press"])).content.decode()

    button = (
        'data-confirm="Record that Tandem declined to comment to Daily Courier? '
        'The inquiry is closed.">Declined to comment</button>'
    )
    assert html.count(button) == 1
