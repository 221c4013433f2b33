"""The public recall notice: anyone may read it, only once announced, and it carries only
the public fields — never the internal description, root cause, people, tasks, press,
draft statements, consignees or effectiveness figures."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week
from recalls.models import RecallIncident
from recalls.services import communication, incidents
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

# Strings that exist only in internal fields; none may ever reach the public page.
INTERNAL = {
    "description": "Capper head 3 torque low since the supplier switch",
    "root_cause": "Worn torque clutch on capper head 3",
    "task": "Quarantine pallets in bay 7",
    "press outlet": "Daily Courier",
    "press question": "Has anyone been taken ill?",
    "press contact": "j.reyes@dailycourier.example",
    "draft statement": "Draft wording not yet approved",
    "consignee": "Greenway Grocers",
    "consignee account": "BB-1001",
}


@pytest.fixture
def tea():
    return ProductFactory(sku="TEA-LEM-05", name="Iced Tea Lemon 500 ml bottle")


@pytest.fixture
def incident(quality_user, production_user, marketing_user, sales_user, tea):
    """A recall with something in every internal field, not yet announced."""
    incident = incidents.recall_open(
        actor=quality_user,
        title="Lemon tea caps may not seal",
        classification=RecallIncident.Classification.CLASS_II,
        hazard="The tea may ferment and spray when opened.",
        source=RecallIncident.Source.INTERNAL_TEST,
        product_ids=[tea.pk],
        description=INTERNAL["description"],
        stop_ship=True,
        owner=production_user,
    )
    week = add_weeks(current_week(), -2)
    incidents.lot_add(
        actor=quality_user,
        incident_id=incident.pk,
        product_id=tea.pk,
        lot_code="L-B1-0347",
        production_week=week,
        best_before=dt.date(2027, 7, 30),
        units=9613,
    )
    incidents.recall_update(
        actor=quality_user,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        consumer_instructions="Do not drink it; return it to the shop for a refund.",
        contact="0800 555 0142, recall@brookfield.example",
        root_cause=INTERNAL["root_cause"],
    )
    incidents.recall_record_effectiveness(
        actor=quality_user,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        units_distributed=14537,
        units_returned=2111,
        units_destroyed=0,
        units_corrected=0,
        consignees_to_notify=17,
    )
    communication.task_add(
        actor=quality_user,
        incident_id=incident.pk,
        title=INTERNAL["task"],
        department="production",
        owner_id=production_user.pk,
        due_date=timezone.localdate(),
    )
    communication.press_inquiry_log(
        actor=marketing_user,
        incident_id=incident.pk,
        outlet=INTERNAL["press outlet"],
        contact=INTERNAL["press contact"],
        question=INTERNAL["press question"],
        response_due=timezone.now() + dt.timedelta(hours=4),
    )
    communication.statement_draft(
        actor=marketing_user,
        incident_id=incident.pk,
        title="Internal draft",
        body=INTERNAL["draft statement"],
    )
    communication.notification_log(
        actor=sales_user,
        incident_id=incident.pk,
        consignee=INTERNAL["consignee"],
        account=INTERNAL["consignee account"],
        channel="phone",
    )
    return RecallIncident.objects.get(pk=incident.pk)


def to(incident, actor, *statuses) -> RecallIncident:
    for status in statuses:
        incidents.recall_transition(
            actor=actor, incident_id=incident.pk, expected_version=UNCHECKED, to=status
        )
    return RecallIncident.objects.get(pk=incident.pk)


def notice_url(incident) -> str:
    return reverse("recall_public_notice", args=[incident.code])


def test_the_notice_is_not_found_until_announced(client, incident, quality_user):
    assert client.get(notice_url(incident)).status_code == 404
    to(incident, quality_user, "investigating")
    assert client.get(notice_url(incident)).status_code == 404
    assert client.get(reverse("recall_public_notice", args=["RC-2000-0001"])).status_code == 404
    to(incident, quality_user, "announced")
    assert client.get(notice_url(incident)).status_code == 200


def test_the_unannounced_404_says_nothing_about_the_recall(client, incident):
    html = client.get(notice_url(incident)).content.decode()
    assert incident.title not in html
    assert "The tea may ferment" not in html
    assert "Iced Tea Lemon" not in html


def test_anyone_reads_the_announced_notice_with_only_public_fields(
    client, incident, quality_user, production_user
):
    to(incident, quality_user, "investigating", "announced")
    response = client.get(notice_url(incident))  # not signed in
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    assert [t.name for t in response.templates] == ["recalls/public_notice.html"]
    notice = response.context["notice"]
    assert set(notice) == {
        "company",
        "code",
        "title",
        "classification",
        "hazard",
        "what_to_do",
        "contact",
        "announced_at",
        "closed",
        "products",
        "lots",
        "statements",
    }
    html = response.content.decode()
    for public in (
        "Lemon tea caps may not seal",
        "Iced Tea Lemon 500 ml bottle",
        "TEA-LEM-05",
        "L-B1-0347",
        "30 Jul 2027",
        "The tea may ferment and spray when opened.",
        "Do not drink it; return it to the shop for a refund.",
        "0800 555 0142, recall@brookfield.example",
        f"Notice {incident.code}",
    ):
        assert public in html, public
    for label, secret in INTERNAL.items():
        assert secret not in html, label
    # No people, no figures, no way into the app.
    for person in (quality_user, production_user):
        assert person.get_full_name() not in html
        assert person.username not in html
    for figure in ("9613", "9,613", "14537", "14,537", "2111", "2,111", "17 consignee"):
        assert figure not in html
    assert "Sign out" not in html
    assert 'class="mainnav"' not in html
    assert reverse("recall_detail", args=[incident.code]) not in html
    assert "Stop-ship" not in html


def test_the_notice_names_the_company_that_issues_it(client, incident, quality_user, settings):
    settings.COMPANY_NAME = "Acme Drinks Ltd"
    to(incident, quality_user, "investigating", "announced")

    html = client.get(notice_url(incident)).content.decode()

    assert "<title>Product recall: Lemon tea caps may not seal · Acme Drinks Ltd</title>" in html
    assert '<p class="notice-issuer">Acme Drinks Ltd</p>' in html
    assert f"Notice {incident.code} of Acme Drinks Ltd, published " in html


def test_each_lot_keeps_every_column_with_its_label_for_phones(client, incident, quality_user):
    to(incident, quality_user, "investigating", "announced")

    html = client.get(notice_url(incident)).content.decode()

    labels = re.findall(r'<td data-label="([^"]+)">', html)
    assert labels == ["Article", "Lot code", "Production week", "Best before"]
    assert '<td data-label="Best before">30 Jul 2027</td>' in html


def test_only_published_statements_reach_the_notice(client, incident, quality_user, marketing_user):
    to(incident, quality_user, "investigating", "announced")
    statement = communication.statement_draft(
        actor=marketing_user,
        incident_id=incident.pk,
        title="Brookfield recalls lemon tea",
        body="Please return affected bottles.",
    )
    statement = communication.statement_submit(
        actor=marketing_user, statement_id=statement.pk, expected_version=UNCHECKED
    )
    statement = communication.statement_review(
        actor=quality_user, statement_id=statement.pk, expected_version=UNCHECKED, approve=True
    )
    assert (
        "Please return affected bottles." not in client.get(notice_url(incident)).content.decode()
    )
    communication.statement_publish(
        actor=marketing_user, statement_id=statement.pk, expected_version=UNCHECKED
    )
    html = client.get(notice_url(incident)).content.decode()
    assert "Brookfield recalls lemon tea" in html
    assert "Please return affected bottles." in html
    assert INTERNAL["draft statement"] not in html


def test_a_closed_recall_keeps_its_notice_marked_completed(client, incident, quality_user):
    incident = to(incident, quality_user, "investigating", "announced", "recovering")
    incidents.recall_set_stop_ship(
        actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, stop=False
    )
    to(incident, quality_user, "closed")
    response = client.get(notice_url(incident))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["notice"]["closed"] is True
    assert "Product recall — completed" in html
    assert INTERNAL["root_cause"] not in html


def test_the_notice_is_read_only(client, incident, quality_user):
    to(incident, quality_user, "investigating", "announced")
    assert client.post(notice_url(incident), {"hazard": "none"}).status_code == 405
    assert RecallIncident.objects.get(pk=incident.pk).hazard == (
        "The tea may ferment and spray when opened."
    )


def test_the_recall_page_links_to_the_notice_once_announced(client, incident, quality_user):
    client.force_login(quality_user)
    detail = reverse("recall_detail", args=[incident.code])
    assert notice_url(incident) not in client.get(detail).content.decode()
    to(incident, quality_user, "investigating", "announced")
    html = client.get(detail).content.decode()
    assert f'href="http://testserver{notice_url(incident)}"' in html
