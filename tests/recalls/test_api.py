"""REST API: /api/v1/recalls/... and /api/v1/press-inquiries/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordination.models import ActivityEvent
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
from tests.api_errors import NOT_ALLOWED, NOT_SIGNED_IN, invalid, refused
from tests.factories import CustomerRequestFactory
from tests.recalls.task_rule import ROLE_MAY_COMPLETE, add_samples_task, refusal

pytestmark = pytest.mark.django_db

RECALLS = "/api/v1/recalls/"
PRESS_DESK = "/api/v1/press-inquiries/"
ROLES = ["marketing_user", "sales_user", "production_user", "quality_user", "admin_user"]
MANAGERS = ["production_user", "quality_user", "admin_user"]
NOT_MANAGERS = ["marketing_user", "sales_user"]


def iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def url(code: str, *parts) -> str:
    return f"{RECALLS}{code}/" + "".join(f"{part}/" for part in parts)


def client_for(user) -> APIClient:
    client = APIClient()
    client.default_format = "json"  # the API parses JSON only
    client.force_authenticate(user)
    return client


def open_recall(actor, products, **overrides) -> RecallIncident:
    fields = {
        "title": "Glass fragments in lemon tea",
        "classification": "class_i",
        "hazard": "Glass can cut the mouth.",
        "source": "internal_test",
    }
    fields.update(overrides)
    return incidents.recall_open(actor=actor, product_ids=[p.pk for p in products], **fields)


@pytest.fixture
def incident(quality_user, tea):
    return open_recall(quality_user, [tea])


def fresh(incident: RecallIncident) -> RecallIncident:
    return RecallIncident.objects.get(pk=incident.pk)


def state(incident: RecallIncident) -> tuple:
    """Everything a refused request must leave alone."""
    return (
        RecallIncident.objects.filter(pk=incident.pk).values().get(),
        ActivityEvent.objects.count(),
        AffectedLot.objects.count(),
        RecallTask.objects.count(),
        PressInquiry.objects.count(),
        Statement.objects.count(),
        CustomerNotification.objects.count(),
        ProductionHold.objects.count(),
    )


def detail_of(incident: RecallIncident) -> dict:
    incident = fresh(incident)
    today = timezone.localdate()
    tasks = incident.tasks.filter(done_at__isnull=True)
    return {
        "code": incident.code,
        "title": incident.title,
        "classification": incident.classification,
        "status": incident.status,
        "next_statuses": {
            "open": ["investigating"],
            "investigating": ["announced"],
            "announced": ["recovering"],
            "recovering": ["closed"],
            "closed": [],
        }[incident.status],
        "source": incident.source,
        "description": incident.description,
        "hazard": incident.hazard,
        "root_cause": incident.root_cause,
        "consumer_instructions": incident.consumer_instructions,
        "contact": incident.contact,
        "source_requests": sorted(incident.source_requests.values_list("pk", flat=True)),
        "related_requests": sorted(incident.related_requests.values_list("pk", flat=True)),
        "products": sorted(incident.products.values_list("sku", flat=True)),
        "lots": [
            {
                "id": lot.pk,
                "product": lot.product.sku,
                "lot_code": lot.lot_code,
                "production_week": lot.production_week.isoformat() if lot.production_week else None,
                "best_before": lot.best_before.isoformat() if lot.best_before else None,
                "units": lot.units,
            }
            for lot in incident.lots.order_by("product__sku", "lot_code", "production_week")
        ],
        "stop_ship": incident.stop_ship,
        "stop_ship_since": iso(incident.stop_ship_since),
        "owner": incident.owner.username,
        "created_by": incident.created_by.username,
        "units_distributed": incident.units_distributed,
        "units_returned": incident.units_returned,
        "units_destroyed": incident.units_destroyed,
        "units_corrected": incident.units_corrected,
        "units_recovered": incident.units_recovered,
        "consignees_to_notify": incident.consignees_to_notify,
        "effectiveness": effectiveness_of(incident, report=False),
        "open_tasks": tasks.count(),
        "overdue_tasks": tasks.filter(due_date__lt=today).count(),
        "open_press_inquiries": incident.press_inquiries.filter(status="open").count(),
        "public_notice_url": f"/recall-notices/{incident.code}/" if incident.is_public else None,
        "announced_at": iso(incident.announced_at),
        "closed_at": iso(incident.closed_at),
        "version": incident.version,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
    }


def effectiveness_of(incident: RecallIncident, report: bool = True) -> dict:
    """Written out from the figures, independently of the selector."""
    recovered = incident.units_returned + incident.units_destroyed + incident.units_corrected
    notified = incident.notifications.count()
    level = {"class_i": 100, "class_ii": 25, "class_iii": 10}[incident.classification]

    def pct(part, whole):
        return f"{round(part * 100 / whole, 1):.1f}" if whole else None

    body = {
        "distributed": incident.units_distributed,
        "recovered": recovered,
        "returned": incident.units_returned,
        "destroyed": incident.units_destroyed,
        "corrected": incident.units_corrected,
        "unaccounted": incident.units_distributed - recovered,
        "recovered_pct": pct(recovered, incident.units_distributed),
        "consignees": incident.consignees_to_notify,
        "notified": notified,
        "acknowledged": incident.notifications.filter(acknowledged=True).count(),
        "notified_pct": pct(notified, incident.consignees_to_notify),
        "check_level_pct": f"{level}.0",
        "meets_check_level": incident.consignees_to_notify > 0
        and notified * 100 >= level * incident.consignees_to_notify,
    }
    if report:
        body = {
            "code": incident.code,
            "classification": incident.classification,
            "version": incident.version,
            **body,
        }
    return body


# ------------------------------------------------------------------- auth, roles


def test_anonymous_clients_get_401_with_a_token_challenge(incident, quality_user):
    anonymous = APIClient()
    before = state(incident)
    for response in (
        anonymous.get(RECALLS),
        anonymous.get(url(incident.code)),
        anonymous.post(RECALLS, {"title": "x"}, format="json"),
        anonymous.post(url(incident.code, "transition"), {"status": "investigating", "version": 1}),
        anonymous.get(url(incident.code, "tasks")),
        anonymous.get(PRESS_DESK),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert response.json() == NOT_SIGNED_IN
    assert state(incident) == before
    token = Token.objects.create(user=quality_user)
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = anonymous.get(RECALLS)
    assert (response.status_code, response.json()["count"]) == (200, 1)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_everything(role, request, incident):
    client = client_for(request.getfixturevalue(role))
    listed = client.get(RECALLS)
    assert (listed.status_code, [r["code"] for r in listed.json()["results"]]) == (
        200,
        [incident.code],
    )
    assert client.get(url(incident.code)).json() == detail_of(incident)
    for part in (
        "effectiveness",
        "activity",
        "lots",
        "tasks",
        "press-inquiries",
        "statements",
        "notifications",
    ):
        assert client.get(url(incident.code, part)).status_code == 200, part
    assert client.get(PRESS_DESK).status_code == 200


def test_405_for_methods_that_are_not_routed(incident, admin_user, quality_user):
    client = client_for(admin_user)
    task = communication.task_add(
        actor=quality_user,
        incident_id=incident.pk,
        title="Samples",
        department="quality",
        owner_id=quality_user.pk,
        due_date=timezone.localdate(),
    )
    before = state(incident)
    for method, target in (
        ("put", url(incident.code)),
        ("delete", url(incident.code)),
        ("get", url(incident.code, "transition")),
        ("get", url(incident.code, "stop-ship")),
        ("post", url(incident.code, "effectiveness")),
        ("delete", url(incident.code, "tasks", task.pk)),
        ("patch", url(incident.code, "tasks", task.pk)),
        ("delete", url(incident.code, "lots")),
        ("post", PRESS_DESK),
    ):
        response = getattr(client, method)(target, {}, format="json")
        assert response.status_code == 405, (method, target)
        assert response.json() == refused(
            f'Method "{method.upper()}" not allowed.', "method_not_allowed"
        )
    assert state(incident) == before


def test_unknown_recalls_and_items_are_a_json_404(incident, quality_user):
    client = client_for(quality_user)
    response = client.get(url("RC-1999-9999"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    nested = client.get(url("RC-1999-9999", "tasks"))
    assert (nested.status_code, nested.json()) == (
        404,
        refused("No recall RC-1999-9999.", "not_found"),
    )
    assert client.get(url(incident.code, "tasks", "abc")).status_code == 404
    assert client.get(url(incident.code, "statements", 999)).status_code == 404


# ------------------------------------------------------------------ list, filters


def test_list_filters_and_pages(quality_user, tea, mint):
    glass = open_recall(quality_user, [tea])
    label = open_recall(quality_user, [mint], classification="class_iii", title="Wrong label")
    mould = open_recall(quality_user, [tea, mint], classification="class_ii", stop_ship=True)
    incidents.recall_transition(
        actor=quality_user, incident_id=label.pk, expected_version=UNCHECKED, to="investigating"
    )
    client = client_for(quality_user)

    def codes(**params) -> list[str]:
        response = client.get(RECALLS, params)
        assert response.status_code == 200
        return [row["code"] for row in response.json()["results"]]

    assert codes() == [mould.code, label.code, glass.code]
    assert codes(status="investigating") == [label.code]
    assert codes(status=["open", "investigating"]) == [mould.code, label.code, glass.code]
    assert codes(classification="class_i") == [glass.code]
    assert codes(product="TEA-MNT-01") == [mould.code, label.code]
    assert codes(stop_ship="true") == [mould.code]
    response = client.get(RECALLS, {"status": "bogus", "product": "NOPE-1"})
    assert response.status_code == 400
    assert response.json() == invalid(
        {
            "status": ["Select a valid choice. bogus is not one of the available choices."],
            "product": ["No product with SKU NOPE-1."],
        }
    )
    first = client.get(RECALLS, {"page_size": 2}).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (3, 2, None)
    assert first["next"] == "http://testserver/api/v1/recalls/?page=2&page_size=2"
    second = client.get(RECALLS, {"page_size": 2, "page": 2}).json()
    assert [row["code"] for row in second["results"]] == [glass.code]
    assert second["next"] is None
    row = first["results"][0]
    assert row == {
        "code": mould.code,
        "title": "Glass fragments in lemon tea",
        "classification": "class_ii",
        "status": "open",
        "source": "internal_test",
        "products": ["TEA-LEM-05", "TEA-MNT-01"],
        "stop_ship": True,
        "stop_ship_since": iso(fresh(mould).stop_ship_since),
        "owner": "quinn",
        "units_distributed": 0,
        "units_recovered": 0,
        "consignees_to_notify": 0,
        "open_tasks": 0,
        "overdue_tasks": 0,
        "open_press_inquiries": 0,
        "announced_at": None,
        "closed_at": None,
        "version": 2,
        "created_at": iso(fresh(mould).created_at),
        "updated_at": iso(fresh(mould).updated_at),
    }


# ------------------------------------------------------------------------ create

NEW_RECALL = {
    "title": "Glass fragments in lemon tea",
    "classification": "class_i",
    "hazard": "Glass can cut the mouth.",
    "source": "customer",
    "products": [" tea-lem-05 "],
    "description": "Two shops reported glass.",
}


@pytest.mark.parametrize("role", MANAGERS)
def test_quality_production_and_admin_open_recalls(role, request, tea):
    actor = request.getfixturevalue(role)
    source = CustomerRequestFactory(product=tea, kind="quality_issue")
    response = client_for(actor).post(
        RECALLS, {**NEW_RECALL, "source_requests": [source.pk]}, format="json"
    )
    assert response.status_code == 201
    incident = RecallIncident.objects.get()
    body = response.json()
    assert body == detail_of(incident)
    assert body["code"] == f"RC-{incident.created_at:%Y}-{incident.pk:04d}"
    assert (body["status"], body["owner"], body["created_by"], body["version"]) == (
        "open",
        actor.username,
        actor.username,
        1,
    )
    assert (body["source_requests"], body["related_requests"]) == ([source.pk], [source.pk])
    assert body["next_statuses"] == ["investigating"]
    assert body["effectiveness"]["check_level_pct"] == "100.0"


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_marketing_and_sales_cannot_open_recalls(role, request, tea):
    response = client_for(request.getfixturevalue(role)).post(RECALLS, NEW_RECALL, format="json")
    assert (response.status_code, response.json()) == (403, NOT_ALLOWED)
    assert RecallIncident.objects.count() == 0


def test_opening_with_an_owner_and_a_stop_ship(quality_user, production_user, tea):
    response = client_for(quality_user).post(
        RECALLS, {**NEW_RECALL, "owner": "petra", "stop_ship": True}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["owner"], body["created_by"], body["stop_ship"], body["version"]) == (
        "petra",
        "quinn",
        True,
        2,
    )
    assert list(ProductionHold.objects.values_list("product__sku", "reference")) == [
        ("TEA-LEM-05", body["code"])
    ]


def test_bad_input_is_a_400_with_field_errors_and_saves_nothing(quality_user, tea):
    client = client_for(quality_user)
    need = CustomerRequestFactory(product=tea, kind="need")
    cases = [
        (
            {},
            {
                "title": ["This field is required."],
                "classification": ["This field is required."],
                "hazard": ["This field is required."],
                "source": ["This field is required."],
                "products": ["This field is required."],
            },
        ),
        (
            {**NEW_RECALL, "classification": "class_iv", "products": ["TEA-LEM-05", "NOPE-1", 7]},
            {
                "classification": ['"class_iv" is not a valid choice.'],
                "products.1": ["No product with SKU NOPE-1."],
                "products.2": ["Give the product's SKU as text, e.g. BEV-1001."],
            },
        ),
        (
            {**NEW_RECALL, "products": []},
            {"products": ["Ensure this field has at least 1 elements."]},
        ),
        (
            {**NEW_RECALL, "source_requests": [999_999], "owner": "nobody"},
            {
                "source_requests.0": ["No customer request 999999."],
                "owner": ["No active user named nobody."],
            },
        ),
        # The service's rule, in the same body shape.
        (
            {**NEW_RECALL, "source_requests": [need.pk]},
            {"source_requests": ["Only quality issues can be escalated to a recall."]},
        ),
    ]
    for payload, fields in cases:
        response = client.post(RECALLS, payload, format="json")
        assert (response.status_code, response.json()) == (400, invalid(fields)), payload
    assert RecallIncident.objects.count() == 0
    assert ActivityEvent.objects.count() == 0


# ------------------------------------------------------------------------- patch


def test_patch_edits_with_the_version_read(incident, production_user):
    response = client_for(production_user).patch(
        url(incident.code),
        {
            "version": 1,
            "root_cause": " Cracked nozzle ",
            "owner": "petra",
            "classification": "class_ii",
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == detail_of(incident)
    incident = fresh(incident)
    assert (incident.root_cause, incident.owner, incident.classification, incident.version) == (
        "Cracked nozzle",
        production_user,
        "class_ii",
        2,
    )
    assert response.json()["effectiveness"]["check_level_pct"] == "25.0"


def test_a_stale_patch_is_409_and_changes_nothing(incident, quality_user):
    incidents.recall_update(
        actor=quality_user, incident_id=incident.pk, expected_version=1, title="Glass"
    )
    before = state(incident)
    response = client_for(quality_user).patch(
        url(incident.code), {"version": 1, "title": "Mine"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "stale_edit",
            "message": f"Recall incident {incident.code} Glass was changed by someone else while "
            "you were editing it. Reload to see the current version, then apply your change "
            "again.",
            "fields": {},
        }
    }
    assert state(incident) == before


def test_patch_refuses_what_changes_elsewhere_and_bad_fields(
    incident, quality_user, marketing_user
):
    client = client_for(quality_user)
    before = state(incident)
    cases = [
        ({"title": "x"}, {"version": ["This field is required."]}),
        (
            {"version": 1, "status": "closed", "stop_ship": True, "code": "X"},
            {
                "status": ["Change the status with POST /api/v1/recalls/<code>/transition/."],
                "stop_ship": [
                    "Place or release the stop-ship with POST /api/v1/recalls/<code>/stop-ship/."
                ],
                "code": ["A recall's code cannot be changed."],
            },
        ),
        ({"version": 1, "hazard": ""}, {"hazard": ["This field may not be blank."]}),
        ({"version": 0}, {"version": ["Ensure this value is greater than or equal to 1."]}),
    ]
    for payload, fields in cases:
        response = client.patch(url(incident.code), payload, format="json")
        assert (response.status_code, response.json()) == (400, invalid(fields)), payload
    denied = client_for(marketing_user).patch(
        url(incident.code), {"version": 1, "title": "x"}, format="json"
    )
    assert (denied.status_code, denied.json()) == (403, NOT_ALLOWED)
    assert state(incident) == before


# -------------------------------------------------------------------- transitions


def prepare_to_close(incident, actor) -> None:
    incidents.recall_update(
        actor=actor,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        consumer_instructions="Return it.",
        contact="0800 123 456",
        root_cause="Cracked nozzle.",
    )
    incidents.recall_record_effectiveness(
        actor=actor,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        units_distributed=100,
        units_returned=90,
        units_destroyed=0,
        units_corrected=0,
        consignees_to_notify=2,
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_transition_per_role(role, request, incident, quality_user):
    actor = request.getfixturevalue(role)
    client = client_for(actor)
    prepare_to_close(incident, quality_user)
    for target in ("investigating", "announced", "recovering", "closed"):
        current = fresh(incident)
        payload = {"status": target, "version": current.version}
        if role in NOT_MANAGERS:
            before = state(incident)
            response = client.post(url(incident.code, "transition"), payload, format="json")
            assert (response.status_code, response.json()) == (403, NOT_ALLOWED)
            assert state(incident) == before
            incidents.recall_transition(
                actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, to=target
            )
        else:
            response = client.post(url(incident.code, "transition"), payload, format="json")
            assert response.status_code == 200
            assert response.json() == detail_of(incident)
            assert (response.json()["status"], response.json()["version"]) == (
                target,
                current.version + 1,
            )
    assert fresh(incident).status == "closed"


def test_illegal_transitions_and_unmet_conditions_are_400(incident, quality_user):
    client = client_for(quality_user)
    before = state(incident)
    jump = client.post(url(incident.code, "transition"), {"status": "closed", "version": 1})
    assert (jump.status_code, jump.json()) == (
        400,
        invalid({"status": ["A recall that is open cannot become closed."]}),
    )
    bogus = client.post(url(incident.code, "transition"), {"status": "bogus", "version": 1})
    assert bogus.json() == invalid({"status": ['"bogus" is not a valid choice.']})
    assert state(incident) == before
    for target in ("investigating",):
        client.post(url(incident.code, "transition"), {"status": target, "version": 1})
    announce = client.post(url(incident.code, "transition"), {"status": "announced", "version": 2})
    assert (announce.status_code, announce.json()) == (
        400,
        invalid(
            {
                "consumer_instructions": ["Say what consumers should do (stop using, return…)."],
                "contact": ["Give a phone number or e-mail consumers can reach."],
            }
        ),
    )
    incidents.recall_update(
        actor=quality_user,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        consumer_instructions="Return it.",
        contact="0800 123 456",
    )
    for target in ("announced", "recovering"):
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, to=target
        )
    before = state(incident)
    close = client.post(
        url(incident.code, "transition"), {"status": "closed", "version": fresh(incident).version}
    )
    assert (close.status_code, close.json()) == (
        400,
        invalid(
            {
                "root_cause": ["Record the root cause before closing."],
                "units_distributed": [
                    "Record the effectiveness figures (units distributed and consignees to "
                    "notify) before closing."
                ],
            }
        ),
    )
    assert state(incident) == before
    stale = client.post(url(incident.code, "transition"), {"status": "closed", "version": 1})
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "stale_edit")
    assert state(incident) == before


# ---------------------------------------------------------------------- stop-ship


def test_stop_ship_is_placed_and_released(incident, production_user, marketing_user):
    client = client_for(production_user)
    denied = client_for(marketing_user).post(
        url(incident.code, "stop-ship"), {"stop_ship": True, "version": 1}, format="json"
    )
    assert (denied.status_code, denied.json()) == (403, NOT_ALLOWED)
    assert ProductionHold.objects.count() == 0
    placed = client.post(url(incident.code, "stop-ship"), {"stop_ship": True, "version": 1})
    assert placed.status_code == 200
    assert placed.json() == detail_of(incident)
    assert (placed.json()["stop_ship"], placed.json()["version"]) == (True, 2)
    hold = ProductionHold.objects.get()
    assert (hold.product.sku, hold.reference, hold.released_at, hold.placed_by) == (
        "TEA-LEM-05",
        incident.code,
        None,
        production_user,
    )
    stale = client.post(url(incident.code, "stop-ship"), {"stop_ship": False, "version": 1})
    assert stale.status_code == 409
    assert fresh(incident).stop_ship is True
    released = client.post(url(incident.code, "stop-ship"), {"stop_ship": False, "version": 2})
    assert (released.status_code, released.json()["stop_ship"], released.json()["version"]) == (
        200,
        False,
        3,
    )
    hold.refresh_from_db()
    assert hold.released_at is not None
    missing = client.post(url(incident.code, "stop-ship"), {"version": 3})
    assert missing.json() == invalid({"stop_ship": ["This field is required."]})


# ------------------------------------------------------------------ effectiveness


def test_effectiveness_is_read_and_recorded(incident, quality_user, sales_user):
    client = client_for(quality_user)
    empty = client.get(url(incident.code, "effectiveness"))
    assert empty.json() == {
        "code": incident.code,
        "classification": "class_i",
        "version": 1,
        "distributed": 0,
        "recovered": 0,
        "returned": 0,
        "destroyed": 0,
        "corrected": 0,
        "unaccounted": 0,
        "recovered_pct": None,
        "consignees": 0,
        "notified": 0,
        "acknowledged": 0,
        "notified_pct": None,
        "check_level_pct": "100.0",
        "meets_check_level": False,
    }
    figures = {
        "units_distributed": 1200,
        "units_returned": 500,
        "units_destroyed": 250,
        "units_corrected": 50,
        "consignees_to_notify": 8,
        "version": 1,
    }
    recorded = client.put(url(incident.code, "effectiveness"), figures, format="json")
    assert recorded.status_code == 200
    for consignee in ("Shop A", "Shop B", "Shop C"):
        communication.notification_log(
            actor=sales_user,
            incident_id=incident.pk,
            consignee=consignee,
            channel="email",
            acknowledged=consignee == "Shop A",
        )
    body = client.get(url(incident.code, "effectiveness")).json()
    assert body == {
        "code": incident.code,
        "classification": "class_i",
        "version": 2,
        "distributed": 1200,
        "recovered": 800,
        "returned": 500,
        "destroyed": 250,
        "corrected": 50,
        "unaccounted": 400,
        "recovered_pct": "66.7",
        "consignees": 8,
        "notified": 3,
        "acknowledged": 1,
        "notified_pct": "37.5",
        "check_level_pct": "100.0",
        "meets_check_level": False,
    }
    assert body == effectiveness_of(fresh(incident))
    assert body["distributed"] == body["recovered"] + body["unaccounted"]
    assert recorded.json() == {**body, "notified": 0, "acknowledged": 0, "notified_pct": "0.0"}
    assert client.get(url(incident.code)).json()["effectiveness"] == effectiveness_of(
        fresh(incident), report=False
    )


def test_invalid_or_unauthorised_figures_change_nothing(incident, quality_user, sales_user):
    client = client_for(quality_user)
    good = {
        "units_distributed": 100,
        "units_returned": 10,
        "units_destroyed": 0,
        "units_corrected": 0,
        "consignees_to_notify": 4,
        "version": 1,
    }
    before = state(incident)
    cases = [
        (
            {**good, "units_returned": 101},
            {
                "units_distributed": [
                    "101 units recovered is more than the 100 distributed: check the figures."
                ]
            },
        ),
        (
            {**good, "units_destroyed": -3, "consignees_to_notify": -1},
            {
                "units_destroyed": ["Cannot be negative."],
                "consignees_to_notify": ["Cannot be negative."],
            },
        ),
        (
            {**good, "units_corrected": "x", "units_distributed": 2**40},
            {
                "units_distributed": ["Ensure this value is less than or equal to 2147483647."],
                "units_corrected": ["A valid integer is required."],
            },
        ),
        (
            {key: value for key, value in good.items() if key != "units_returned"},
            {"units_returned": ["This field is required."]},
        ),
    ]
    for payload, fields in cases:
        response = client.put(url(incident.code, "effectiveness"), payload, format="json")
        assert (response.status_code, response.json()) == (400, invalid(fields)), payload
    denied = client_for(sales_user).put(url(incident.code, "effectiveness"), good, format="json")
    assert (denied.status_code, denied.json()) == (403, NOT_ALLOWED)
    stale = client.put(url(incident.code, "effectiveness"), {**good, "version": 7}, format="json")
    assert stale.status_code == 409
    assert state(incident) == before


# -------------------------------------------------------------------------- lots


def test_lots_are_listed_and_added(incident, quality_user, marketing_user, mint):
    client = client_for(quality_user)
    response = client.post(
        url(incident.code, "lots"),
        {"product": "tea-mnt-01", "production_week": "2026-W10", "units": 300, "add_product": True},
        format="json",
    )
    assert response.status_code == 201
    lot = AffectedLot.objects.get()
    assert response.json() == {
        "id": lot.pk,
        "product": "TEA-MNT-01",
        "lot_code": "",
        "production_week": "2026-03-02",
        "best_before": None,
        "units": 300,
    }
    assert sorted(fresh(incident).products.values_list("sku", flat=True)) == [
        "TEA-LEM-05",
        "TEA-MNT-01",
    ]
    listed = client.get(url(incident.code, "lots")).json()
    assert (listed["count"], listed["results"]) == (1, [response.json()])
    before = state(incident)
    bad = client.post(url(incident.code, "lots"), {"product": "TEA-MNT-01"}, format="json")
    assert (bad.status_code, bad.json()) == (
        400,
        invalid({"lot_code": ["Give a lot code or a production week."]}),
    )
    shape = client.post(
        url(incident.code, "lots"),
        {"product": "NOPE-1", "production_week": "soon", "lot_code": "L" * 41},
        format="json",
    )
    assert shape.json() == invalid(
        {
            "product": ["No product with SKU NOPE-1."],
            "lot_code": ["Ensure this field has no more than 40 characters."],
            "production_week": ["Enter a week as 2026-W48 or a date as 2026-11-23; got 'soon'."],
        }
    )
    denied = client_for(marketing_user).post(
        url(incident.code, "lots"), {"product": "TEA-MNT-01", "lot_code": "L-1"}, format="json"
    )
    assert (denied.status_code, denied.json()) == (403, NOT_ALLOWED)
    assert state(incident) == before


def test_a_product_outside_the_recall_joins_only_with_add_product(incident, quality_user, mint):
    before = state(incident)
    client = client_for(quality_user)

    refused = client.post(
        url(incident.code, "lots"), {"product": "TEA-MNT-01", "lot_code": "M-1"}, format="json"
    )

    assert (refused.status_code, refused.json()) == (
        400,
        invalid(
            {
                "product": [
                    "TEA-MNT-01 is not in this recall. Confirm adding the product to the "
                    "recall (a stop-ship would then hold its production too)."
                ]
            }
        ),
    )
    assert state(incident) == before
    assert list(fresh(incident).products.values_list("sku", flat=True)) == ["TEA-LEM-05"]


def test_a_repeated_lot_or_a_future_week_is_400(incident, quality_user):
    client = client_for(quality_user)
    assert (
        client.post(
            url(incident.code, "lots"), {"product": "TEA-LEM-05", "lot_code": "L-1"}
        ).status_code
        == 201
    )
    before = state(incident)
    next_week = iso_label(add_weeks(current_week(), 1))

    again = client.post(url(incident.code, "lots"), {"product": "TEA-LEM-05", "lot_code": "L-1"})
    future = client.post(
        url(incident.code, "lots"), {"product": "TEA-LEM-05", "production_week": next_week}
    )

    assert (again.status_code, again.json()) == (
        400,
        invalid({"lot_code": ["Lot L-1 of TEA-LEM-05 is already in this recall."]}),
    )
    assert (future.status_code, future.json()) == (
        400,
        invalid(
            {
                "production_week": [
                    f"{next_week} is in the future: a lot is produced this week or earlier."
                ]
            }
        ),
    )
    assert state(incident) == before


# ------------------------------------------------------------------------ tasks


def test_tasks_are_added_listed_flagged_and_completed(
    incident, marketing_user, quality_user, sales_user
):
    due = timezone.localdate() + dt.timedelta(days=2)
    client = client_for(marketing_user)  # Marketing may add tasks too
    response = client.post(
        url(incident.code, "tasks"),
        {
            "title": "Pause the summer campaign",
            "department": "marketing",
            "owner": "mara",
            "due_date": due.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    task = RecallTask.objects.get()
    expected = {
        "id": task.pk,
        "title": "Pause the summer campaign",
        "department": "marketing",
        "owner": "mara",
        "due_date": due.isoformat(),
        "is_overdue": False,
        "done_at": None,
        "created_at": iso(task.created_at),
    }
    assert response.json() == expected
    RecallTask.objects.filter(pk=task.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    listed = client_for(sales_user).get(url(incident.code, "tasks")).json()
    assert listed["results"] == [
        {
            **expected,
            "due_date": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
            "is_overdue": True,
        }
    ]
    assert client.get(url(incident.code)).json()["overdue_tasks"] == 1
    done = client.post(url(incident.code, "tasks", task.pk, "complete"))
    assert done.status_code == 200
    task.refresh_from_db()
    assert (done.json()["done_at"], done.json()["is_overdue"]) == (iso(task.done_at), False)
    again = client.post(url(incident.code, "tasks", task.pk, "complete"))
    assert (again.status_code, again.json()) == (400, refused("The task is already done."))


def test_bad_or_forbidden_tasks_change_nothing(
    incident, quality_user, sales_user, production_user, mint
):
    before = state(incident)
    client = client_for(quality_user)
    wrong = client.post(
        url(incident.code, "tasks"),
        {"title": "Samples", "department": "quality", "owner": "petra", "due_date": "2020-01-01"},
        format="json",
    )
    assert (wrong.status_code, wrong.json()) == (
        400,
        invalid(
            {
                "owner": [f"{production_user} does not work in Quality."],
                "due_date": ["The due date has passed."],
            }
        ),
    )
    shape = client.post(
        url(incident.code, "tasks"),
        {"title": "", "department": "legal", "owner": "nobody"},
        format="json",
    )
    assert shape.json() == invalid(
        {
            "title": ["This field may not be blank."],
            "department": ['"legal" is not a valid choice.'],
            "owner": ["No active user named nobody."],
            "due_date": ["This field is required."],
        }
    )
    denied = client_for(sales_user).post(
        url(incident.code, "tasks"),
        {
            "title": "Call",
            "department": "sales",
            "owner": "sam",
            "due_date": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert (denied.status_code, denied.json()) == (403, NOT_ALLOWED)
    assert state(incident) == before
    # A task is reached only through its own recall.
    other = open_recall(quality_user, [mint])
    task = communication.task_add(
        actor=quality_user,
        incident_id=other.pk,
        title="Samples",
        department="quality",
        owner_id=quality_user.pk,
        due_date=timezone.localdate(),
    )
    assert client.get(url(incident.code, "tasks", task.pk)).status_code == 404
    assert client.post(url(incident.code, "tasks", task.pk, "complete")).status_code == 404
    task.refresh_from_db()
    assert task.done_at is None


@pytest.mark.parametrize(("user", "allowed"), ROLE_MAY_COMPLETE)
def test_a_task_is_completed_only_by_its_owner_department_or_managers(
    request, incident, quality_user, user, allowed
):
    task = add_samples_task(incident, quality_user)
    before = state(incident)

    response = client_for(request.getfixturevalue(user)).post(
        url(incident.code, "tasks", task.pk, "complete")
    )

    task.refresh_from_db()
    if allowed:
        assert response.status_code == 200
        assert response.json()["done_at"] == iso(task.done_at)
        return
    assert (response.status_code, response.json()) == (
        403,
        refused(refusal(quality_user), code="permission_denied"),
    )
    assert task.done_at is None
    assert state(incident) == before


# ------------------------------------------------------------------------ press


def test_press_inquiries_are_logged_answered_and_on_the_desk(
    incident, marketing_user, production_user
):
    client = client_for(marketing_user)
    due = timezone.now() + dt.timedelta(hours=4)
    payload = {
        "outlet": "Daily Courier",
        "contact": "ed@courier.example",
        "question": "How many bottles?",
        "response_due": iso(due),
    }
    denied = client_for(production_user).post(
        url(incident.code, "press-inquiries"), payload, format="json"
    )
    assert (denied.status_code, denied.json()) == (403, NOT_ALLOWED)
    assert PressInquiry.objects.count() == 0
    logged = client.post(url(incident.code, "press-inquiries"), payload, format="json")
    assert logged.status_code == 201
    inquiry = PressInquiry.objects.get()
    expected = {
        "id": inquiry.pk,
        "recall": incident.code,
        "outlet": "Daily Courier",
        "contact": "ed@courier.example",
        "question": "How many bottles?",
        "received_at": iso(inquiry.received_at),
        "response_due": iso(due),
        "is_overdue": False,
        "status": "open",
        "answer": "",
        "answered_by": None,
        "answered_at": None,
    }
    assert logged.json() == expected
    desk = client_for(production_user).get(PRESS_DESK, {"status": "open", "recall": incident.code})
    assert desk.json()["results"] == [expected]
    assert client.get(PRESS_DESK, {"status": "answered"}).json()["count"] == 0
    assert client.get(PRESS_DESK, {"recall": "RC-0"}).json() == invalid(
        {"recall": ["No recall RC-0."]}
    )
    answer_url = url(incident.code, "press-inquiries", inquiry.pk, "answer")
    assert client_for(production_user).post(answer_url, {"answer": "x"}).status_code == 403
    empty = client.post(answer_url, {"answer": ""}, format="json")
    assert empty.json() == invalid({"answer": ["Write the answer given to the outlet."]})
    answered = client.post(answer_url, {"answer": "About 1,000."}, format="json")
    assert answered.status_code == 200
    inquiry.refresh_from_db()
    assert answered.json() == {
        **expected,
        "status": "answered",
        "answer": "About 1,000.",
        "answered_by": "mara",
        "answered_at": iso(inquiry.answered_at),
    }
    assert client.get(f"{PRESS_DESK}{inquiry.pk}/").json() == answered.json()
    twice = client.post(answer_url, {"answer": "More."}, format="json")
    assert twice.json() == refused("This inquiry has already been answered.")
    bad_due = client.post(
        url(incident.code, "press-inquiries"),
        {**payload, "received_at": iso(due), "response_due": iso(due - dt.timedelta(hours=1))},
        format="json",
    )
    assert bad_due.json() == invalid(
        {"response_due": ["The answer cannot be due before the question."]}
    )
    assert PressInquiry.objects.count() == 1


# -------------------------------------------------------------------- statements


def test_statements_four_eyes_through_the_api(
    incident, marketing_user, quality_user, admin_user, production_user
):
    marketing = client_for(marketing_user)
    base = url(incident.code, "statements")
    assert client_for(quality_user).post(base, {"title": "T", "body": "B"}).status_code == 403
    drafted = marketing.post(
        base, {"title": "We recall lemon tea", "body": "Return it."}, format="json"
    )
    assert drafted.status_code == 201
    statement = Statement.objects.get()
    assert drafted.json() == {
        "id": statement.pk,
        "title": "We recall lemon tea",
        "body": "Return it.",
        "status": "draft",
        "author": "mara",
        "reviewed_by": None,
        "reviewed_at": None,
        "review_note": "",
        "published_at": None,
        "version": 1,
        "created_at": iso(statement.created_at),
    }
    one = f"{base}{statement.pk}/"
    edited = marketing.patch(one, {"version": 1, "body": "Stop drinking it."}, format="json")
    assert (edited.json()["title"], edited.json()["body"], edited.json()["version"]) == (
        "We recall lemon tea",
        "Stop drinking it.",
        2,
    )
    submitted = marketing.post(f"{one}submit/", {"version": 2}, format="json")
    assert (submitted.json()["status"], submitted.json()["version"]) == ("submitted", 3)
    early = marketing.post(f"{one}publish/", {"version": 3}, format="json")
    assert early.json() == refused("The statement is waiting for approval: it cannot be published.")
    # The author may not approve: Marketing has no approval right at all...
    own = marketing.post(f"{one}approve/", {"version": 3}, format="json")
    assert (own.status_code, own.json()) == (403, NOT_ALLOWED)
    assert client_for(production_user).post(f"{one}approve/", {"version": 3}).status_code == 403
    reject_without_note = client_for(quality_user).post(
        f"{one}reject/", {"version": 3, "note": ""}, format="json"
    )
    assert reject_without_note.json() == invalid(
        {"note": ["Say what must change before it can be approved."]}
    )
    assert Statement.objects.get().status == "submitted"
    approved = client_for(quality_user).post(
        f"{one}approve/", {"version": 3, "note": "OK"}, format="json"
    )
    assert approved.status_code == 200
    statement.refresh_from_db()
    assert approved.json() == {
        **drafted.json(),
        "body": "Stop drinking it.",
        "status": "approved",
        "reviewed_by": "quinn",
        "reviewed_at": iso(statement.reviewed_at),
        "review_note": "OK",
        "version": 4,
    }
    published = marketing.post(f"{one}publish/", {"version": 4}, format="json")
    statement.refresh_from_db()
    assert (published.json()["status"], published.json()["published_at"]) == (
        "published",
        iso(statement.published_at),
    )
    assert marketing.get(base).json()["results"] == [published.json()]


def test_an_admin_author_cannot_approve_their_own_statement(incident, admin_user):
    client = client_for(admin_user)
    base = url(incident.code, "statements")
    statement_id = client.post(base, {"title": "T", "body": "B"}, format="json").json()["id"]
    client.post(f"{base}{statement_id}/submit/", {"version": 1}, format="json")
    before = list(Statement.objects.values())
    for verb, payload in (("approve", {"version": 2}), ("reject", {"version": 2, "note": "No"})):
        response = client.post(f"{base}{statement_id}/{verb}/", payload, format="json")
        assert (response.status_code, response.json()) == (
            403,
            refused("A statement cannot be approved by its author.", "permission_denied"),
        )
    assert list(Statement.objects.values()) == before


# ----------------------------------------------------------------- notifications


def test_notifications_are_logged_once_per_consignee(incident, sales_user, marketing_user):
    client = client_for(sales_user)
    base = url(incident.code, "notifications")
    logged = client.post(
        base,
        {
            "consignee": "Greenway Grocers",
            "account": "GG-1",
            "channel": "phone",
            "acknowledged": True,
        },
        format="json",
    )
    assert logged.status_code == 201
    notification = CustomerNotification.objects.get()
    assert logged.json() == {
        "id": notification.pk,
        "consignee": "Greenway Grocers",
        "account": "GG-1",
        "channel": "phone",
        "notified_at": iso(notification.notified_at),
        "notified_by": "sam",
        "acknowledged": True,
        "note": "",
    }
    duplicate = client.post(
        base, {"consignee": "Greenway Grocers", "channel": "email"}, format="json"
    )
    assert (duplicate.status_code, duplicate.json()) == (
        400,
        invalid({"consignee": ["Greenway Grocers is already recorded."]}),
    )
    denied = client_for(marketing_user).post(
        base, {"consignee": "Corner Shop", "channel": "email"}, format="json"
    )
    assert (denied.status_code, denied.json()) == (403, NOT_ALLOWED)
    bad = client.post(base, {"consignee": "Corner Shop", "channel": "pigeon"}, format="json")
    assert bad.json() == invalid({"channel": ['"pigeon" is not a valid choice.']})
    assert CustomerNotification.objects.count() == 1
    assert client.get(base).json()["results"] == [logged.json()]
    assert client.get(url(incident.code, "effectiveness")).json()["notified"] == 1


# ---------------------------------------------------------------------- activity


def test_the_activity_timeline_says_who_did_what_newest_first(
    incident, quality_user, production_user
):
    client = client_for(production_user)
    client.post(url(incident.code, "transition"), {"status": "investigating", "version": 1})
    body = client.get(url(incident.code, "activity")).json()
    events = list(
        ActivityEvent.objects.filter(
            object_id=incident.pk, content_type__model="recallincident"
        ).order_by("-created_at", "-id")
    )
    assert body["count"] == 2
    assert body["results"] == [
        {
            "id": event.pk,
            "created_at": iso(event.created_at),
            "actor": username,
            "verb": verb,
            "message": message,
            "data": data,
        }
        for event, (username, verb, message, data) in zip(
            events,
            [
                (
                    "petra",
                    "transitioned",
                    "Open → Investigating.",
                    {"from": "open", "to": "investigating"},
                ),
                (
                    "quinn",
                    "created",
                    f"Opened {incident.code} (Class I — serious harm likely) for TEA-LEM-05; "
                    "0 related customer requests linked.",
                    {},
                ),
            ],
            strict=True,
        )
    ]


def test_a_closed_recall_refuses_every_change_through_the_api(
    incident, quality_user, marketing_user, sales_user
):
    prepare_to_close(incident, quality_user)
    for target in ("investigating", "announced", "recovering", "closed"):
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, to=target
        )
    version = fresh(incident).version
    before = state(incident)
    closed = "The recall is closed."
    record = "A closed recall is a record: it cannot change."
    calls = [
        (quality_user, "patch", url(incident.code), {"version": version, "title": "x"}, record),
        (
            quality_user,
            "post",
            url(incident.code, "stop-ship"),
            {"stop_ship": True, "version": version},
            closed,
        ),
        (
            quality_user,
            "put",
            url(incident.code, "effectiveness"),
            {
                "units_distributed": 1,
                "units_returned": 0,
                "units_destroyed": 0,
                "units_corrected": 0,
                "consignees_to_notify": 2,
                "version": version,
            },
            record,
        ),
        (
            quality_user,
            "post",
            url(incident.code, "lots"),
            {"product": "TEA-LEM-05", "lot_code": "L"},
            closed,
        ),
        (
            quality_user,
            "post",
            url(incident.code, "tasks"),
            {
                "title": "x",
                "department": "quality",
                "owner": "quinn",
                "due_date": timezone.localdate().isoformat(),
            },
            closed,
        ),
        (
            marketing_user,
            "post",
            url(incident.code, "statements"),
            {"title": "T", "body": "B"},
            closed,
        ),
        (
            marketing_user,
            "post",
            url(incident.code, "press-inquiries"),
            {"outlet": "O", "contact": "C", "question": "Q", "response_due": iso(timezone.now())},
            closed,
        ),
        (
            sales_user,
            "post",
            url(incident.code, "notifications"),
            {"consignee": "S", "channel": "email"},
            closed,
        ),
    ]
    for actor, method, target, payload, message in calls:
        response = getattr(client_for(actor), method)(target, payload)
        assert (response.status_code, response.json()) == (400, refused(message)), target
    assert state(incident) == before
    detail = client_for(sales_user).get(url(incident.code)).json()
    assert (detail["status"], detail["next_statuses"], detail["public_notice_url"]) == (
        "closed",
        [],
        f"/recall-notices/{incident.code}/",
    )
