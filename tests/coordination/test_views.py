"""Browser pages of the coordination app: full pages, htmx partials, forms and roles."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from coordination.forms import SpecificationForm
from coordination.models import (
    ActivityEvent,
    CustomerRequest,
    Product,
    RecomputeRequest,
    Specification,
)
from coordination.services import customer_requests as request_services
from coordination.services import specifications as spec_services
from coordination.weeks import add_weeks, current_week, iso_label
from tests.factories import (
    CustomerRequestFactory,
    LineFactory,
    ProductFactory,
    ProductLineFactory,
    QuotedOrderFactory,
    SpecificationFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def rows(html: str) -> int:
    return len(re.findall(r"<tr>\s*<td>", html))


@pytest.fixture
def catalogue():
    teas = ProductLineFactory(name="Iced Tea")
    juices = ProductLineFactory(name="Juice")
    lemon = ProductFactory(sku="TEA-LEM-05", name="Lemon tea", product_line=teas)
    ProductFactory(sku="TEA-PEA-05", name="Peach tea", product_line=teas, quality_tier="premium")
    ProductFactory(sku="JCE-ORA-10", name="Orange juice", product_line=juices)
    SpecificationFactory(product=lemon, number=1)
    return {"teas": teas, "juices": juices, "lemon": lemon}


# ------------------------------------------------------------------ products


def test_product_list_filters_and_returns_a_partial_for_htmx(client, sales_user, catalogue):
    client.force_login(sales_user)
    full = client.get(reverse("product_list"))
    assert full.status_code == 200
    assert full.context["page"].paginator.count == 3
    assert "<h1>Products</h1>" in full.content.decode()
    partial = client.get(
        reverse("product_list"), {"line": catalogue["teas"].pk, "q": "tea"}, **HTMX
    )
    html = partial.content.decode()
    assert partial.status_code == 200
    assert "<h1>" not in html  # only the results partial
    assert [p.sku for p in partial.context["page"]] == ["TEA-LEM-05", "TEA-PEA-05"]
    premium = client.get(reverse("product_list"), {"tier": "premium"})
    assert [p.sku for p in premium.context["page"]] == ["TEA-PEA-05"]


def test_product_list_shows_an_empty_state(client, sales_user):
    client.force_login(sales_user)
    response = client.get(reverse("product_list"), {"q": "nothing"})
    assert "No products match." in response.content.decode()


def test_product_list_paginates_25_per_page(client, sales_user):
    for i in range(30):
        ProductFactory(sku=f"PAG-{i:04d}")
    client.force_login(sales_user)
    first = client.get(reverse("product_list"))
    second = client.get(reverse("product_list"), {"page": 2})
    assert len(first.context["page"]) == 25
    assert len(second.context["page"]) == 5
    assert "Page 1 of 2 · 30 in all" in first.content.decode()


def test_product_detail_shows_spec_history_and_pending(client, marketing_user, catalogue):
    lemon = catalogue["lemon"]
    SpecificationFactory(
        product=lemon,
        number=2,
        status="proposed",
        reviewed_by=None,
        reviewed_at=None,
        feasibility_note="",
        unit_cost_impact=None,
        effective_from=add_weeks(current_week(), 3),
        rationale="Less sugar please",
    )
    client.force_login(marketing_user)
    response = client.get(reverse("product_detail", args=["TEA-LEM-05"]))
    assert response.status_code == 200
    assert response.context["current"].number == 1
    assert [s.number for s in response.context["pending"]] == [2]
    assert [s.number for s in response.context["history"]] == [2, 1]
    html = response.content.decode()
    assert "Less sugar please" in html
    assert "Propose a spec change" in html
    assert "Edit product" not in html  # marketing may not edit master data


def test_unknown_sku_is_a_404(client, marketing_user):
    client.force_login(marketing_user)
    assert client.get(reverse("product_detail", args=["NOPE-1"])).status_code == 404


def test_product_edit_saves_through_the_service_and_refuses_stale_edits(
    client, production_user, catalogue
):
    lemon = catalogue["lemon"]
    client.force_login(production_user)
    data = {
        "name": "Lemon tea v2",
        "product_line": catalogue["teas"].pk,
        "lifecycle": "active",
        "quality_tier": "standard",
        "unit_price": "1.90",
        "unit_cost": "1.00",
        "production_line": lemon.production_line_id,
        "lead_time_weeks": 2,
        "minimum_batch": 500,
        "batch_size": 250,
        "shelf_life_weeks": "",
        "min_remaining_life_weeks": 0,
        "target_service_level": "0.95",
        "predecessor": "",
        "version": 1,
    }
    response = client.post(reverse("product_edit", args=["TEA-LEM-05"]), data)
    assert response.status_code == 302
    lemon.refresh_from_db()
    assert (lemon.name, lemon.unit_price, lemon.version) == ("Lemon tea v2", Decimal("1.90"), 2)
    stale = client.post(reverse("product_edit", args=["TEA-LEM-05"]), {**data, "name": "Other"})
    assert stale.status_code == 200
    assert "changed by someone else" in stale.content.decode()
    lemon.refresh_from_db()
    assert lemon.name == "Lemon tea v2"


def test_phasing_a_product_out_shows_its_line_being_re_planned(
    client, production_user, catalogue, django_capture_on_commit_callbacks
):
    lemon = catalogue["lemon"]
    client.force_login(production_user)
    data = {
        "name": "Lemon tea",
        "product_line": catalogue["teas"].pk,
        "lifecycle": "phase_out",
        "quality_tier": "standard",
        "unit_price": "2.00",
        "unit_cost": "1.20",
        "production_line": lemon.production_line_id,
        "lead_time_weeks": 1,
        "minimum_batch": 1,
        "batch_size": 1,
        "shelf_life_weeks": "",
        "min_remaining_life_weeks": 0,
        "target_service_level": "0.950",
        "predecessor": "",
        "version": 1,
    }
    saved = client.post(reverse("product_edit", args=["TEA-LEM-05"]), data, follow=True)
    assert saved.redirect_chain == [("/products/TEA-LEM-05/", 302)]
    html = saved.content.decode()
    assert "<h2>Being re-planned</h2>" in html
    assert '<p class="muted">TEA-LEM-05: changed lifecycle active → phase_out</p>' in html
    assert 'hx-get="/products/TEA-LEM-05/progress/" hx-trigger="every 1s"' in html
    with django_capture_on_commit_callbacks(execute=True):
        from coordination.services.recompute import enqueue

        enqueue(saved.context["recompute"].pk)
    html = client.get(reverse("product_progress", args=["TEA-LEM-05"])).content.decode()
    assert "<h2>What changed in the plan</h2>" in html
    line = lemon.production_line.name
    assert f"<li>{line}: 26 quotas changed, 0 units built ahead, 0 units short.</li>" in html
    # A change the plan does not read asks for no new re-plan.
    client.post(
        reverse("product_edit", args=["TEA-LEM-05"]), {**data, "name": "Lemon", "version": 2}
    )
    assert RecomputeRequest.objects.count() == 1


def test_product_edit_shows_errors_at_the_field_and_keeps_input(client, production_user, catalogue):
    client.force_login(production_user)
    response = client.post(
        reverse("product_edit", args=["TEA-LEM-05"]),
        {"name": "Kept name", "unit_price": "-1", "version": 1},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "unit_price" in form.errors
    assert 'value="Kept name"' in response.content.decode()
    assert Product.objects.get(sku="TEA-LEM-05").name == "Lemon tea"


def test_marketing_may_not_edit_products(client, marketing_user, catalogue):
    client.force_login(marketing_user)
    assert client.get(reverse("product_edit", args=["TEA-LEM-05"])).status_code == 403
    assert client.get(reverse("product_create")).status_code == 403


def test_production_creates_a_product(client, production_user, catalogue):
    client.force_login(production_user)
    response = client.post(
        reverse("product_create"),
        {
            "sku": "jce-app-10",
            "name": "Apple juice",
            "product_line": catalogue["juices"].pk,
            "lifecycle": "concept",
            "quality_tier": "premium",
            "unit_price": "2.40",
            "unit_cost": "1.30",
            "production_line": "",
            "lead_time_weeks": 2,
            "minimum_batch": 1000,
            "batch_size": 500,
            "shelf_life_weeks": 12,
            "min_remaining_life_weeks": 4,
            "target_service_level": "0.98",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("product_detail", args=["JCE-APP-10"])
    assert Product.objects.get(sku="JCE-APP-10").name == "Apple juice"


# ------------------------------------------------------------ specifications


def test_proposal_form_prefills_the_current_spec_and_proposes(client, marketing_user, catalogue):
    client.force_login(marketing_user)
    url = reverse("specification_new", args=["TEA-LEM-05"])
    page = client.get(url)
    assert page.context["form"].initial["colours"] == ["Red label"]
    week = add_weeks(current_week(), 5)
    response = client.post(
        url,
        {
            "colours": "Red label\nGreen cap",
            "package_sizes": "500 ml",
            "features": "Vegan",
            "materials": "PET",
            "effective_from": iso_label(week),
            "rationale": "Shoppers ask for a green cap.",
            "submit": "propose",
        },
    )
    assert response.status_code == 302
    spec = Specification.objects.get(product__sku="TEA-LEM-05", number=2)
    assert (spec.status, spec.colours, spec.effective_from) == (
        "proposed",
        ["Red label", "Green cap"],
        week,
    )


def _proposal(week, **extra) -> dict:
    return {
        "colours": "Green cap",
        "effective_from": iso_label(week),
        "rationale": "Shoppers ask for a green cap.",
        "submit": "propose",
        **extra,
    }


def test_a_proposal_cites_the_customer_requests_ticked(client, marketing_user, catalogue):
    asked, also_asked, other = (
        CustomerRequestFactory(product=catalogue["lemon"]),
        CustomerRequestFactory(product=catalogue["lemon"]),
        CustomerRequestFactory(product=Product.objects.get(sku="JCE-ORA-10")),
    )
    client.force_login(marketing_user)
    url = reverse("specification_new", args=["TEA-LEM-05"])

    page = client.get(url).content.decode()
    response = client.post(
        url, _proposal(add_weeks(current_week(), 5), cited_requests=[asked.pk, also_asked.pk])
    )
    refused = client.post(url, _proposal(add_weeks(current_week(), 5), cited_requests=[other.pk]))

    assert f'value="{asked.pk}"' in page and f'value="{other.pk}"' not in page
    assert response.status_code == 302
    spec = Specification.objects.get(product__sku="TEA-LEM-05", number=2)
    assert sorted(spec.cited_requests.values_list("pk", flat=True)) == [asked.pk, also_asked.pk]
    assert refused.context["form"].errors["cited_requests"] == [
        f"Select a valid choice. {other.pk} is not one of the available choices."
    ]
    assert Specification.objects.filter(product__sku="TEA-LEM-05").count() == 2


def test_editing_a_draft_keeps_a_cited_request_older_than_the_list(
    client, marketing_user, catalogue, monkeypatch
):
    old = CustomerRequestFactory(product=catalogue["lemon"])
    CustomerRequest.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    recent = CustomerRequestFactory(product=catalogue["lemon"])
    week = add_weeks(current_week(), 5)
    spec = spec_services.specification_create(
        actor=marketing_user,
        product_id=catalogue["lemon"].pk,
        colours=["Green cap"],
        effective_from=week,
        rationale="Shoppers ask for a green cap.",
        cited_request_ids=[old.pk],
    )
    # Only the most recent request is listed; the one the draft cites stays listed too.
    monkeypatch.setattr(SpecificationForm, "CITABLE_REQUESTS", 1)
    client.force_login(marketing_user)
    edit_url = reverse("specification_edit", args=["TEA-LEM-05", spec.number])

    page = client.get(edit_url).content.decode()
    response = client.post(
        edit_url, _proposal(week, cited_requests=[old.pk, recent.pk], version=spec.version)
    )

    assert f'value="{old.pk}"' in page and f'value="{recent.pk}"' in page
    assert response.status_code == 302
    assert sorted(spec.cited_requests.values_list("pk", flat=True)) == [old.pk, recent.pk]


def test_proposal_form_errors_stay_at_the_field(client, marketing_user, catalogue):
    client.force_login(marketing_user)
    response = client.post(
        reverse("specification_new", args=["TEA-LEM-05"]),
        {
            "colours": "Blue",
            "effective_from": "2020-W01",
            "rationale": "Why not",
            "submit": "propose",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["effective_from"] == [
        "2020-W01 has already started: choose this week or a later one."
    ]
    assert Specification.objects.filter(product__sku="TEA-LEM-05").count() == 1


def test_production_approves_from_the_detail_page(client, production_user, catalogue):
    spec = SpecificationFactory(
        product=catalogue["lemon"],
        number=2,
        status="proposed",
        colours=["Green cap"],
        reviewed_by=None,
        reviewed_at=None,
        feasibility_note="",
        unit_cost_impact=None,
        effective_from=add_weeks(current_week(), 3),
    )
    client.force_login(production_user)
    url = reverse("specification_action", args=["TEA-LEM-05", 2, "approve"])
    missing = client.post(url, {"version": spec.version, "feasibility_note": ""})
    assert missing.status_code == 200
    assert set(missing.context["review_form"].errors) == {"feasibility_note", "unit_cost_impact"}
    spec.refresh_from_db()
    assert spec.status == "proposed"
    ok = client.post(
        url, {"version": spec.version, "feasibility_note": "Fine.", "unit_cost_impact": "0.01"}
    )
    assert ok.status_code == 302
    spec.refresh_from_db()
    assert (spec.status, spec.unit_cost_impact) == ("approved", Decimal("0.01"))


def test_marketing_cannot_approve_through_the_page(client, marketing_user, catalogue):
    spec = SpecificationFactory(
        product=catalogue["lemon"],
        number=2,
        status="proposed",
        reviewed_by=None,
        reviewed_at=None,
        feasibility_note="",
        unit_cost_impact=None,
        effective_from=add_weeks(current_week(), 3),
    )
    client.force_login(marketing_user)
    response = client.post(
        reverse("specification_action", args=["TEA-LEM-05", 2, "approve"]),
        {"version": spec.version, "feasibility_note": "Sure", "unit_cost_impact": "0"},
    )
    assert response.status_code == 403
    spec.refresh_from_db()
    assert spec.status == "proposed"


def test_review_queue_is_for_production_only(client, production_user, marketing_user, catalogue):
    client.force_login(marketing_user)
    assert client.get(reverse("review_queue")).status_code == 403
    client.force_login(production_user)
    response = client.get(reverse("review_queue"))
    assert response.status_code == 200
    assert list(response.context["proposals"]) == []
    assert "Nothing to review" in response.content.decode()


# ---------------------------------------------------------- customer requests


def test_quick_log_with_htmx_returns_a_fresh_form_keeping_the_customer(
    client, sales_user, catalogue
):
    client.force_login(sales_user)
    response = client.post(
        reverse("request_log"),
        {
            "customer_name": "Greenway Grocers",
            "customer_account": "GG-1",
            "channel": "phone",
            "kind": "need",
            "product": "tea-lem-05",
            "summary": "Wants a 1 l bottle",
            "preference": "balanced",
            "priority": "normal",
        },
        **HTMX,
    )
    assert response.status_code == 200
    request = CustomerRequest.objects.get()
    assert (request.product.sku, request.department, request.created_by) == (
        "TEA-LEM-05",
        "marketing",
        sales_user,
    )
    html = response.content.decode()
    assert "<h1>" not in html  # only the log panel is swapped
    assert f"Logged request #{request.pk} (Need), routed to Marketing" in html
    # The next request of the same call keeps the customer, not the summary.
    assert 'name="customer_name" value="Greenway Grocers"' in html
    assert 'name="customer_account" value="GG-1"' in html
    assert 'name="summary" value=' not in html


def test_quick_log_without_htmx_redirects_to_the_request(client, sales_user, catalogue):
    client.force_login(sales_user)
    response = client.post(
        reverse("request_log"),
        {
            "customer_name": "Greenway",
            "channel": "email",
            "kind": "complaint",
            "summary": "Late delivery",
            "preference": "balanced",
            "priority": "high",
        },
    )
    request = CustomerRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("request_detail", args=[request.pk])


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"product": "NOPE-1"}, "product", "No product with SKU NOPE-1."),
        ({"quantity": "-4"}, "quantity", "Ensure this value is greater than or equal to 1."),
        (
            {"wanted_week": "2020-W05"},
            "wanted_week",
            "2020-W05 is in the past: choose a future week.",
        ),
        ({"wanted_week": "next tuesday"}, "wanted_week", "Enter a week as 2026-W48"),
    ],
)
def test_quick_log_errors_at_the_field_and_nothing_saved(
    client, sales_user, catalogue, data, field, message
):
    client.force_login(sales_user)
    payload = {
        "customer_name": "Greenway",
        "channel": "email",
        "kind": "customization",
        "product": "TEA-LEM-05",
        "summary": "Custom label",
        "preference": "balanced",
        "priority": "normal",
        **data,
    }
    response = client.post(reverse("request_log"), payload)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    html = response.content.decode()
    assert f'<p class="field-error" id="id_{field}_error">' in html
    assert 'value="Greenway"' in html
    assert CustomerRequest.objects.count() == 0


def test_production_may_not_log(client, production_user):
    client.force_login(production_user)
    assert client.get(reverse("request_log")).status_code == 403


def test_request_list_shows_only_what_the_role_may_see(client, production_user, sales_user):
    CustomerRequestFactory(department="production", summary="For production")
    CustomerRequestFactory(department="marketing", summary="For marketing")
    client.force_login(production_user)
    response = client.get(reverse("request_list"))
    assert [r.summary for r in response.context["page"]] == ["For production"]
    client.force_login(sales_user)
    response = client.get(reverse("request_list"), {"department": "marketing"}, **HTMX)
    assert [r.summary for r in response.context["page"]] == ["For marketing"]
    assert "<h1>" not in response.content.decode()


def test_request_list_filters_by_a_typed_sku_and_names_an_unknown_one(client, sales_user):
    """The product filter is typed as a SKU (a company has thousands, too many for a list):
    a known one filters, an unknown one is said at the field and filters nothing."""
    lemon = CustomerRequestFactory(department="sales", summary="Lemon")
    CustomerRequestFactory(department="sales", summary="Other")
    client.force_login(sales_user)

    response = client.get(reverse("request_list"), {"product": lemon.product.sku})
    assert [r.summary for r in response.context["page"]] == ["Lemon"]
    assert '<option value="' + lemon.product.sku not in response.content.decode()

    response = client.get(reverse("request_list"), {"product": "NO-SUCH-SKU"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"product": ["No product has the SKU NO-SUCH-SKU."]}
    assert sorted(r.summary for r in response.context["page"]) == ["Lemon", "Other"]


def test_inbox_lists_open_requests_most_urgent_first(client, production_user):
    today = timezone.localdate()
    later = CustomerRequestFactory(department="production", due_date=today + dt.timedelta(days=5))
    sooner = CustomerRequestFactory(department="production", due_date=today - dt.timedelta(days=1))
    CustomerRequestFactory(department="production", status="resolved", resolution="done")
    CustomerRequestFactory(department="sales")
    client.force_login(production_user)
    response = client.get(reverse("inbox"))
    assert response.context["title"] == "Production inbox"
    assert list(response.context["page"]) == [sooner, later]
    assert "Overdue" in response.content.decode()


def test_request_detail_offers_only_the_actions_the_role_may_take(
    client, production_user, sales_user, catalogue
):
    request = CustomerRequestFactory(
        kind="customization",
        department="production",
        status="triaged",
        product=catalogue["lemon"],
        quantity=100,
        wanted_week=add_weeks(current_week(), 6),
    )
    client.force_login(production_user)
    response = client.get(reverse("request_detail", args=[request.pk]))
    assert [f["action"].name for f in response.context["action_forms"]] == [
        "route",
        "start_review",
        "answer_feasibility",
    ]
    client.force_login(sales_user)
    response = client.get(reverse("request_detail", args=[request.pk]))
    assert [f["action"].name for f in response.context["action_forms"]] == ["route", "decline"]


def test_feasibility_answer_through_the_page(
    client, make_user, production_user, quality_user, catalogue
):
    request = CustomerRequestFactory(
        kind="customization",
        department="production",
        status="in_review",
        product=catalogue["lemon"],
        quantity=100,
        wanted_week=add_weeks(current_week(), 6),
    )
    client.force_login(production_user)
    url = reverse("request_action", args=[request.pk, "answer_feasibility"])
    bad = client.post(url, {"version": 1, "feasible": "yes", "note": "ok"})
    assert bad.status_code == 200
    assert bad.context["open_action"] == "answer_feasibility"
    request.refresh_from_db()
    assert request.feasible is None
    good = client.post(
        url,
        {
            "version": 1,
            "feasible": "yes",
            "note": "ok",
            "extra_unit_cost": "0.1",
            "lead_time_weeks": 2,
        },
    )
    assert good.status_code == 302
    request.refresh_from_db()
    assert (request.feasible, request.department, request.version) == (True, "sales", 2)
    # The answer went back to Sales; the redirect shows Production what it answered (it
    # was a 404, "not routed to your department"), with nothing left for it to do.
    shown = client.get(good["Location"])
    assert (good["Location"], shown.status_code) == (f"/requests/{request.pk}/", 200)
    assert shown.context["action_forms"] == []
    assert "<dt>Lead time</dt><dd>2 weeks</dd>" in shown.content.decode()
    # A colleague in Production sees it too; Quality, which had no part in it, does not.
    client.force_login(make_user("Production", username="pia"))
    assert client.get(good["Location"]).status_code == 200
    client.force_login(quality_user)
    assert client.get(good["Location"]).status_code == 404


def test_stale_action_answers_409_and_changes_nothing(client, sales_user, catalogue):
    request = CustomerRequestFactory(department="sales", product=catalogue["lemon"])
    request_services.request_route(
        actor=sales_user, request_id=request.pk, expected_version=1, department="marketing"
    )
    client.force_login(sales_user)
    response = client.post(
        reverse("request_action", args=[request.pk, "route"]),
        {"version": 1, "department": "production", "priority": "normal"},
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    request.refresh_from_db()
    assert (request.department, request.version) == ("marketing", 2)


def test_unknown_action_is_a_404(client, sales_user):
    request = CustomerRequestFactory(department="sales")
    client.force_login(sales_user)
    response = client.post(reverse("request_action", args=[request.pk, "explode"]))
    assert response.status_code == 404


def test_request_outside_the_role_is_a_404(client, quality_user):
    request = CustomerRequestFactory(department="sales")
    client.force_login(quality_user)
    assert client.get(reverse("request_detail", args=[request.pk])).status_code == 404


# -------------------------------------------------------------------- timeline


def test_comment_with_htmx_returns_the_refreshed_timeline(client, sales_user):
    request = CustomerRequestFactory(department="sales")
    client.force_login(sales_user)
    url = reverse("timeline_comment", args=["coordination.customerrequest", request.pk])
    response = client.post(url, {"body": "Called the customer back."}, **HTMX)
    assert response.status_code == 200
    assert "Called the customer back." in response.content.decode()
    event = ActivityEvent.objects.get()
    assert (event.verb, event.actor, event.object_id) == ("commented", sales_user, request.pk)


def test_empty_comment_is_refused(client, sales_user):
    request = CustomerRequestFactory(department="sales")
    client.force_login(sales_user)
    url = reverse("timeline_comment", args=["coordination.customerrequest", request.pk])
    response = client.post(url, {"body": "   "}, **HTMX)
    assert "This field is required." in response.content.decode()
    assert ActivityEvent.objects.count() == 0


def test_cannot_comment_on_what_the_role_cannot_see(client, quality_user):
    request = CustomerRequestFactory(department="sales")
    client.force_login(quality_user)
    url = reverse("timeline_comment", args=["coordination.customerrequest", request.pk])
    assert client.post(url, {"body": "hi"}).status_code == 404
    assert (
        client.post(reverse("timeline_comment", args=["auth.user", 1]), {"body": "x"}).status_code
        == 404
    )
    assert ActivityEvent.objects.count() == 0


# ---------------------------------------------------------- voice of customer


def test_voice_of_customer_counts_by_kind_and_preference(client, marketing_user, catalogue):
    lemon = catalogue["lemon"]
    for kind, preference in (
        ("need", "quality_first"),
        ("need", "price_first"),
        ("complaint", "quality_first"),
    ):
        CustomerRequestFactory(product=lemon, kind=kind, preference=preference)
    CustomerRequestFactory(product=None, kind="concern", preference="balanced")
    client.force_login(marketing_user)
    response = client.get(reverse("voice_of_customer"))
    assert response.status_code == 200
    data = response.context["data"]
    assert data["total"] == 4
    by_name = {row["name"]: row for row in data["rows"]}
    assert by_name["TEA-LEM-05"]["kinds"]["need"] == 2
    assert by_name["TEA-LEM-05"]["kinds"]["complaint"] == 1
    assert by_name["No product"]["kinds"]["concern"] == 1
    month = data["preference_by_month"][-1]
    assert (month["quality_first"], month["price_first"], month["balanced"]) == (2, 1, 1)
    html = response.content.decode()
    assert "<svg" in html and "Quality vs price, month by month" in html
    by_line = client.get(reverse("voice_of_customer"), {"by": "line"})
    assert [row["name"] for row in by_line.context["data"]["rows"]] == ["Iced Tea", "No product"]


def test_voice_of_customer_is_not_for_production(client, production_user):
    client.force_login(production_user)
    assert client.get(reverse("voice_of_customer")).status_code == 403


def test_accepting_an_order_shows_it_being_re_planned_then_what_changed(
    client, sales_user, django_capture_on_commit_callbacks
):
    from production.models import RunRate

    line = LineFactory(name="Canning 2")
    drink = ProductFactory(sku="BEV-1001", production_line=line)
    RunRate.objects.create(product=drink, hours_per_unit=Decimal("0.005"))
    wanted = add_weeks(current_week(), 10)
    request = QuotedOrderFactory(product=drink, wanted_week=wanted, created_by=sales_user)
    client.force_login(sales_user)
    page = reverse("request_detail", args=[request.pk])
    progress = reverse("request_progress", args=[request.pk])
    # The worker has not run yet: the page says the order is being re-planned, and polls.
    accepted = client.post(
        reverse("request_action", args=[request.pk, "accept"]), {"version": 1}, follow=True
    )
    html = accepted.content.decode()
    assert "<h2>Being re-planned</h2>" in html
    assert f'hx-get="{progress}" hx-trigger="every 1s"' in html
    assert '<span class="badge badge-info">Queued</span> Waiting for a planning worker…' in html
    assert f"8000 units in {iso_label(wanted)}, being re-planned" in html
    # The worker re-plans Canning 2 (the recompute runs inline after commit here).
    with django_capture_on_commit_callbacks(execute=True):
        from coordination.services.recompute import enqueue

        enqueue(accepted.context["recompute"].pk)
    html = client.get(progress).content.decode()
    assert "<h2>What changed in the plan</h2>" in html
    assert "every 1s" not in html
    made_in = iso_label(add_weeks(wanted, -1))
    assert (
        f"<li>Firm orders in {iso_label(wanted)}: 8,000 units of 8,000 demand; "
        f"8,000 units planned in {made_in} to arrive then.</li>"
    ) in html
    # The line's first plan: every one of its 26 weekly quotas is new.
    assert "<li>Canning 2: 26 quotas changed, 0 units built ahead, 0 units short.</li>" in html
    html = client.get(page).content.decode()
    assert f"8000 units in {iso_label(wanted)}, in the plan" in html
