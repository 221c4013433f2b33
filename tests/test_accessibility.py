"""Accessibility regressions found by an axe-core audit (WCAG 2.1 AA), checked on the
server's HTML: ids are unique, and every id that a label or an ARIA attribute names is
on the page."""

import datetime as dt
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from planning import services
from tests.factories import CustomerRequestFactory, SpecificationFactory
from tests.planning.planning_world import build_world

pytestmark = pytest.mark.django_db

REFERENCING = ("for", "aria-describedby", "aria-labelledby", "aria-controls")


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter = Counter()
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, id)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] += 1
        for name in REFERENCING:
            for target in (attrs.get(name) or "").split():
                self.references.append((tag, name, target))


def ids_of(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    return parser


def duplicate_ids(html: str) -> list[str]:
    return sorted(id_ for id_, count in ids_of(html).ids.items() if count > 1)


def dangling_references(html: str) -> list[tuple[str, str, str]]:
    found = ids_of(html)
    return [ref for ref in found.references if ref[2] not in found.ids]


@pytest.fixture
def cycle(admin_user, sales_user):
    build_world(sales_user)
    opened = services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))
    return services.planning_cycle_start_review(
        actor=admin_user, cycle_id=opened.pk, expected_version=opened.version
    )


def test_the_cycle_page_gives_each_of_its_forms_its_own_ids(client, cycle, admin_user):
    # The adjustment, decision and scenario forms all have a "line" field, and there is
    # one sign-off form per part: with Django's default ids they shared id_line and
    # id_note, so the second label pointed at the first form's field.
    client.force_login(admin_user)
    html = client.get(reverse("planning_detail", args=[cycle.pk])).content.decode()
    assert duplicate_ids(html) == []
    assert dangling_references(html) == []
    for label_for in (
        "id_sign_demand_note",
        "id_sign_supply_note",
        "id_sign_orders_note",
        "id_adjust_line",
        "id_decision_line",
        "id_scenario_line",
    ):
        assert html.count(f'<label for="{label_for}">') == 1, label_for
        assert html.count(f'id="{label_for}"') == 1, label_for


def test_a_refused_sign_off_keeps_the_ids_of_its_part(client, cycle, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("planning_sign", args=[cycle.pk, "supply"]), {"part_hash": "", "note": "x" * 301}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert duplicate_ids(html) == []
    assert dangling_references(html) == []
    assert 'aria-describedby="id_sign_supply_note_error"' in html
    assert '<p class="field-error" id="id_sign_supply_note_error">' in html


def test_wide_snapshot_tables_can_be_scrolled_from_the_keyboard(client, cycle, admin_user):
    client.force_login(admin_user)
    for url in (
        reverse("planning_detail", args=[cycle.pk]),
        reverse("planning_report", args=[cycle.pk]),
    ):
        html = client.get(url).content.decode()
        assert (
            html.count(
                '<div class="table-wrap" tabindex="0" role="region" '
                'aria-labelledby="supply-table-caption">'
            )
            == 1
        ), url
        assert html.count('<caption id="supply-table-caption">') == 1, url
        assert duplicate_ids(html) == [], url
        assert dangling_references(html) == [], url


def test_sign_in_errors_are_the_descriptions_of_their_fields(client):
    html = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert 'aria-describedby="id_username_error"' in html
    assert '<p class="field-error" id="id_username_error">This field is required.</p>' in html
    assert 'aria-describedby="id_password_error"' in html
    assert '<p class="field-error" id="id_password_error">This field is required.</p>' in html
    assert dangling_references(html) == []


def test_the_stop_ship_help_is_the_description_of_its_checkbox(client, quality_user):
    client.force_login(quality_user)
    html = client.get(reverse("recall_open")).content.decode()
    assert 'aria-describedby="id_stop_ship_helptext"' in html
    assert html.count('<p class="help" id="id_stop_ship_helptext">') == 1
    assert dangling_references(html) == []


@pytest.mark.parametrize(
    ("url_name", "query", "fields"),
    [
        ("product_list", "line=x&lifecycle=x&tier=x", ["line", "lifecycle", "tier"]),
        (
            "request_list",
            "status=x&kind=x&department=x&product=x",
            ["status", "kind", "department", "product"],
        ),
        ("forecast_list", "line=x&weeks=x", ["line", "weeks"]),
        ("forecast_accuracy", "line=x&weeks=x", ["line", "weeks"]),
        ("recall_board", "status=x&classification=x", ["status", "classification"]),
    ],
)
def test_a_rejected_filter_value_is_explained_at_its_field(
    client, admin_user, url_name, query, fields
):
    # A filter form given a value it rejects (a hand-edited address) marks the field
    # invalid and points it at its error, which must be on the page.
    client.force_login(admin_user)
    response = client.get(f"{reverse(url_name)}?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    for field in fields:
        assert f'aria-describedby="id_{field}_error"' in html, field
        assert html.count(f'<p class="field-error" id="id_{field}_error">') == 1, field
    assert dangling_references(html) == []


def test_a_refused_comment_is_the_description_of_its_textarea(client, sales_user):
    request = CustomerRequestFactory(department="sales")
    client.force_login(sales_user)
    url = reverse("timeline_comment", args=["coordination.customerrequest", request.pk])
    html = client.post(url, {"body": "   "}, HTTP_HX_REQUEST="true").content.decode()
    assert '<p class="field-error" id="comment-body-error">This field is required.</p>' in html
    assert 'aria-invalid="true" aria-describedby="comment-body-error"' in html
    assert dangling_references(html) == []


def test_request_action_forms_have_their_own_ids(client, production_user):
    # Each action form has a hidden "version": all of them used to be id="id_version".
    obj = CustomerRequestFactory(department="production")
    client.force_login(production_user)
    html = client.get(reverse("request_detail", args=[obj.pk])).content.decode()
    versions = re.findall(r'<input type="hidden" name="version" value="\d+" id="([^"]+)">', html)
    assert versions == ["id_route_version", "id_resolve_version"]
    assert duplicate_ids(html) == []
    assert dangling_references(html) == []


def test_messages_are_a_list_inside_the_status_region(client, marketing_user):
    # role="status" on the <ul> replaced its list role and orphaned the <li> (axe listitem).
    spec = SpecificationFactory(number=1)
    client.force_login(marketing_user)
    response = client.get(
        reverse("specification_edit", args=[spec.product.sku, spec.number]), follow=True
    )
    html = response.content.decode()
    assert (
        '<div role="status"><ul class="messages">\n      <li class="message message-error">'
        "v1 is approved: only drafts can be edited.</li>\n    </ul></div>"
    ) in html
    assert '<ul class="messages" role="status">' not in html
