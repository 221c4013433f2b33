"""Promotion pages: the calendar and list, the form (create and edit, with optimistic
locking), status changes, the lift suggestion partial and the detail page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from coordination.models import ActivityEvent, RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import Promotion, PromotionItem
from tests.factories import (
    ProductFactory,
    ProductLineFactory,
    PromotionFactory,
    PromotionItemFactory,
    SalesActualFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def week(k: int):
    return add_weeks(current_week(), k)


def squash(html: str) -> str:
    """The HTML without the line breaks and indentation between tags."""
    return re.sub(r">\s*\n\s*<", "><", html)


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', html)


def page_messages(client, url: str) -> list[str]:
    html = client.get(url).content.decode()
    return re.findall(r'<li class="message message-\w+">(.*?)</li>', html)


@pytest.fixture
def catalogue():
    teas = ProductLineFactory(name="Iced Tea")
    juices = ProductLineFactory(name="Juice")
    return {
        "teas": teas,
        "juices": juices,
        "lemon": ProductFactory(sku="TEA-LEM-05", name="Lemon tea", product_line=teas),
        "peach": ProductFactory(sku="TEA-PEA-05", name="Peach tea", product_line=teas),
        "orange": ProductFactory(sku="JCE-ORA-10", name="Orange juice", product_line=juices),
        "old": ProductFactory(sku="TEA-OLD-01", product_line=teas, lifecycle="discontinued"),
    }


def promotion_with(products, **kwargs) -> Promotion:
    promotion = PromotionFactory(**kwargs)
    for product in products:
        PromotionItemFactory(promotion=promotion, product=product)
    return promotion


# ------------------------------------------------------------------ calendar


def test_the_calendar_places_each_promotion_in_its_weeks(client, sales_user, catalogue):
    summer = promotion_with(
        [catalogue["lemon"], catalogue["peach"]], name="Summer", status="planned"
    )
    promotion_with(
        [catalogue["orange"]],
        name="Spring",
        status="confirmed",
        start_week=week(-10),
        end_week=week(-2),
    )
    promotion_with([catalogue["orange"]], name="Long ago", start_week=week(-30), end_week=week(-29))
    client.force_login(sales_user)

    response = client.get(reverse("promotion_calendar"))

    calendar = response.context["calendar"]
    html = squash(response.content.decode())
    assert response.status_code == 200
    assert calendar["start"] == week(-4)
    assert calendar["end"] == week(21)
    assert len(calendar["columns"]) == 26
    assert [(r["line"], r["promotion"].name, r["skus"]) for r in calendar["rows"]] == [
        ("Iced Tea", "Summer", ["TEA-LEM-05", "TEA-PEA-05"]),
        ("Juice", "Spring", ["JCE-ORA-10"]),
    ]
    # Summer runs weeks 2 to 4 from now: 6 empty columns, a bar of 3, 17 after.
    assert (
        '<td colspan="6"></td><td colspan="3" class="bar bar-planned"><span>Planned · −20.0%'
        '</span></td><td colspan="17"></td>'
    ) in html
    # Spring started before the window: its bar starts in the first column.
    assert (
        '</th><td colspan="3" class="bar bar-confirmed"><span>Confirmed · −20.0%</span></td>'
        '<td colspan="23"></td>'
    ) in html
    assert f'<a href="{reverse("promotion_detail", args=[summer.pk])}">Summer</a>' in html
    # The list below shows every promotion, the oldest last.
    assert [p.name for p in response.context["page"]] == ["Summer", "Spring", "Long ago"]


def test_the_calendar_filters_by_line_and_moves_by_13_weeks(client, sales_user, catalogue):
    promotion_with([catalogue["lemon"]], name="Summer")
    promotion_with([catalogue["orange"]], name="Juicy")
    client.force_login(sales_user)

    response = client.get(
        reverse("promotion_calendar"),
        {"line": catalogue["juices"].pk, "from": iso_label(week(-13))},
    )

    assert response.context["calendar"]["start"] == week(-13)
    assert [r["promotion"].name for r in response.context["calendar"]["rows"]] == ["Juicy"]
    assert [p.name for p in response.context["page"]] == ["Juicy"]
    html = response.content.decode()
    line = catalogue["juices"].pk
    assert f'href="?from={iso_label(week(-26))}&amp;line={line}">← 13 weeks</a>' in html
    assert f'href="?from={iso_label(week(0))}&amp;line={line}">13 weeks →</a>' in html
    assert f'<option value="{line}" selected>Juice</option>' in html


def test_a_bad_calendar_query_shows_the_default_weeks(client, sales_user, catalogue):
    promotion_with([catalogue["lemon"]], name="Summer")
    client.force_login(sales_user)

    response = client.get(reverse("promotion_calendar"), {"from": "soon", "line": "teas"})

    assert response.status_code == 200
    assert response.context["calendar"]["start"] == week(-4)
    assert response.context["line_id"] is None
    assert [r["promotion"].name for r in response.context["calendar"]["rows"]] == ["Summer"]


def test_htmx_gets_the_calendar_alone(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    response = client.get(reverse("promotion_calendar"), **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="calendar">')
    assert "All promotions" not in html
    assert "No promotions in these weeks." in html
    assert f'<a href="{reverse("promotion_create")}">Plan one</a>' in html


def test_the_promotion_list_pages_by_20(client, quality_user, catalogue):
    for k in range(23):
        PromotionFactory(name=f"Promo {k:02d}")
    client.force_login(quality_user)

    first = client.get(reverse("promotion_calendar"))
    second = client.get(reverse("promotion_calendar"), {"page": 2})

    assert len(first.context["page"]) == 20
    assert len(second.context["page"]) == 3
    assert "Page 1 of 2 · 23 in all" in first.content.decode()
    # Readers without add_promotion see no way to create one.
    assert "New promotion" not in first.content.decode()


# ------------------------------------------------------------------ create


def form_data(**overrides) -> dict:
    data = {
        "name": "Summer lemonade",
        "channel": "retail",
        "discount_pct": "20",
        "start_week": iso_label(week(3)),
        "end_week": iso_label(week(4)),
        "notes": "",
        "items-TOTAL_FORMS": "4",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "60",
        "items-0-product": "tea-lem-05",
        "items-0-expected_lift_pct": "35",
        "submit": "draft",
    }
    data.update(overrides)
    return data


def test_the_new_promotion_form_offers_rows_and_prefills_a_product(
    client, marketing_user, catalogue
):
    client.force_login(marketing_user)

    response = client.get(reverse("promotion_create"), {"product": "tea-pea-05"})

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["items"].total_form_count() == 4
    assert 'name="items-0-product" value="TEA-PEA-05"' in html
    # Discontinued products are not offered.
    assert '<option value="TEA-LEM-05">Lemon tea</option>' in html
    assert "TEA-OLD-01" not in html
    assert 'value="planned" class="button primary">Save and plan</button>' in html


@pytest.mark.parametrize(("rows", "expected"), [("10", 10), ("500", 60), ("abc", 4), ("-3", 4)])
def test_the_row_count_is_bounded_and_survives_nonsense(
    client, marketing_user, catalogue, rows, expected
):
    client.force_login(marketing_user)

    response = client.get(reverse("promotion_create"), {"rows": rows})

    assert response.status_code == 200
    assert response.context["items"].total_form_count() == expected


@pytest.mark.parametrize("user", ["sales_user", "production_user", "quality_user"])
def test_only_marketing_and_admins_create_promotions(client, request, user, catalogue):
    client.force_login(request.getfixturevalue(user))

    assert client.get(reverse("promotion_create")).status_code == 403
    assert client.post(reverse("promotion_create"), form_data()).status_code == 403
    assert Promotion.objects.count() == 0


def test_saving_a_draft_creates_it_without_touching_the_plan(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    response = client.post(
        reverse("promotion_create"),
        form_data(**{"items-1-product": "JCE-ORA-10", "items-1-expected_lift_pct": "12.5"}),
    )

    promotion = Promotion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("promotion_detail", args=[promotion.pk])
    assert (promotion.name, promotion.channel, promotion.status) == (
        "Summer lemonade",
        "retail",
        "draft",
    )
    assert (promotion.start_week, promotion.end_week, promotion.discount_pct) == (
        week(3),
        week(4),
        Decimal("20.0"),
    )
    assert sorted(promotion.items.values_list("product__sku", "expected_lift_pct")) == [
        ("JCE-ORA-10", Decimal("12.5")),
        ("TEA-LEM-05", Decimal("35.0")),
    ]
    assert RecomputeRequest.objects.count() == 0
    assert page_messages(client, response["Location"]) == ["Saved “Summer lemonade” (Draft)."]


def test_saving_and_planning_asks_production_to_recompute(client, marketing_user, catalogue):
    promotion_with([catalogue["lemon"]], name="Other", status="confirmed", start_week=week(4))
    client.force_login(marketing_user)

    response = client.post(reverse("promotion_create"), form_data(submit="planned"))

    promotion = Promotion.objects.get(name="Summer lemonade")
    assert promotion.status == "planned"
    recompute = RecomputeRequest.objects.get()
    assert (recompute.source, recompute.product_ids) == ("promotion", [catalogue["lemon"].pk])
    assert recompute.subject_id == promotion.pk
    assert page_messages(client, response["Location"]) == [
        "Saved “Summer lemonade” (Planned).",
        f"Overlaps “Other” (confirmed) on TEA-LEM-05 in {iso_label(week(4))} – "
        f"{iso_label(week(6))}.",
    ]


def test_a_new_promotion_cannot_start_out_cancelled(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    client.post(reverse("promotion_create"), form_data(submit="cancelled"))

    assert Promotion.objects.get().status == "draft"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"end_week": "START-1"},
            "end_week",
            "The promotion must end on or after its first week.",
        ),
        ({"discount_pct": "95"}, "discount_pct", "Ensure this value is less than or equal to 90."),
        ({"name": "  "}, "name", "This field is required."),
        ({"start_week": "2026-W60"}, "start_week", "2026-W60 is not a week of 2026."),
        (
            {"start_week": "PAST-3", "end_week": "PAST-2"},
            "end_week",
            "PAST-2 has passed: plan a future promotion.",
        ),
    ],
)
def test_an_invalid_promotion_keeps_the_input_and_saves_nothing(
    client, marketing_user, catalogue, overrides, field, message
):
    labels = {"START-1": iso_label(week(2)), "PAST-3": iso_label(week(-3))}
    labels["PAST-2"] = iso_label(week(-2))
    overrides = {k: labels.get(v, v) for k, v in overrides.items()}
    message = message.replace("PAST-2", labels["PAST-2"])
    client.force_login(marketing_user)

    response = client.post(reverse("promotion_create"), form_data(**overrides))

    html = response.content.decode()
    assert response.status_code == 200
    assert field_errors(html, field) == [message]
    assert 'name="items-0-product" value="tea-lem-05"' in html
    assert 'name="items-0-expected_lift_pct" value="35"' in html
    assert Promotion.objects.count() == 0
    assert PromotionItem.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def _row_errors(response, index: int) -> dict:
    return response.context["items"].forms[index].errors


def test_item_rows_are_checked_one_by_one(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    response = client.post(
        reverse("promotion_create"),
        form_data(
            **{
                "items-1-product": "NOPE-1",
                "items-1-expected_lift_pct": "10",
                "items-2-product": "TEA-PEA-05",
                "items-3-product": "",
                "items-3-expected_lift_pct": "900",
            }
        ),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert _row_errors(response, 0) == {}
    assert _row_errors(response, 1) == {"product": ["No product with SKU NOPE-1."]}
    assert _row_errors(response, 2) == {
        "expected_lift_pct": ["Enter the lift you expect (the suggestion helps)."]
    }
    assert _row_errors(response, 3) == {
        "expected_lift_pct": ["Ensure this value is less than or equal to 500."]
    }
    # The error carries the id that the input's aria-describedby names.
    assert (
        '<p class="field-error" id="id_items-1-product_error">No product with SKU NOPE-1.</p>'
        in html
    )
    assert 'aria-describedby="id_items-1-product_error"' in html
    assert 'aria-describedby="id_items-3-expected_lift_pct_error"' in html
    assert '<p class="field-error" id="id_items-3-expected_lift_pct_error">' in html
    assert Promotion.objects.count() == 0


@pytest.mark.parametrize(
    ("lift", "message"),
    [
        ("-150", "Ensure this value is greater than or equal to -50."),
        ("99999999", "Ensure this value is less than or equal to 500."),
        ("a lot", "Enter a number."),
    ],
)
def test_a_lift_out_of_range_shows_only_its_own_message(
    client, marketing_user, catalogue, lift, message
):
    client.force_login(marketing_user)

    response = client.post(
        reverse("promotion_create"), form_data(**{"items-0-expected_lift_pct": lift})
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert _row_errors(response, 0) == {"expected_lift_pct": [message]}
    assert field_errors(html, "items-0-expected_lift_pct") == [message]
    assert "Enter the lift you expect (the suggestion helps)." not in html
    assert Promotion.objects.count() == 0


def test_the_service_refuses_discontinued_and_repeated_products_on_their_rows(
    client, marketing_user, catalogue
):
    client.force_login(marketing_user)

    response = client.post(
        reverse("promotion_create"),
        form_data(
            **{
                "items-1-product": "TEA-OLD-01",
                "items-1-expected_lift_pct": "10",
                "items-2-product": "TEA-LEM-05",
                "items-2-expected_lift_pct": "10",
            }
        ),
    )

    assert response.status_code == 200
    assert _row_errors(response, 1) == {
        "product": ["TEA-OLD-01 is discontinued and cannot be promoted."]
    }
    assert _row_errors(response, 2) == {"product": ["TEA-LEM-05 is already in this promotion."]}
    assert Promotion.objects.count() == 0


def test_a_promotion_needs_a_product(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    response = client.post(
        reverse("promotion_create"), form_data(**{"items-0-product": "", "notes": "Keep me"})
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Add at least one product to the promotion."
    ]
    assert "Keep me</textarea>" in response.content.decode()
    assert Promotion.objects.count() == 0


def test_more_rows_keeps_what_was_typed_and_saves_nothing(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    response = client.post(reverse("promotion_create"), form_data(submit="more"))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["items"].total_form_count() == 8
    assert 'name="items-TOTAL_FORMS" value="8"' in html
    assert 'name="items-0-product" value="tea-lem-05"' in html
    assert 'name="name" value="Summer lemonade"' in html
    assert Promotion.objects.count() == 0


def test_more_rows_with_a_tampered_row_count_is_not_a_server_error(
    client, marketing_user, catalogue
):
    client.force_login(marketing_user)

    response = client.post(
        reverse("promotion_create"), form_data(submit="more", **{"items-TOTAL_FORMS": "x"})
    )

    assert response.status_code == 200
    assert Promotion.objects.count() == 0


# ------------------------------------------------------------------ edit


@pytest.fixture
def planned(catalogue, marketing_user):
    return promotion_with(
        [catalogue["lemon"]],
        name="Summer",
        status="planned",
        start_week=week(3),
        end_week=week(4),
        created_by=marketing_user,
    )


def edit_data(promotion, **overrides) -> dict:
    return form_data(
        name="Summer (bigger)",
        version=str(promotion.version),
        submit="save",
        **{"items-0-product": "TEA-PEA-05", "items-0-expected_lift_pct": "40"},
        **overrides,
    )


def test_the_edit_form_shows_the_promotion_as_saved(client, marketing_user, planned):
    client.force_login(marketing_user)

    response = client.get(reverse("promotion_edit", args=[planned.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<input type="hidden" name="version" value="1" id="id_version">' in html
    assert 'name="name" value="Summer"' in html
    assert f'name="start_week" value="{iso_label(week(3))}"' in html
    assert 'name="items-0-product" value="TEA-LEM-05"' in html
    assert 'name="items-0-expected_lift_pct" value="30.0"' in html
    assert response.context["items"].total_form_count() == 4
    assert '<button type="submit" name="submit" value="save"' in html


def test_an_edit_saves_a_new_version_and_replans_old_and_new_products(
    client, marketing_user, planned, catalogue
):
    client.force_login(marketing_user)

    response = client.post(reverse("promotion_edit", args=[planned.pk]), edit_data(planned))

    assert response.status_code == 302
    planned.refresh_from_db()
    assert (planned.name, planned.version, planned.status) == ("Summer (bigger)", 2, "planned")
    assert list(planned.items.values_list("product__sku", "expected_lift_pct")) == [
        ("TEA-PEA-05", Decimal("40.0"))
    ]
    recompute = RecomputeRequest.objects.get()
    assert recompute.product_ids == sorted([catalogue["lemon"].pk, catalogue["peach"].pk])
    assert recompute.reason == "Promotion “Summer (bigger)” was changed"


def test_a_stale_edit_is_refused_and_nothing_is_saved(client, marketing_user, planned):
    client.force_login(marketing_user)
    Promotion.objects.filter(pk=planned.pk).update(version=2)  # someone else saved meanwhile

    response = client.post(reverse("promotion_edit", args=[planned.pk]), edit_data(planned))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Promotion Summer was changed by someone else while you were editing it. "
        "Reload to see the current version, then apply your change again."
    ]
    assert "Promotion Summer was changed by someone else" in html
    assert 'name="name" value="Summer (bigger)"' in html  # the input is kept
    planned.refresh_from_db()
    assert (planned.name, planned.version) == ("Summer", 2)
    assert list(planned.items.values_list("product__sku", flat=True)) == ["TEA-LEM-05"]
    assert RecomputeRequest.objects.count() == 0
    assert ActivityEvent.objects.count() == 0


def test_an_edit_without_the_version_is_refused(client, marketing_user, planned):
    client.force_login(marketing_user)
    data = edit_data(planned)
    del data["version"]

    response = client.post(reverse("promotion_edit", args=[planned.pk]), data)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The form did not say which version of the promotion you edited. "
        "Reload the page, then apply your change again."
    ]
    planned.refresh_from_db()
    assert (planned.name, planned.version) == ("Summer", 1)
    assert RecomputeRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"start_week": week(-4), "end_week": week(-3)},
            "This promotion has ended; it is kept as history for lift learning.",
        ),
        (
            {"status": "cancelled"},
            "Reopen the cancelled promotion as a draft before editing it.",
        ),
    ],
)
def test_ended_and_cancelled_promotions_cannot_be_edited(
    client, marketing_user, planned, changes, message
):
    Promotion.objects.filter(pk=planned.pk).update(**changes)
    client.force_login(marketing_user)

    response = client.post(reverse("promotion_edit", args=[planned.pk]), edit_data(planned))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [message]
    planned.refresh_from_db()
    assert (planned.name, planned.version) == ("Summer", 1)
    assert RecomputeRequest.objects.count() == 0


def test_editing_needs_the_permission_and_an_existing_promotion(
    client, sales_user, marketing_user, planned
):
    client.force_login(sales_user)
    assert client.get(reverse("promotion_edit", args=[planned.pk])).status_code == 403
    assert (
        client.post(reverse("promotion_edit", args=[planned.pk]), edit_data(planned)).status_code
        == 403
    )
    planned.refresh_from_db()
    assert planned.name == "Summer"
    client.force_login(marketing_user)
    assert client.get(reverse("promotion_edit", args=[999999])).status_code == 404


# ------------------------------------------------------------------ status


def _status(client, promotion, status, version=None):
    return client.post(
        reverse("promotion_status", args=[promotion.pk]),
        {"status": status, "version": version or promotion.version},
    )


def test_planning_a_draft_asks_production_to_recompute(client, marketing_user, catalogue):
    draft = promotion_with([catalogue["lemon"]], name="Autumn")
    client.force_login(marketing_user)

    response = _status(client, draft, "planned")

    assert response.status_code == 302
    assert response["Location"] == reverse("promotion_detail", args=[draft.pk])
    draft.refresh_from_db()
    assert (draft.status, draft.version, draft.updated_by) == ("planned", 2, marketing_user)
    assert RecomputeRequest.objects.get().reason == "Promotion “Autumn” is now planned"
    assert page_messages(client, response["Location"]) == ["“Autumn” is now Planned."]


@pytest.mark.parametrize(
    ("status", "data", "message"),
    [
        ("confirmed", {"status": "draft"}, "A confirmed promotion cannot become draft."),
        ("draft", {"status": "planned", "version": "7"}, "STALE"),
        ("draft", {"status": "paused"}, "Choose a status."),
        ("draft", {"status": "planned", "version": ""}, "Choose a status."),
    ],
)
def test_a_refused_status_change_says_why_and_changes_nothing(
    client, marketing_user, catalogue, status, data, message
):
    promotion = promotion_with([catalogue["lemon"]], name="Autumn", status=status)
    client.force_login(marketing_user)
    if message == "STALE":
        message = (
            "Promotion Autumn was changed by someone else while you were editing it. "
            "Reload to see the current version, then apply your change again."
        )

    response = client.post(
        reverse("promotion_status", args=[promotion.pk]), {"version": "1", **data}
    )

    assert response.status_code == 302
    assert page_messages(client, response["Location"]) == [message]
    promotion.refresh_from_db()
    assert (promotion.status, promotion.version) == (status, 1)
    assert RecomputeRequest.objects.count() == 0


def test_a_promotion_with_a_discontinued_product_cannot_be_planned(
    client, marketing_user, catalogue
):
    promotion = promotion_with([catalogue["lemon"], catalogue["old"]], name="Autumn")
    client.force_login(marketing_user)

    response = _status(client, promotion, "planned")

    assert page_messages(client, response["Location"]) == [
        "Remove discontinued products first: TEA-OLD-01."
    ]
    promotion.refresh_from_db()
    assert promotion.status == "draft"


def test_status_changes_need_the_confirm_permission_a_post_and_a_promotion(
    client, sales_user, marketing_user, catalogue
):
    promotion = promotion_with([catalogue["lemon"]], name="Autumn")
    client.force_login(sales_user)
    assert _status(client, promotion, "planned").status_code == 403
    promotion.refresh_from_db()
    assert promotion.status == "draft"
    client.force_login(marketing_user)
    assert client.get(reverse("promotion_status", args=[promotion.pk])).status_code == 405
    assert (
        client.post(
            reverse("promotion_status", args=[999999]), {"status": "planned", "version": "1"}
        ).status_code
        == 404
    )
    assert RecomputeRequest.objects.count() == 0


# ------------------------------------------------------------------ lift suggestion


@pytest.fixture
def history(catalogue):
    """One finished promotion of lemon tea: 100 a week before, 150 during, 90 after."""
    lemon = catalogue["lemon"]
    past = promotion_with(
        [lemon], name="Last spring", status="confirmed", start_week=week(-10), end_week=week(-9)
    )
    for k in range(-18, -10):
        SalesActualFactory(product=lemon, week=week(k), units=100)
    for k in (-10, -9):
        SalesActualFactory(product=lemon, week=week(k), units=150)
    for k in range(-8, -4):
        SalesActualFactory(product=lemon, week=week(k), units=90)
    return past


def _suggestion(client, **params) -> str:
    response = client.get(reverse("lift_suggestion"), params, **HTMX)
    assert response.status_code == 200
    return response.content.decode().strip()


def test_the_suggestion_learns_from_the_products_past_promotions(
    client, sales_user, catalogue, history
):
    client.force_login(sales_user)

    assert _suggestion(client, sku="tea-lem-05", discount="20") == (
        '<strong>+50.0%</strong> <span class="muted">1 past promotion, avg +50% against the '
        "counterfactual; dip -10% for 4 weeks; Iced Tea +50%.</span>"
    )
    assert _suggestion(client, sku="TEA-PEA-05", discount="20") == (
        '<strong>+50.0%</strong> <span class="muted">No past promotions of TEA-PEA-05; '
        "Iced Tea averaged +50% over 1 promotion against the counterfactual; "
        "dip -10% for 4 weeks.</span>"
    )
    # The promotion being edited is not evidence for itself.
    assert _suggestion(client, sku="TEA-LEM-05", discount="20", promotion=str(history.pk)) == (
        '<span class="muted">No finished promotions in this product line yet: '
        "enter your own estimate.</span>"
    )


@pytest.mark.parametrize("discount", ["", "lots", "nan", "inf", "-1e400"])
def test_a_nonsense_discount_still_gives_a_sane_suggestion(
    client, sales_user, catalogue, history, discount
):
    client.force_login(sales_user)

    html = _suggestion(client, sku="TEA-LEM-05", discount=discount)

    assert html.startswith("<strong>+50.0%</strong>")


def test_the_suggestion_for_an_unknown_sku_says_so(client, sales_user, catalogue):
    client.force_login(sales_user)

    assert _suggestion(client, sku=" nope-1 ") == '<span class="muted">No product NOPE-1.</span>'
    assert _suggestion(client) == ""


def test_signed_out_visitors_get_no_suggestion(client, catalogue):
    response = client.get(reverse("lift_suggestion"), {"sku": "TEA-LEM-05"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# ------------------------------------------------------------------ detail


def test_the_detail_page_shows_the_promotion_and_marketings_actions(
    client, marketing_user, catalogue
):
    draft = promotion_with(
        [catalogue["lemon"]], name="Autumn", notes="Shelf ends\nin Coop", discount_pct="15.5"
    )
    PromotionItem.objects.filter(promotion=draft).update(
        suggested_lift_pct=Decimal("22.4"), suggestion_evidence="2 past promotions"
    )
    promotion_with([catalogue["lemon"]], name="Overlapping", status="planned")
    client.force_login(marketing_user)

    response = client.get(reverse("promotion_detail", args=[draft.pk]))

    html = squash(response.content.decode())
    assert response.status_code == 200
    assert f"<dt>Weeks</dt><dd>{iso_label(week(2))} – {iso_label(week(4))} (3 weeks)</dd>" in html
    assert "<dt>Discount</dt><dd>15.5%</dd>" in html
    assert "<dt>Notes</dt><dd>Shelf ends<br>in Coop</dd>" in html
    assert (
        '<td class="num">+30.0%</td><td>+22.4% — <span class="muted">2 past promotions</span></td>'
    ) in html
    assert [label for _, label, _ in response.context["status_actions"]] == [
        "Plan it",
        "Confirm",
        "Cancel",
    ]
    assert f'href="{reverse("promotion_edit", args=[draft.pk])}">Edit</a>' in html
    assert (
        f"Overlaps “Overlapping” (planned) on TEA-LEM-05 in {iso_label(week(2))} – "
        f"{iso_label(week(4))}."
    ) in html
    assert "A draft is not planned for." in html


def test_readers_see_no_actions_and_ended_promotions_offer_none(
    client, sales_user, marketing_user, catalogue
):
    current = promotion_with([catalogue["lemon"]], name="Autumn", status="planned")
    ended = promotion_with(
        [catalogue["lemon"]], name="Old", status="planned", start_week=week(-5), end_week=week(-4)
    )
    client.force_login(sales_user)
    html = client.get(reverse("promotion_detail", args=[current.pk])).content.decode()
    assert reverse("promotion_status", args=[current.pk]) not in html
    assert reverse("promotion_edit", args=[current.pk]) not in html
    assert "No recompute recorded for this promotion yet." in html
    client.force_login(marketing_user)
    response = client.get(reverse("promotion_detail", args=[ended.pk]))
    html = response.content.decode()
    assert response.context["ended"] is True
    assert reverse("promotion_status", args=[ended.pk]) not in html
    assert reverse("promotion_edit", args=[ended.pk]) not in html


def test_an_unknown_promotion_is_a_404(client, marketing_user):
    client.force_login(marketing_user)

    for name in ("promotion_detail", "promotion_progress", "promotion_edit"):
        assert client.get(reverse(name, args=[999999])).status_code == 404
