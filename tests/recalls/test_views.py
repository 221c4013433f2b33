"""Recall browser pages: access per role, the board, the open form (also escalated from a
customer request), the incident tabs (full page and htmx partial) and every action
through the views — including refusals, which must show a clear message and change
nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from coordination.models import ActivityEvent, CustomerRequest, Notice
from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week, iso_label
from production.models import ProductionHold
from recalls.models import (
    AffectedLot,
    CustomerNotification,
    PressInquiry,
    RecallIncident,
    RecallTask,
    Statement,
)
from recalls.services import communication, incidents
from tests.factories import (
    CustomerRequestFactory,
    LineFactory,
    ProductFactory,
    PromotionItemFactory,
    QuotaRecommendationFactory,
)
from tests.recalls.task_rule import ROLE_MAY_COMPLETE, add_samples_task, refusal

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TABS = ["overview", "lots", "tasks", "press", "statements", "effectiveness", "notifications"]
ROLES = ["marketing_user", "sales_user", "production_user", "quality_user", "admin_user"]
MANAGERS = ["production_user", "quality_user", "admin_user"]
NOT_MANAGERS = ["marketing_user", "sales_user"]
NOT_MANAGER_MESSAGE = "Only Quality and Production may manage recall incidents."


@pytest.fixture
def tea():
    line = LineFactory(name="Bottling 1")
    return ProductFactory(sku="TEA-LEM-05", name="Lemon tea 500 ml", production_line=line)


def open_recall(actor, products, **overrides) -> RecallIncident:
    fields = {
        "title": "Loose caps on lemon tea",
        "classification": RecallIncident.Classification.CLASS_II,
        "hazard": "The tea may ferment; spoiled tea can upset the stomach.",
        "source": RecallIncident.Source.INTERNAL_TEST,
        "description": "Capper head 3 torque low since the liner change.",
    }
    fields.update(overrides)
    return incidents.recall_open(actor=actor, product_ids=[p.pk for p in products], **fields)


def fresh(incident: RecallIncident) -> RecallIncident:
    return RecallIncident.objects.get(pk=incident.pk)


def act(client, incident, action, data=None, item=None):
    if item is None:
        url = reverse("recall_action", args=[incident.code, action])
    else:
        url = reverse("recall_item_action", args=[incident.code, action, item])
    return client.post(url, data or {})


def move(client, incident, to):
    return act(client, incident, "transition", {"version": fresh(incident).version, "to": to})


def edit_data(incident, **changes) -> dict:
    incident = fresh(incident)
    data = {
        "version": incident.version,
        "title": incident.title,
        "classification": incident.classification,
        "owner": incident.owner_id,
        "description": incident.description,
        "root_cause": incident.root_cause,
        "hazard": incident.hazard,
        "consumer_instructions": incident.consumer_instructions,
        "contact": incident.contact,
    }
    data.update(changes)
    return data


def page(response) -> str:
    return response.content.decode()


# ------------------------------------------------------------------ access


def test_anonymous_users_are_sent_to_sign_in(client, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    for url in (
        reverse("recall_board"),
        reverse("recall_open"),
        reverse("recall_detail", args=[incident.code]),
        reverse("recall_tab", args=[incident.code, "tasks"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    response = act(client, incident, "transition", {"version": 1, "to": "investigating"})
    assert response.status_code == 302
    assert fresh(incident).status == "open"


def test_a_user_without_a_role_is_refused_everywhere(client, make_user, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(make_user(username="nobody"))
    for url in (
        reverse("recall_board"),
        reverse("recall_open"),
        reverse("recall_detail", args=[incident.code]),
        reverse("recall_tab", args=[incident.code, "lots"]),
    ):
        assert client.get(url).status_code == 403
    response = act(client, incident, "transition", {"version": 1, "to": "investigating"})
    assert response.status_code == 403
    assert fresh(incident).status == "open"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_board_and_every_tab(client, request, role, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    user = request.getfixturevalue(role)
    client.force_login(user)
    board = client.get(reverse("recall_board"))
    assert board.status_code == 200
    assert ("Open a recall" in page(board)) is (role in MANAGERS)
    for tab in TABS:
        response = client.get(reverse("recall_tab", args=[incident.code, tab]))
        assert response.status_code == 200
        assert response.context["tab"] == tab
    assert client.get(reverse("recall_open")).status_code == (200 if role in MANAGERS else 403)


def test_unknown_codes_and_tabs_are_404(client, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    assert client.get(reverse("recall_detail", args=["RC-1999-9999"])).status_code == 404
    assert client.get(reverse("recall_tab", args=[incident.code, "secrets"])).status_code == 404
    assert act(client, incident, "explode").status_code == 404
    # An item action without its item (and the other way round) is not an action.
    assert act(client, incident, "complete-task").status_code == 404
    assert act(client, incident, "edit", item=1).status_code == 404
    assert client.get(reverse("recall_action", args=[incident.code, "edit"])).status_code == 405


# ------------------------------------------------------------------- board


def test_board_groups_by_status_filters_and_flags_overdue_tasks(
    client, quality_user, production_user, tea
):
    mint = ProductFactory(sku="TEA-MNT-05")
    serious = open_recall(quality_user, [tea], title="Glass in tea", classification="class_i")
    minor = open_recall(quality_user, [mint], title="Misprint", classification="class_iii")
    incidents.recall_transition(
        actor=quality_user, incident_id=minor.pk, expected_version=UNCHECKED, to="investigating"
    )
    task = communication.task_add(
        actor=quality_user,
        incident_id=serious.pk,
        title="Quarantine stock",
        department="production",
        owner_id=production_user.pk,
        due_date=timezone.localdate(),
    )
    RecallTask.objects.filter(pk=task.pk).update(due_date=timezone.localdate() - dt.timedelta(1))
    client.force_login(quality_user)
    response = client.get(reverse("recall_board"))
    columns = {c["status"]: [i.code for i in c["incidents"]] for c in response.context["columns"]}
    assert columns == {
        "open": [serious.code],
        "investigating": [minor.code],
        "announced": [],
        "recovering": [],
        "closed": [],
    }
    assert response.context["total"] == 2
    html = page(response)
    assert "1 overdue" in html
    assert "<h1>Recalls</h1>" in html
    by_status = page(client.get(reverse("recall_board"), {"status": "investigating"}, **HTMX))
    assert by_status.lstrip().startswith('<div id="board">')  # only the board partial
    assert "<h1>" not in by_status
    assert re.findall(r'<h2 id="col-(\w+)">', by_status) == ["investigating"]
    assert minor.code in by_status
    assert serious.code not in by_status
    by_class = client.get(reverse("recall_board"), {"classification": "class_i"})
    assert by_class.context["total"] == 1
    assert [i.code for c in by_class.context["columns"] for i in c["incidents"]] == [serious.code]


def test_board_empty_states(client, quality_user, marketing_user):
    client.force_login(quality_user)
    html = page(client.get(reverse("recall_board")))
    assert "No recalls so far. When a quality issue needs one" in html
    filtered = page(client.get(reverse("recall_board"), {"classification": "class_i"}))
    assert "No recalls match these filters." in filtered
    client.force_login(marketing_user)
    html = page(client.get(reverse("recall_board")))
    assert "No recalls so far." in html
    assert "When a quality issue needs one" not in html


# -------------------------------------------------------------------- open


def test_quality_opens_a_recall_with_a_stop_ship(client, quality_user, tea):
    client.force_login(quality_user)
    response = client.post(
        reverse("recall_open"),
        {
            "title": "Loose caps",
            "classification": "class_ii",
            "products": ["TEA-LEM-05"],
            "hazard": "May ferment.",
            "source": "internal_test",
            "description": "Seen on line 1.",
            "stop_ship": "on",
        },
    )
    incident = RecallIncident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("recall_detail", args=[incident.code])
    assert incident.code == f"RC-{incident.created_at:%Y}-{incident.pk:04d}"
    assert (incident.title, incident.classification, incident.source) == (
        "Loose caps",
        "class_ii",
        "internal_test",
    )
    assert incident.owner == quality_user
    assert incident.stop_ship is True
    assert list(incident.products.values_list("sku", flat=True)) == ["TEA-LEM-05"]
    assert ProductionHold.objects.filter(reference=incident.code, released_at=None).count() == 1
    detail = client.get(response["Location"])
    assert f"Opened {incident.code}. Stop-ship placed" in page(detail)


def test_the_open_form_shows_errors_at_the_fields_and_creates_nothing(client, quality_user, tea):
    client.force_login(quality_user)
    response = client.post(
        reverse("recall_open"),
        {"title": "  ", "classification": "class_iv", "products": ["NOPE-1"], "source": ""},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["title"] == ["This field is required."]
    assert errors["classification"] == [
        "Select a valid choice. class_iv is not one of the available choices."
    ]
    assert errors["products"] == [
        "Select a valid choice. NOPE-1 is not one of the available choices."
    ]
    assert errors["hazard"] == ["This field is required."]
    assert errors["source"] == ["This field is required."]
    assert 'id="id_title_error"' in page(response)
    assert RecallIncident.objects.count() == 0


def test_service_errors_land_on_the_open_form(client, quality_user, tea):
    """A request that is not a quality issue cannot be escalated: the service says so."""
    complaint = CustomerRequestFactory(kind="complaint", product=tea)
    client.force_login(quality_user)
    response = client.post(
        reverse("recall_open"),
        {
            "title": "Loose caps",
            "classification": "class_ii",
            "products": ["TEA-LEM-05"],
            "hazard": "May ferment.",
            "source": "customer",
            "source_requests": [complaint.pk],
        },
    )
    # The hidden field only offers quality issues, so the form refuses it first.
    assert response.status_code == 200
    assert response.context["form"].errors["source_requests"] == [
        f"Select a valid choice. {complaint.pk} is not one of the available choices."
    ]
    assert RecallIncident.objects.count() == 0


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_marketing_and_sales_may_not_open_recalls(client, request, role, tea):
    client.force_login(request.getfixturevalue(role))
    response = client.post(
        reverse("recall_open"),
        {
            "title": "Loose caps",
            "classification": "class_ii",
            "products": ["TEA-LEM-05"],
            "hazard": "May ferment.",
            "source": "internal_test",
        },
    )
    assert response.status_code == 403
    assert RecallIncident.objects.count() == 0


def test_a_quality_issue_is_escalated_into_a_prefilled_recall(
    client, quality_user, sales_user, tea
):
    issue = CustomerRequestFactory(
        kind="quality_issue",
        department="quality",
        product=tea,
        summary="Caps leaking on lemon tea",
        details="Three stores report sticky crates.",
        customer_name="Greenway Grocers",
        created_by=sales_user,
    )
    client.force_login(quality_user)
    detail = page(client.get(reverse("request_detail", args=[issue.pk])))
    assert f'href="{reverse("recall_open")}?request={issue.pk}"' in detail
    response = client.get(reverse("recall_open"), {"request": issue.pk})
    form = response.context["form"]
    assert form.initial == {
        "title": "Caps leaking on lemon tea",
        "products": ["TEA-LEM-05"],
        "source": "customer",
        "source_requests": [issue.pk],
        "description": f"Escalated from customer request #{issue.pk} (Greenway Grocers): "
        "Caps leaking on lemon tea\nThree stores report sticky crates.",
    }
    assert response.context["source"] == issue
    data = {
        **form.initial,
        "classification": "class_ii",
        "hazard": "May ferment.",
    }
    created = client.post(reverse("recall_open"), data)
    incident = RecallIncident.objects.get()
    assert created.status_code == 302
    assert list(incident.source_requests.all()) == [issue]
    assert incident.source == "customer"
    # The request now links to its recall.
    detail = page(client.get(reverse("request_detail", args=[issue.pk])))
    assert f'Escalated to <a href="{reverse("recall_detail", args=[incident.code])}">' in detail


def test_escalation_is_offered_only_on_quality_issues_to_recall_managers(
    client, quality_user, marketing_user, tea
):
    issue = CustomerRequestFactory(kind="quality_issue", department="quality", product=tea)
    complaint = CustomerRequestFactory(kind="complaint", department="quality", product=tea)
    client.force_login(quality_user)
    assert "Escalate to a recall" in page(client.get(reverse("request_detail", args=[issue.pk])))
    assert "Escalate to a recall" not in page(
        client.get(reverse("request_detail", args=[complaint.pk]))
    )
    client.force_login(marketing_user)
    assert "Escalate to a recall" not in page(
        client.get(reverse("request_detail", args=[issue.pk]))
    )


def test_escalating_something_else_falls_back_to_an_empty_form(client, quality_user, tea):
    need = CustomerRequestFactory(kind="need", department="quality", product=tea)
    client.force_login(quality_user)
    for value in (str(need.pk), "abc", "999999"):
        response = client.get(reverse("recall_open"), {"request": value})
        assert response.status_code == 200
        assert response.context["form"].initial == {}
        assert response.context["source"] is None
        assert f"Request {value} is not a quality issue you can see" in page(response)


# ------------------------------------------------------------- tabs, htmx


def test_each_tab_is_a_partial_for_htmx_and_a_full_page_otherwise(client, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    for tab in TABS:
        url = reverse("recall_tab", args=[incident.code, tab])
        full = page(client.get(url))
        partial = page(client.get(url, **HTMX))
        assert full.startswith("<!doctype html>")
        assert f"<h1>{incident.code} · Loose caps on lemon tea</h1>" in full
        assert partial.lstrip().startswith('<div id="tab-panel">')
        assert "<h1>" not in partial
        assert f'href="{url}" hx-get="{url}"' in partial
        current = 'hx-target="#tab-panel" hx-swap="outerHTML" hx-push-url="true" aria-current'
        assert f'hx-get="{url}" {current}="page"' in partial
    overview = page(client.get(reverse("recall_detail", args=[incident.code]), **HTMX))
    assert overview.lstrip().startswith('<div id="tab-panel">')
    assert 'id="timeline"' in overview


def test_the_overview_shows_the_timeline_of_who_did_what(client, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    move(client, incident, "investigating")
    response = client.get(reverse("recall_detail", args=[incident.code]))
    events = response.context["events"]
    assert [(e.actor, e.verb, e.message) for e in events] == [
        (quality_user, "transitioned", "Open → Investigating."),
        (
            quality_user,
            "created",
            f"Opened {incident.code} (Class II — temporary or remote harm) for TEA-LEM-05; "
            "0 related customer requests linked.",
        ),
    ]
    assert 'id="timeline"' in page(response)


# ----------------------------------------------------------- transitions


@pytest.mark.parametrize("role", MANAGERS)
def test_managers_walk_the_whole_workflow_in_the_browser(client, request, role, tea):
    user = request.getfixturevalue(role)
    incident = open_recall(user, [tea])
    client.force_login(user)
    overview = client.get(reverse("recall_detail", args=[incident.code]))
    assert [t["to"] for t in overview.context["transitions"]] == ["investigating"]

    response = move(client, incident, "investigating")
    assert response.status_code == 302
    assert response["Location"] == reverse("recall_tab", args=[incident.code, "overview"])
    assert fresh(incident).status == "investigating"

    # Announcing needs the public notice: refused, with the reasons, and nothing changes.
    version = fresh(incident).version
    refused = move(client, incident, "announced")
    assert refused.status_code == 200
    assert sorted(refused.context["transition_errors"]) == [
        "Give a phone number or e-mail consumers can reach.",
        "Say what consumers should do (stop using, return…).",
    ]
    assert (fresh(incident).status, fresh(incident).version) == ("investigating", version)

    saved = act(
        client,
        incident,
        "edit",
        edit_data(incident, consumer_instructions="Return it.", contact="0800 123 456"),
    )
    assert saved.status_code == 302
    assert move(client, incident, "announced").status_code == 302
    assert fresh(incident).status == "announced"
    assert fresh(incident).announced_at is not None
    assert move(client, incident, "recovering").status_code == 302

    # Closing needs a root cause and the effectiveness figures.
    refused = move(client, incident, "closed")
    assert sorted(refused.context["transition_errors"]) == [
        "Record the effectiveness figures (units distributed and consignees to notify) "
        "before closing.",
        "Record the root cause before closing.",
    ]
    assert fresh(incident).status == "recovering"
    act(client, incident, "edit", edit_data(incident, root_cause="Worn capper head."))
    figures = act(
        client,
        incident,
        "effectiveness",
        {
            "version": fresh(incident).version,
            "units_distributed": 1000,
            "units_returned": 700,
            "units_destroyed": 100,
            "units_corrected": 0,
            "consignees_to_notify": 4,
        },
    )
    assert figures.status_code == 302
    closed = move(client, incident, "closed")
    assert closed.status_code == 302
    incident = fresh(incident)
    assert (incident.status, incident.root_cause) == ("closed", "Worn capper head.")
    assert incident.closed_at is not None
    transitions = ActivityEvent.objects.filter(object_id=incident.pk, verb="transitioned")
    assert [e.data["to"] for e in transitions.order_by("id")] == [
        "investigating",
        "announced",
        "recovering",
        "closed",
    ]
    assert {e.actor for e in transitions} == {user}
    # A closed recall is a record: no workflow, no forms.
    overview = client.get(reverse("recall_detail", args=[incident.code]))
    assert "edit_form" not in overview.context
    assert "This recall is closed: it is a record and no longer changes." in page(overview)


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_marketing_and_sales_cannot_move_a_recall(client, request, role, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(request.getfixturevalue(role))
    overview = client.get(reverse("recall_detail", args=[incident.code]))
    assert overview.context["transitions"] == []
    assert "Move to investigating" not in page(overview)
    assert "Stop shipping" not in page(overview)
    for action, data in (
        ("transition", {"version": 1, "to": "investigating"}),
        ("stop-ship", {"version": 1, "stop": "1"}),
        ("edit", edit_data(incident, title="Hijacked")),
    ):
        response = act(client, incident, action, data)
        assert response.status_code == 403
        assert NOT_MANAGER_MESSAGE in page(response)
    incident = fresh(incident)
    assert (incident.status, incident.stop_ship, incident.title, incident.version) == (
        "open",
        False,
        "Loose caps on lemon tea",
        1,
    )
    assert ProductionHold.objects.count() == 0


def test_an_illegal_transition_is_refused_with_a_clear_message(client, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    response = move(client, incident, "closed")
    assert response.status_code == 200
    assert list(response.context["transition_errors"]) == [
        "A recall that is open cannot become closed."
    ]
    assert "A recall that is open cannot become closed." in page(response)
    assert (fresh(incident).status, fresh(incident).version) == ("open", 1)
    # Not a status at all: the form refuses it.
    response = move(client, incident, "deleted")
    assert response.status_code == 200
    assert fresh(incident).status == "open"


def test_a_stale_version_is_refused_as_changed_by_someone_else(client, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    incidents.recall_update(
        actor=quality_user, incident_id=incident.pk, expected_version=1, title="Renamed"
    )
    client.force_login(quality_user)
    response = act(client, incident, "transition", {"version": 1, "to": "investigating"})
    assert response.status_code == 409
    assert "was changed by someone else while you were editing it" in page(response)
    stale_edit = act(client, incident, "edit", edit_data(incident, version=1, title="Mine"))
    assert stale_edit.status_code == 409
    incident = fresh(incident)
    assert (incident.status, incident.title, incident.version) == ("open", "Renamed", 2)


def test_the_edit_form_shows_field_errors_and_saves_nothing(client, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    response = act(client, incident, "edit", edit_data(incident, title="", hazard=""))
    assert response.status_code == 200
    errors = response.context["edit_form"].errors
    assert errors == {
        "title": ["This field is required."],
        "hazard": ["This field is required."],
    }
    assert 'id="id_edit_title_error"' in page(response)
    assert fresh(incident).version == 1


def test_the_stop_ship_toggle_holds_and_releases_with_banners_everywhere(
    client, quality_user, marketing_user, production_user, tea
):
    promotion = PromotionItemFactory(product=tea, promotion__status="planned").promotion
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    response = act(client, incident, "stop-ship", {"version": 1, "stop": "1"})
    assert response.status_code == 302
    incident = fresh(incident)
    assert incident.stop_ship is True
    assert ProductionHold.objects.filter(reference=incident.code, released_at=None).count() == 1
    promotion.refresh_from_db()
    assert promotion.at_risk_reason == f"Stop-ship {incident.code}: Loose caps on lemon tea"
    banner = f"Stop-ship {incident.code} (Class II — temporary or remote harm)"
    client.force_login(marketing_user)
    assert banner in page(client.get(reverse("product_detail", args=[tea.sku])))
    promotion_page = page(client.get(reverse("promotion_detail", args=[promotion.pk])))
    assert banner in promotion_page
    assert "<strong>At risk:</strong>" in promotion_page
    client.force_login(production_user)
    dashboard = client.get(reverse("production_dashboard"), {"line": tea.production_line_id})
    assert banner in page(dashboard)
    recall_page = page(client.get(reverse("recall_detail", args=[incident.code])))
    assert "<strong>Stop-ship</strong> since" in recall_page

    client.force_login(quality_user)
    released = act(client, incident, "stop-ship", {"version": incident.version, "stop": "0"})
    assert released.status_code == 302
    assert fresh(incident).stop_ship is False
    assert ProductionHold.objects.filter(reference=incident.code, released_at=None).count() == 0
    promotion.refresh_from_db()
    assert promotion.at_risk_reason == ""
    assert Notice.objects.filter(reference=incident.code, cleared_at=None).count() == 0
    client.force_login(marketing_user)
    assert banner not in page(client.get(reverse("product_detail", args=[tea.sku])))
    assert banner not in page(client.get(reverse("promotion_detail", args=[promotion.pk])))


def test_a_closed_recall_refuses_every_change(client, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    for status in ("investigating",):
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, to=status
        )
    RecallIncident.objects.filter(pk=incident.pk).update(status="closed", root_cause="Worn.")
    client.force_login(quality_user)
    response = act(client, incident, "edit", edit_data(incident, title="Changed"))
    assert response.status_code == 200
    assert "edit_form" not in response.context  # no form on a closed recall: an alert
    assert response.context["action_errors"] == ["A closed recall is a record: it cannot change."]
    lot = act(client, incident, "add-lot", {"product": tea.sku, "lot_code": "L1", "units": 5})
    assert lot.context["action_errors"] == ["The recall is closed."]
    assert (fresh(incident).title, AffectedLot.objects.count()) == ("Loose caps on lemon tea", 0)


# -------------------------------------------------------------- lots, holds


def test_lots_are_added_and_bad_lots_refused(client, quality_user, marketing_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    week = add_weeks(current_week(), -2)
    response = act(
        client,
        incident,
        "add-lot",
        {
            "product": "TEA-LEM-05",
            "lot_code": "L-0347",
            "production_week": week.isoformat(),
            "best_before": "2027-07-30",
            "units": 9600,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("recall_tab", args=[incident.code, "lots"])
    lot = AffectedLot.objects.get()
    assert (lot.lot_code, lot.production_week, lot.best_before, lot.units) == (
        "L-0347",
        week,
        dt.date(2027, 7, 30),
        9600,
    )
    refused = act(client, incident, "add-lot", {"product": "TEA-LEM-05", "units": 10})
    assert refused.status_code == 200
    assert refused.context["lot_form"].errors == {
        "lot_code": ["Give a lot code or a production week."]
    }
    negative = act(
        client, incident, "add-lot", {"product": "TEA-LEM-05", "lot_code": "X", "units": -1}
    )
    assert negative.context["lot_form"].errors == {
        "units": ["Ensure this value is greater than or equal to 0."]
    }
    client.force_login(marketing_user)
    forbidden = act(
        client, incident, "add-lot", {"product": "TEA-LEM-05", "lot_code": "L-9", "units": 1}
    )
    assert forbidden.status_code == 403
    assert AffectedLot.objects.count() == 1
    lots_tab = client.get(reverse("recall_tab", args=[incident.code, "lots"]))
    assert "lot_form" not in lots_tab.context
    assert lots_tab.context["lot_units"] == 9600


def test_a_lot_of_a_product_outside_the_recall_needs_the_explicit_step(client, quality_user, tea):
    mint = ProductFactory(sku="TEA-MNT-01", name="Mint tea")
    incident = open_recall(quality_user, [tea], stop_ship=True)
    client.force_login(quality_user)
    lot = {"product": "TEA-MNT-01", "lot_code": "M-1", "units": 40}

    tab = page(client.get(reverse("recall_tab", args=[incident.code, "lots"])))
    refused = act(client, incident, "add-lot", lot)

    label = "Add the product to the recall and stop its shipping"
    assert label in tab
    assert refused.status_code == 200
    assert label in page(refused)  # the form shown again says it too
    assert refused.context["lot_form"].errors == {
        "product": [
            "TEA-MNT-01 is not in this recall. Adding it stops its shipping: its production "
            "is held at 0. Confirm adding the product to the recall to go ahead."
        ]
    }
    assert AffectedLot.objects.count() == 0
    assert list(fresh(incident).products.all()) == [tea]
    assert not ProductionHold.objects.filter(product=mint).exists()

    added = act(client, incident, "add-lot", {**lot, "add_product": "on"})

    assert added.status_code == 302
    assert sorted(fresh(incident).products.values_list("sku", flat=True)) == [
        "TEA-LEM-05",
        "TEA-MNT-01",
    ]
    assert ProductionHold.objects.filter(product=mint, released_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"lot_code": "L-0347"},
            {"lot_code": ["Lot L-0347 of TEA-LEM-05 is already in this recall."]},
        ),
        (
            {"production_week": "NEXT"},
            {"production_week": ["NEXT is in the future: a lot is produced this week or earlier."]},
        ),
    ],
)
def test_a_repeated_lot_or_a_future_week_is_refused_at_its_field(
    client, quality_user, tea, data, errors
):
    next_week = iso_label(add_weeks(current_week(), 1))
    data = {k: next_week if v == "NEXT" else v for k, v in data.items()}
    errors = {k: [m.replace("NEXT", next_week) for m in v] for k, v in errors.items()}
    incident = open_recall(quality_user, [tea])
    incidents.lot_add(
        actor=quality_user, incident_id=incident.pk, product_id=tea.pk, lot_code="L-0347"
    )
    client.force_login(quality_user)

    response = act(client, incident, "add-lot", {"product": "TEA-LEM-05", "units": 5, **data})

    assert response.status_code == 200
    assert response.context["lot_form"].errors == errors
    assert list(AffectedLot.objects.values_list("lot_code", "units")) == [("L-0347", 0)]


def test_the_lots_tab_lists_holds_held_quotas_and_promotions_at_risk(client, quality_user, tea):
    promotion = PromotionItemFactory(product=tea, promotion__status="confirmed").promotion
    incident = open_recall(quality_user, [tea], stop_ship=True)
    reason = f"Stop-ship {incident.code}: Loose caps on lemon tea"
    for weeks_ahead in (1, 2, 3):
        QuotaRecommendationFactory(
            product=tea,
            week=add_weeks(current_week(), weeks_ahead),
            baseline=100.0,
            net_requirement=0.0,
            recommended_units=0.0,
            hold_reason=reason,
        )
    QuotaRecommendationFactory(product=tea, week=add_weeks(current_week(), 4))
    client.force_login(quality_user)
    response = client.get(reverse("recall_tab", args=[incident.code, "lots"]))
    consequences = response.context["consequences"]
    assert [h.product for h in consequences["holds"]] == [tea]
    assert consequences["active_holds"] == 1
    assert [
        (row["product"], row["weeks"], row["first_week"], row["last_week"], row["demand"])
        for row in consequences["held"]
    ] == [(tea, 3, add_weeks(current_week(), 1), add_weeks(current_week(), 3), 300.0)]
    assert consequences["promotions"] == [promotion]
    assert reason in page(response)


# ------------------------------------------------------------------ tasks


def test_tasks_are_added_flagged_when_overdue_and_completed_by_their_owner(
    client, quality_user, production_user, tea
):
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    due = timezone.localdate() + dt.timedelta(days=2)
    response = act(
        client,
        incident,
        "add-task",
        {
            "title": "Quarantine stock",
            "department": "production",
            "owner": production_user.pk,
            "due_date": due.isoformat(),
        },
    )
    assert response.status_code == 302
    task = RecallTask.objects.get()
    assert (task.title, task.department, task.owner, task.due_date) == (
        "Quarantine stock",
        "production",
        production_user,
        due,
    )
    RecallTask.objects.filter(pk=task.pk).update(due_date=timezone.localdate() - dt.timedelta(1))
    tasks_tab = client.get(reverse("recall_tab", args=[incident.code, "tasks"]))
    assert "Overdue ·" in page(tasks_tab)
    assert next(t for t in tasks_tab.context["tabs"] if t["name"] == "tasks")["alert"] == 1
    client.force_login(production_user)
    done = act(client, incident, "complete-task", item=task.pk)
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None
    again = act(client, incident, "complete-task", item=task.pk)
    assert again.status_code == 200
    assert again.context["action_errors"] == ["The task is already done."]
    assert (
        '<div class="alert alert-error" role="alert"><p>The task is already done.</p></div>'
        in page(again)
    )


def test_a_task_for_the_wrong_person_or_a_past_date_is_refused(
    client, quality_user, marketing_user, sales_user, tea
):
    incident = open_recall(quality_user, [tea])
    client.force_login(quality_user)
    response = act(
        client,
        incident,
        "add-task",
        {
            "title": "Call customers",
            "department": "production",
            "owner": marketing_user.pk,
            "due_date": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert response.context["task_form"].errors == {
        "owner": [f"{marketing_user} does not work in Production."],
        "due_date": ["The due date has passed."],
    }
    client.force_login(sales_user)  # Sales completes tasks but does not add them
    forbidden = act(
        client,
        incident,
        "add-task",
        {
            "title": "Call customers",
            "department": "sales",
            "owner": sales_user.pk,
            "due_date": timezone.localdate().isoformat(),
        },
    )
    assert forbidden.status_code == 403
    assert "Your role may not add recall tasks." in page(forbidden)
    assert RecallTask.objects.count() == 0


@pytest.mark.parametrize(("user", "allowed"), ROLE_MAY_COMPLETE)
def test_quality_s_task_is_completed_only_by_its_owner_department_or_managers(
    client, request, quality_user, tea, user, allowed
):
    incident = open_recall(quality_user, [tea])
    task = add_samples_task(incident, quality_user)
    client.force_login(request.getfixturevalue(user))
    button_url = reverse("recall_item_action", args=[incident.code, "complete-task", task.pk])
    events = ActivityEvent.objects.count()

    tab = page(client.get(reverse("recall_tab", args=[incident.code, "tasks"])))
    response = act(client, incident, "complete-task", item=task.pk)

    task.refresh_from_db()
    assert (button_url in tab) is allowed
    if allowed:
        assert response.status_code == 302
        assert task.done_at is not None
        return
    message = refusal(quality_user)
    assert response.status_code == 403
    assert response.context["action_errors"] == [message]
    assert f'<div class="alert alert-error" role="alert"><p>{message}</p></div>' in page(response)
    assert task.done_at is None
    assert ActivityEvent.objects.count() == events


def test_a_task_of_another_incident_is_not_found(client, quality_user, production_user, tea):
    first = open_recall(quality_user, [tea])
    second = open_recall(quality_user, [tea], title="Other")
    task = communication.task_add(
        actor=quality_user,
        incident_id=first.pk,
        title="Quarantine",
        department="production",
        owner_id=production_user.pk,
        due_date=timezone.localdate(),
    )
    client.force_login(production_user)
    assert act(client, second, "complete-task", item=task.pk).status_code == 404
    task.refresh_from_db()
    assert task.done_at is None


# ------------------------------------------------------------------ press


def test_marketing_logs_and_answers_press_inquiries(client, quality_user, marketing_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(marketing_user)
    due = timezone.localtime() + dt.timedelta(hours=20)
    response = act(
        client,
        incident,
        "log-press",
        {
            "outlet": "Daily Courier",
            "contact": "J. Reyes",
            "question": "How many bottles?",
            "response_due": due.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    inquiry = PressInquiry.objects.get()
    assert (inquiry.outlet, inquiry.status) == ("Daily Courier", "open")
    assert inquiry.response_due == due.replace(second=0, microsecond=0)
    empty = act(client, incident, "answer-press", {"answer": " "}, item=inquiry.pk)
    assert empty.status_code == 200
    row = empty.context["press_rows"][0]
    assert row["answer_form"].errors == {"answer": ["Write the answer given to the outlet."]}
    inquiry.refresh_from_db()
    assert inquiry.status == "open"
    answered = act(client, incident, "answer-press", {"answer": "About 18,000."}, item=inquiry.pk)
    assert answered.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.answer, inquiry.answered_by) == (
        "answered",
        "About 18,000.",
        marketing_user,
    )
    second = communication.press_inquiry_log(
        actor=marketing_user,
        incident_id=incident.pk,
        outlet="Radio One",
        contact="Desk",
        question="Comment?",
        response_due=timezone.now() + dt.timedelta(hours=2),
    )
    declined = act(client, incident, "answer-press", {"decline": "1"}, item=second.pk)
    assert declined.status_code == 302
    second.refresh_from_db()
    assert second.status == "declined"


def test_press_due_before_it_was_received_is_refused(client, quality_user, marketing_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(marketing_user)
    now = timezone.localtime()
    response = act(
        client,
        incident,
        "log-press",
        {
            "outlet": "Daily Courier",
            "contact": "J. Reyes",
            "question": "How many?",
            "received_at": now.strftime("%Y-%m-%dT%H:%M"),
            "response_due": (now - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    assert response.context["press_form"].errors == {
        "response_due": ["The answer cannot be due before the question."]
    }
    assert PressInquiry.objects.count() == 0


@pytest.mark.parametrize("role", ["quality_user", "production_user", "sales_user"])
def test_only_marketing_handles_the_press(client, request, role, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(request.getfixturevalue(role))
    press_tab = client.get(reverse("recall_tab", args=[incident.code, "press"]))
    assert "press_form" not in press_tab.context
    response = act(
        client,
        incident,
        "log-press",
        {
            "outlet": "Daily Courier",
            "contact": "J. Reyes",
            "question": "How many?",
            "response_due": (timezone.localtime() + dt.timedelta(hours=3)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
        },
    )
    assert response.status_code == 403
    assert "Only Marketing handles press inquiries." in page(response)
    assert PressInquiry.objects.count() == 0


# ------------------------------------------------------------- statements


def test_statement_four_eyes_in_the_browser(
    client, quality_user, marketing_user, production_user, make_user, tea
):
    incident = open_recall(quality_user, [tea])
    client.force_login(marketing_user)
    drafted = act(
        client,
        incident,
        "draft-statement",
        {"title": "We recall lemon tea", "body": "Please return it."},
    )
    assert drafted.status_code == 302
    statement = Statement.objects.get()
    assert (statement.status, statement.author) == ("draft", marketing_user)
    edited = act(
        client,
        incident,
        "edit-statement",
        {"version": 1, "title": "We recall lemon tea", "body": "Please return it for a refund."},
        item=statement.pk,
    )
    assert edited.status_code == 302
    submitted = act(client, incident, "submit-statement", {"version": 2}, item=statement.pk)
    assert submitted.status_code == 302
    statement.refresh_from_db()
    assert (statement.status, statement.version) == ("submitted", 3)

    # The author sees no approve button; Marketing may not approve at all, nor may
    # another marketer or Production.
    tab = client.get(reverse("recall_tab", args=[incident.code, "statements"]))
    assert "review_form" not in tab.context["statement_rows"][0]
    assert "a statement cannot be approved by its author" in page(tab)
    for other in (marketing_user, make_user("Marketing", username="mo"), production_user):
        client.force_login(other)
        refused = act(
            client,
            incident,
            "review-statement",
            {"version": 3, "decision": "approve"},
            item=statement.pk,
        )
        assert refused.status_code == 403
        assert "Your role may not approve recall statements." in page(refused)
    statement.refresh_from_db()
    assert (statement.status, statement.reviewed_by, statement.version) == ("submitted", None, 3)

    # Quality sends it back (a note is required), the author resubmits, Quality approves.
    client.force_login(quality_user)
    no_note = act(
        client,
        incident,
        "review-statement",
        {"version": 3, "decision": "send_back"},
        item=statement.pk,
    )
    assert no_note.status_code == 200
    assert no_note.context["statement_rows"][0]["review_form"].errors == {
        "note": ["Say what must change before it can be approved."]
    }
    back = act(
        client,
        incident,
        "review-statement",
        {"version": 3, "decision": "send_back", "note": "Name the lots."},
        item=statement.pk,
    )
    assert back.status_code == 302
    statement.refresh_from_db()
    assert (statement.status, statement.review_note) == ("rejected", "Name the lots.")
    client.force_login(marketing_user)
    act(
        client,
        incident,
        "edit-statement",
        {"version": statement.version, "title": "We recall lemon tea", "body": "Lots L1, L2."},
        item=statement.pk,
    )
    statement.refresh_from_db()
    act(client, incident, "submit-statement", {"version": statement.version}, item=statement.pk)
    statement.refresh_from_db()
    client.force_login(quality_user)
    approved = act(
        client,
        incident,
        "review-statement",
        {"version": statement.version, "decision": "approve"},
        item=statement.pk,
    )
    assert approved.status_code == 302
    statement.refresh_from_db()
    assert (statement.status, statement.reviewed_by) == ("approved", quality_user)

    # Only Marketing publishes.
    refused = act(
        client, incident, "publish-statement", {"version": statement.version}, item=statement.pk
    )
    assert refused.status_code == 403
    assert "Only Marketing publishes recall statements." in page(refused)
    client.force_login(marketing_user)
    published = act(
        client, incident, "publish-statement", {"version": statement.version}, item=statement.pk
    )
    assert published.status_code == 302
    statement.refresh_from_db()
    assert statement.status == "published"
    assert statement.published_at is not None


def test_the_author_may_not_approve_even_with_approval_rights(
    client, admin_user, quality_user, tea
):
    """Admin may draft and approve, but never its own statement: four eyes."""
    incident = open_recall(quality_user, [tea])
    client.force_login(admin_user)
    act(client, incident, "draft-statement", {"title": "We recall lemon tea", "body": "Return it."})
    statement = Statement.objects.get()
    act(client, incident, "submit-statement", {"version": 1}, item=statement.pk)
    tab = client.get(reverse("recall_tab", args=[incident.code, "statements"]))
    row = tab.context["statement_rows"][0]
    assert (row["mine"], "review_form" in row) == (True, False)
    own = act(
        client,
        incident,
        "review-statement",
        {"version": 2, "decision": "approve"},
        item=statement.pk,
    )
    assert own.status_code == 403
    assert own.context["action_errors"] == ["A statement cannot be approved by its author."]
    statement.refresh_from_db()
    assert (statement.status, statement.reviewed_by, statement.version) == ("submitted", None, 2)
    client.force_login(quality_user)
    tab = client.get(reverse("recall_tab", args=[incident.code, "statements"]))
    assert "review_form" in tab.context["statement_rows"][0]
    approved = act(
        client,
        incident,
        "review-statement",
        {"version": 2, "decision": "approve"},
        item=statement.pk,
    )
    assert approved.status_code == 302
    statement.refresh_from_db()
    assert (statement.status, statement.reviewed_by) == ("approved", quality_user)


def test_a_stale_statement_review_is_refused(client, quality_user, marketing_user, tea):
    incident = open_recall(quality_user, [tea])
    statement = communication.statement_draft(
        actor=marketing_user, incident_id=incident.pk, title="T", body="B"
    )
    communication.statement_submit(
        actor=marketing_user, statement_id=statement.pk, expected_version=1
    )
    client.force_login(quality_user)
    response = act(
        client,
        incident,
        "review-statement",
        {"version": 1, "decision": "approve"},
        item=statement.pk,
    )
    assert response.status_code == 409
    assert "was changed by someone else" in page(response)
    statement.refresh_from_db()
    assert statement.status == "submitted"


# ----------------------------------------------------------- effectiveness


def test_effectiveness_figures_chart_and_refused_figures(client, quality_user, sales_user, tea):
    incident = open_recall(quality_user, [tea])
    for name in ("Greenway", "Cornerstone"):
        communication.notification_log(
            actor=sales_user, incident_id=incident.pk, consignee=name, channel="email"
        )
    client.force_login(quality_user)
    figures = {
        "version": 1,
        "units_distributed": 1000,
        "units_returned": 600,
        "units_destroyed": 100,
        "units_corrected": 50,
        "consignees_to_notify": 8,
    }
    assert act(client, incident, "effectiveness", figures).status_code == 302
    response = client.get(reverse("recall_tab", args=[incident.code, "effectiveness"]))
    eff = response.context["eff"]
    assert (eff.recovered, eff.unaccounted, str(eff.recovered_pct)) == (750, 250, "75.0")
    assert (eff.notified, str(eff.notified_pct), str(eff.check_level_pct)) == (2, "25.0", "25")
    assert eff.meets_check_level is True
    chart = response.context["chart"]
    assert [item["label"] for item in chart["legend"]] == [
        "Done",
        "Outstanding",
        "Check level for Class II: 25% of consignees",
    ]
    assert [bar["title"] for bar in chart["bars"]] == [
        "Units recovered · Done: 75",
        "Units recovered · Outstanding: 25",
        "Consignees notified · Done: 25",
        "Consignees notified · Outstanding: 75",
        "Receipt confirmed · Outstanding: 100",
    ]
    html = page(response)
    assert '<svg class="chart"' in html
    assert "Check level met" in html

    version = fresh(incident).version
    too_many = act(
        client, incident, "effectiveness", {**figures, "version": version, "units_returned": 2000}
    )
    assert too_many.status_code == 200
    assert too_many.context["effectiveness_form"].errors == {
        "units_distributed": [
            "2,150 units recovered is more than the 1,000 distributed: check the figures."
        ]
    }
    too_few = act(
        client,
        incident,
        "effectiveness",
        {**figures, "version": version, "consignees_to_notify": 1},
    )
    assert too_few.context["effectiveness_form"].errors == {
        "consignees_to_notify": ["2 consignees are already recorded as notified."]
    }
    incident = fresh(incident)
    assert (incident.units_returned, incident.consignees_to_notify, incident.version) == (
        600,
        8,
        version,
    )
    client.force_login(sales_user)
    forbidden = act(client, incident, "effectiveness", {**figures, "version": version})
    assert forbidden.status_code == 403
    assert fresh(incident).version == version


# ---------------------------------------------------------- notifications


def test_notifications_are_logged_once_per_consignee(client, quality_user, sales_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(sales_user)
    data = {
        "consignee": "Greenway Grocers",
        "account": "BB-1",
        "channel": "phone",
        "acknowledged": "on",
    }
    response = act(client, incident, "log-notification", data)
    assert response.status_code == 302
    notification = CustomerNotification.objects.get()
    assert (notification.consignee, notification.notified_by, notification.acknowledged) == (
        "Greenway Grocers",
        sales_user,
        True,
    )
    again = act(client, incident, "log-notification", data)
    assert again.status_code == 200
    assert again.context["notification_form"].errors == {
        "consignee": ["Greenway Grocers is already recorded."]
    }
    future = act(
        client,
        incident,
        "log-notification",
        {
            "consignee": "Cornerstone",
            "channel": "email",
            "notified_at": (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert future.context["notification_form"].errors == {
        "notified_at": ["A notification cannot be in the future."]
    }
    assert CustomerNotification.objects.count() == 1


def test_marketing_does_not_log_consignee_notifications(client, quality_user, marketing_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(marketing_user)
    tab = client.get(reverse("recall_tab", args=[incident.code, "notifications"]))
    assert "notification_form" not in tab.context
    response = act(client, incident, "log-notification", {"consignee": "X", "channel": "email"})
    assert response.status_code == 403
    assert "Your role may not log consignee notifications." in page(response)
    assert CustomerNotification.objects.count() == 0


def test_escalated_requests_are_only_quality_issues(quality_user, tea):
    """The open form's hidden field offers exactly the quality issues."""
    from recalls.forms import RecallOpenForm

    issue = CustomerRequestFactory(kind="quality_issue", product=tea)
    CustomerRequestFactory(kind="complaint", product=tea)
    queryset = RecallOpenForm().fields["source_requests"].queryset
    assert list(queryset) == [issue]
    assert CustomerRequest.objects.count() == 2


def test_comments_on_the_incident_timeline(client, quality_user, marketing_user, tea):
    incident = open_recall(quality_user, [tea])
    client.force_login(marketing_user)
    url = reverse("timeline_comment", args=["recalls.recallincident", incident.pk])
    response = client.post(url, {"body": "Press call booked for 3 pm.", "next": "/recalls/"})
    assert response.status_code == 302
    event = ActivityEvent.objects.filter(object_id=incident.pk, verb="commented").get()
    assert (event.actor, event.message) == (marketing_user, "Press call booked for 3 pm.")
    overview = page(client.get(reverse("recall_detail", args=[incident.code])))
    assert "Press call booked for 3 pm." in overview
