"""Every form and API operation that carries a version requires it.

A version (`version`, the run and accepted entry a quota decision is made over, the
schedule version of a range accept, the adjustments an editor saw) is what stops a stale
edit. Sent without it, or with garbage in it, the edit must be refused like any bad
field, never saved unchecked and never a 500.

Found, not listed: the browser forms are every POST form with a version field on every
page of the demo company (each URL pattern filled from the demo data, plus the admin
change page of every registered model); the API operations are every operation of the
OpenAPI schema whose body has a version field. A new page, form or operation is checked
without anyone adding it here; a new URL pattern with parameters only needs telling how
to fill them (PAGES), which the first test insists on."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.helpers import AdminErrorList
from django.contrib.messages.storage.base import BaseStorage
from django.core.management import call_command
from django.db import connection, transaction
from django.forms import BaseForm, BaseFormSet
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework import serializers
from rest_framework.test import APIClient

from coordination.models import (
    CustomerRequest,
    EmailKind,
    Line,
    Product,
    Specification,
    User,
)
from coordination.services.notifications import unsubscribe_token
from coordination.services.specifications import specification_create
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import LaunchPlan, Promotion, SalesImport, Succession
from demand.services.adjustments import adjustment_set
from planning.models import CycleDecision, PlanningCycle, PlanningScenario
from production.models import QuotaRecommendation
from recalls.models import PressInquiry, RecallIncident, RecallTask, Statement

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("coordination", "demand", "production", "recalls", "planning")
# The names a version travels under: in forms and in API bodies.
FORM_VERSION_FIELDS = {
    "version",
    "expected_version",
    "seen",
    "seen_run",
    "seen_entry",
    "seen_schedule_version",
}
API_VERSION_FIELDS = {"version", "seen_run_id", "seen_entry_id", "seen_schedule_version"}
FREE_TEXT = ("text", "textarea")  # a reason, a note (not a SKU typed from a list)
FILL = {
    "text": lambda: "Checked by tests/test_versions_required.py",
    "number": lambda: "1",
    "week": lambda: iso_label(add_weeks(current_week(), 2)),
    "date": lambda: (timezone.localdate() + dt.timedelta(days=14)).isoformat(),
}


# --- the demo company ------------------------------------------------------------------


@pytest.fixture
def demo():
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    admin_user = User.objects.get(username="admin")
    # The demo's adjustments are history: an editable one shows its edit forms ...
    adjustment_set(
        actor=admin_user,
        product_id=Product.objects.order_by("sku").first().pk,
        week=add_weeks(current_week(), 3),
        units=120,
        reason="Trade fair",
        expected_version=0,
    )
    # ... and its proposals are proposed already: a draft shows the draft's forms.
    specification_create(
        actor=admin_user,
        product_id=Product.objects.order_by("sku").first().pk,
        colours=["Green"],
        effective_from=add_weeks(current_week(), 6),
        rationale="Shops ask for a green cap.",
    )
    return admin_user


def _one_per(queryset, field: str) -> list:
    """One object per value of `field` (each status shows its own forms)."""
    seen, chosen = set(), []
    for obj in queryset.order_by("pk"):
        value = getattr(obj, field)
        if value not in seen:
            seen.add(value)
            chosen.append(obj)
    return chosen


def _cells():
    recs = QuotaRecommendation.objects.select_related("product").order_by("week", "product__sku")
    first = recs.first()
    accepted = recs.filter(
        product__schedule_entries__week=first.week,
        product__schedule_entries__superseded_at__isnull=True,
    ).first()
    return [
        {"sku": rec.product.sku, "week": iso_label(rec.week)}
        for rec in {first, accepted, recs.last()}
        if rec
    ]


# URL name -> the keyword arguments of the pages to visit (GET pages with parameters).
PAGES = {
    "email_unsubscribe": lambda: [
        {"token": unsubscribe_token(User.objects.get(username="sales"), EmailKind.DAILY_DIGEST)}
    ],
    "product_detail": lambda: [{"sku": p.sku} for p in Product.objects.order_by("sku")[:2]],
    "product_edit": lambda: [{"sku": Product.objects.order_by("sku").first().sku}],
    "specification_new": lambda: [{"sku": Product.objects.order_by("sku").first().sku}],
    "specification_detail": lambda: [
        {"sku": s.product.sku, "number": s.number}
        for s in _one_per(Specification.objects.select_related("product"), "status")
    ],
    "specification_edit": lambda: [
        {"sku": s.product.sku, "number": s.number}
        for s in Specification.objects.filter(status="draft").select_related("product")[:1]
    ],
    "inbox_department": lambda: [{"department": "production"}],
    "request_detail": lambda: [
        {"pk": r.pk} for r in _one_per(CustomerRequest.objects.all(), "status")
    ],
    "product_progress": lambda: [{"sku": Product.objects.order_by("sku").first().sku}],
    "request_progress": lambda: [
        {"pk": r.pk} for r in _one_per(CustomerRequest.objects.all(), "status")
    ],
    "request_quote_margin": lambda: [
        {"pk": r.pk} for r in _one_per(CustomerRequest.objects.all(), "status")
    ],
    "planning_detail": lambda: [{"pk": c.pk} for c in PlanningCycle.objects.all()],
    "planning_report": lambda: [{"pk": PlanningCycle.objects.first().pk}],
    "planning_report_csv": lambda: [{"pk": PlanningCycle.objects.first().pk}],
    "planning_report_xlsx": lambda: [{"pk": PlanningCycle.objects.first().pk}],
    "planning_scenario": lambda: [
        {"pk": s.cycle_id, "scenario_pk": s.pk} for s in PlanningScenario.objects.all()[:1]
    ],
    "planning_decision_edit": lambda: [
        {"item_pk": d.pk} for d in _one_per(CycleDecision.objects.all(), "kind")
    ],
    "promotion_detail": lambda: [{"pk": p.pk} for p in _one_per(Promotion.objects, "status")],
    "promotion_edit": lambda: [
        {"pk": p.pk} for p in _one_per(Promotion.objects.exclude(status="cancelled"), "status")
    ],
    "promotion_progress": lambda: [{"pk": Promotion.objects.first().pk}],
    "promotion_impact": lambda: [{"pk": Promotion.objects.first().pk}],
    "promotion_economics": lambda: [{"pk": Promotion.objects.first().pk}],
    "forecast_detail": lambda: [{"sku": Product.objects.order_by("sku").first().sku}],
    "forecast_xlsx": lambda: [{"sku": Product.objects.order_by("sku").first().sku}],
    "product_launch": lambda: [{"sku": Product.objects.order_by("sku").first().sku}],
    "quota_explain": _cells,
    "line_detail": lambda: [{"pk": line.pk} for line in Line.objects.all()[:1]],
    "recall_detail": lambda: [{"code": r.code} for r in RecallIncident.objects.all()],
    "recall_tab": lambda: [
        {"code": r.code, "tab": tab}
        for r in RecallIncident.objects.all()
        for tab in (
            "overview",
            "lots",
            "tasks",
            "notifications",
            "press",
            "statements",
            "effectiveness",
        )
    ],
    "sales_import_preview": lambda: [{"pk": i.pk} for i in SalesImport.objects.all()[:1]],
    # Not a page: a calendar app's feed, whose address is a secret (an unknown one is 404).
    "calendar_feed_ics": lambda: [{"token": "x" * 43}],
    "recall_public_notice": lambda: [
        {"code": r.code} for r in RecallIncident.objects.exclude(status="open")
    ],
}
# Reached only through the forms on the pages above (POST, or a page of actions).
POST_ONLY = {
    "specification_action",
    "request_action",
    "timeline_comment",
    "planning_action",
    "planning_sign",
    "planning_adjust",
    "planning_meeting",
    "planning_decision_add",
    "planning_decision_status",
    "planning_scenario_run",
    "promotion_status",
    "forecast_adjust",
    "quota_accept",
    "quota_override",
    "capacity_exception_delete",
    "recall_action",
    "recall_item_action",
    "sales_import_apply",
    "product_launch_save",
}
# Views whose forms carry a version: the crawl must find (and prove) each at least once,
# so it cannot pass by finding nothing.
VERSIONED_VIEWS = {
    "product_edit",
    "specification_edit",
    "specification_action",
    "request_action",
    "planning_action",
    "planning_decision_edit",
    "planning_decision_status",
    "promotion_edit",
    "promotion_status",
    "forecast_adjust",
    "quota_accept",
    "quota_override",
    "quota_accept_range",
    "line_detail",
    "recall_action",
    "recall_item_action",
    "product_launch_save",
}


def app_patterns():
    """(name, pattern) of every named URL outside the admin, the API and sign-in."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin" and not route.startswith("api/"):
                    yield from walk(pattern.url_patterns, route)
            elif (
                isinstance(pattern, URLPattern)
                and pattern.name
                and not route.startswith(("api/", "accounts/"))
            ):
                yield pattern.name, pattern

    return list(walk(get_resolver().url_patterns))


# --- reading forms off a page ----------------------------------------------------------


class Forms(HTMLParser):
    """Every POST form of a page: its action and the data a browser would submit."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self._form = {"action": attrs.get("action") or "", "post": method == "post"}
            self._form["fields"], self._form["submit"] = [], None
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    form["fields"].append([name, attrs.get("value", "on"), kind, False])
            elif kind == "submit":
                self._button(form, name, attrs)
            elif kind not in ("file", "button", "reset", "image"):
                # A value looked up (a datalist, or a typed SKU) is a choice, not free text.
                lookup = "list" in attrs or "data-lookup" in attrs
                kind = "choice" if lookup else kind
                form["fields"].append([name, attrs.get("value", ""), kind, "required" in attrs])
        elif tag == "button" and name and (attrs.get("type") or "submit") == "submit":
            self._button(form, name, attrs)
        elif tag == "select" and name:
            self._select = [name, None, "select", False]
        elif tag == "option" and self._select is not None:
            if self._select[1] is None or "selected" in attrs:
                self._select[1] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = [name, "", "textarea", "required" in attrs]

    @staticmethod
    def _button(form, name, attrs):
        """The button a person presses: the first primary one, else the first."""
        primary = "primary" in (attrs.get("class") or "").split()
        if form["submit"] is None or (primary and not form["submit"][2]):
            form["submit"] = (name, attrs.get("value", ""), primary)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if self._form is not None and self._select[1] is not None:
                self._form["fields"].append(self._select)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form["fields"].append(self._textarea)
            self._textarea = None


def post_forms(page_url: str, html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    found = []
    for form in parser.forms:
        if not form["post"]:
            continue
        action = form["action"] or page_url
        data: dict[str, list[str]] = {}
        for name, value, kind, required in form["fields"]:
            value = value.lstrip("\n") if kind == "textarea" else value
            if not value.strip() and (required or kind in FREE_TEXT):
                # What a person types: the form must be refused for its version only.
                value = FILL.get(kind, FILL["text"])()
            data.setdefault(name, []).append(value)
        if form["submit"]:
            data.setdefault(form["submit"][0], []).append(form["submit"][1])
        found.append({"action": urlsplit(action).path, "data": data})
    return found


# --- what "nothing changed" means --------------------------------------------------------


def fingerprint() -> list:
    """Rows per table and the sum of every version column, for every Tandem model (one
    query: the crawl takes it around every request)."""
    quote = connection.ops.quote_name
    parts = []
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            fields = {f.column for f in model._meta.concrete_fields}
            versions = f"SUM({quote('version')})" if "version" in fields else "0"
            # Names from the models' own metadata, quoted: nothing here comes from input.
            table = quote(model._meta.db_table)
            parts.append(f"SELECT '{model._meta.label}', COUNT(*), {versions} FROM {table}")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return sorted(cursor.fetchall())


def refused_visibly(response) -> bool:
    """The page answered says what went wrong: an error message, or a form (or admin
    form, or recall action) with errors. Read from the context, not the HTML, which
    also has banners about recalls and holds."""
    if response.context is None:
        return False
    values = [value for context in response.context for value in context.flatten().values()]
    for _ in range(2):  # into lists of forms and their rows (dicts, named tuples)
        for value in list(values):
            if isinstance(value, dict):
                values.extend(value.values())
            elif isinstance(value, tuple | list):
                values.extend(value)
    for value in values:
        if isinstance(value, BaseStorage):
            if any(message.level >= messages.ERROR for message in value):
                return True
        elif isinstance(value, BaseForm | BaseFormSet):
            if value.is_bound and not value.is_valid():
                return True
        elif isinstance(value, AdminErrorList) and len(value):
            return True
    context = response.context
    return any(context.get(key) for key in ("errors", "action_errors") if key in context)


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)  # a 500 is a finding, not a crash
    client.force_login(user)
    return client


def submit(user, action: str, data: dict):
    return signed_in(user).post(action, data, follow=True)


def check_form(user, form: dict, problems: list, proven: set) -> None:
    """Send the form without each of its versions and with garbage in it: refused,
    visibly, nothing changed. Sent intact (and rolled back), the same form is taken
    without an error, which proves the version is what refused it (where the demo's
    state lets the action succeed; every versioned view must be proven once)."""
    action, data = form["action"], form["data"]
    view = resolve(action).url_name
    if view not in proven:
        with transaction.atomic():
            intact = submit(user, action, data)
            if intact.status_code < 400 and not refused_visibly(intact):
                proven.add(view)
            transaction.set_rollback(True)
    for field in sorted(FORM_VERSION_FIELDS & set(data)):
        for label, changed in (
            ("without", {k: v for k, v in data.items() if k != field}),
            ("with garbage in", {**data, field: ["x1"]}),
            ("with a negative", {**data, field: ["-3"]}),
        ):
            before = fingerprint()
            response = submit(user, action, changed)
            what = f"{action} {label} {field}"
            if response.status_code >= 500:
                problems.append(f"{what}: {response.status_code}")
            elif fingerprint() != before:
                problems.append(f"{what}: saved")
            elif not refused_visibly(response):
                problems.append(f"{what}: no error shown")


# --- the browser -----------------------------------------------------------------------


def test_every_url_pattern_is_a_page_the_crawl_visits_or_a_form_target():
    unknown = sorted(
        name
        for name, pattern in app_patterns()
        if pattern.pattern.converters and name not in PAGES and name not in POST_ONLY
    )
    assert unknown == [], "Tell PAGES how to fill these, or list them in POST_ONLY"


def test_every_browser_form_with_a_version_refuses_a_missing_or_malformed_one(demo):
    client = signed_in(demo)
    urls = []
    for name, pattern in app_patterns():
        if name in POST_ONLY:
            continue
        for kwargs in PAGES[name]() if pattern.pattern.converters else [{}]:
            urls.append(reverse(name, kwargs=kwargs))
    for model, model_admin in admin.site._registry.items():
        # The admin's edit forms: those that carry the version they were loaded at.
        if "expected_version" in model_admin.form.base_fields:
            obj = model._default_manager.order_by("-pk").first()
            info = (model._meta.app_label, model._meta.model_name)
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    forms, visited = {}, 0
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        visited += 1
        for form in post_forms(url, response.content.decode()):
            if FORM_VERSION_FIELDS & set(form["data"]):
                # One of each kind: the same form on another object proves nothing new.
                match = resolve(form["action"])
                kind = (match.url_name, match.kwargs.get("action"), tuple(sorted(form["data"])))
                forms.setdefault(kind, form)

    problems: list[str] = []
    proven: set[str] = set()
    for form in forms.values():
        check_form(demo, form, problems, proven)

    assert visited > 60
    assert problems == [], "\n".join(problems)
    admin_forms = {resolve(f["action"]).url_name for f in forms.values()}
    assert {
        "coordination_product_change",
        "coordination_line_change",  # Line moved to coordination (issue 14)
        "demand_marketingadjustment_change",
    } <= admin_forms
    assert VERSIONED_VIEWS - proven == set()


# --- the API ---------------------------------------------------------------------------


SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))


def _body_schema(operation: dict) -> dict:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema", {})
    if "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


VERSIONED_OPERATIONS = sorted(
    (path, method, operation["operationId"])
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in ("post", "put", "patch")
    and API_VERSION_FIELDS & set(_body_schema(operation).get("properties", {}))
)


def test_the_api_operations_with_a_version_are_found():
    assert len(VERSIONED_OPERATIONS) >= 28
    assert {"quota_recommendations_accept_range_create", "forecasts_adjustments_update"} <= {
        operation_id for _, _, operation_id in VERSIONED_OPERATIONS
    }


@pytest.mark.parametrize(("path", "method", "operation_id"), VERSIONED_OPERATIONS)
def test_every_api_version_field_is_required_in_the_schema(path, method, operation_id):
    schema = _body_schema(SCHEMA["paths"][path][method])
    fields = API_VERSION_FIELDS & set(schema["properties"])
    assert fields <= set(schema.get("required", [])), operation_id


def _fill(path: str) -> str:
    """The path with each parameter naming a real object of the demo company."""
    recall = RecallIncident.objects.filter(status="open").first() or RecallIncident.objects.first()
    spec = Specification.objects.filter(status="proposed").select_related("product").first()
    by_resource = {
        "customer-requests": lambda: CustomerRequest.objects.first().pk,
        "lines": lambda: Line.objects.first().pk,
        "promotions": lambda: Promotion.objects.first().pk,
        "statements": lambda: Statement.objects.filter(incident=recall).first().pk,
        "tasks": lambda: RecallTask.objects.filter(incident=recall).first().pk,
        "press-inquiries": lambda: PressInquiry.objects.filter(incident=recall).first().pk,
    }

    by_sku = {
        "launch-plans": lambda: LaunchPlan.objects.first().product.sku,
        "successions": lambda: Succession.objects.first().product.sku,
    }

    def value(match) -> str:
        name, before = match.group(1), path[: match.start()].rstrip("/").split("/")[-1]
        if before in by_sku:
            return by_sku[before]()
        if name in ("code", "recall_code"):
            return recall.code
        if name in ("sku", "product_sku"):
            return spec.product.sku
        if name == "number":
            return str(spec.number)
        return str(by_resource[before]())

    return re.sub(r"\{(\w+)\}", value, path)


def test_every_api_operation_with_a_version_refuses_a_missing_or_malformed_one(demo):
    client = APIClient()
    client.force_authenticate(demo)
    problems = []
    for path, method, operation_id in VERSIONED_OPERATIONS:
        url = _fill(path)
        fields = API_VERSION_FIELDS & set(_body_schema(SCHEMA["paths"][path][method])["properties"])
        for body in ({}, dict.fromkeys(fields, "x1"), dict.fromkeys(fields, -3)):
            before = fingerprint()
            response = getattr(client, method)(url, body, format="json")
            answer = response.json() if response.content else {}
            refused = set(answer.get("error", {}).get("fields", {}))
            if response.status_code != 400 or not fields <= refused:
                problems.append(f"{operation_id} {body}: {response.status_code} {answer}")
            if fingerprint() != before:
                problems.append(f"{operation_id} {body}: saved")
    assert problems == []


def _serializers(cls=serializers.Serializer):
    for sub in cls.__subclasses__():
        yield sub
        yield from _serializers(sub)


def test_every_serializer_that_takes_a_version_requires_it():
    checked = []
    for serializer in set(_serializers()):
        if not serializer.__module__.startswith(PROJECT_APPS):
            continue
        try:
            fields = serializer().fields
        except TypeError:  # needs arguments (query serializers): takes no version
            continue
        for name in API_VERSION_FIELDS & set(fields):
            field = fields[name]
            if not field.read_only:
                checked.append(f"{serializer.__name__}.{name}")
                assert field.required, f"{serializer.__name__}.{name} is optional"
    assert len(checked) >= 20
