"""Forecast pages: the overview with its filters and htmx partial, one product's forecast
(chart and the table that is its text alternative), marketing's adjustment form, and
the accuracy page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from coordination.models import ActivityEvent, RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import MarketingAdjustment
from tests.factories import (
    DemandForecastFactory,
    ForecastFitFactory,
    MarketingAdjustmentFactory,
    ProductFactory,
    ProductLineFactory,
    PromotionFactory,
    PromotionItemFactory,
    SalesActualFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ALL_ROLES = ["marketing_user", "sales_user", "production_user", "quality_user", "admin_user"]


def week(k: int):
    return add_weeks(current_week(), k)


def squash(html: str) -> str:
    """The HTML with the whitespace between tags removed, for exact row assertions."""
    return re.sub(r">\s*\n\s*<", "><", html)


@pytest.fixture
def catalogue():
    teas = ProductLineFactory(name="Iced Tea")
    juices = ProductLineFactory(name="Juice")
    lemon = ProductFactory(sku="TEA-LEM-05", name="Lemon tea", product_line=teas)
    peach = ProductFactory(sku="TEA-PEA-05", name="Peach tea", product_line=teas)
    orange = ProductFactory(sku="JCE-ORA-10", name="Orange juice", product_line=juices)
    ProductFactory(sku="TEA-OLD-01", product_line=teas, lifecycle="discontinued")
    return {"teas": teas, "juices": juices, "lemon": lemon, "peach": peach, "orange": orange}


@pytest.fixture
def forecasts(catalogue):
    lemon, orange = catalogue["lemon"], catalogue["orange"]
    # This week and the next: counted in a 13-week view. Week 13 only in a 26-week view;
    # last week is history and never counted.
    DemandForecastFactory(
        product=lemon, week=week(0), baseline=100, promotion_uplift=20, firm_orders=5, adjustment=10
    )
    DemandForecastFactory(product=lemon, week=week(1), baseline=110)
    DemandForecastFactory(product=lemon, week=week(13), baseline=400)
    DemandForecastFactory(product=lemon, week=week(-1), baseline=999)
    DemandForecastFactory(product=orange, week=week(2), baseline=60, adjustment=-15)
    SalesActualFactory(product=lemon, week=week(-52), units=80)
    SalesActualFactory(product=lemon, week=week(-51), units=70)
    SalesActualFactory(product=lemon, week=week(-53), units=1000)  # before the window
    summer = PromotionFactory(name="Summer", status="planned", start_week=week(1), end_week=week(2))
    PromotionItemFactory(promotion=summer, product=lemon)
    draft = PromotionFactory(name="Idea", status="draft", start_week=week(1), end_week=week(2))
    PromotionItemFactory(promotion=draft, product=catalogue["peach"])
    return catalogue


# ------------------------------------------------------------------ overview


def test_the_overview_sums_the_next_13_weeks_of_each_product(client, marketing_user, forecasts):
    client.force_login(marketing_user)

    response = client.get(reverse("forecast_list"))

    html = squash(response.content.decode())
    assert response.status_code == 200
    assert response.context["weeks"] == 13
    # By product line, then SKU; the discontinued product is not forecast.
    assert [row["product"].sku for row in response.context["rows"]] == [
        "TEA-LEM-05",
        "TEA-PEA-05",
        "JCE-ORA-10",
    ]
    assert (
        '<td class="num">210</td><td class="num">20</td><td class="num">0</td>'
        '<td class="num">0</td><td class="num">0</td>'
        '<td class="num">5</td>'
        '<td class="num">10</td><td class="num"><strong>245</strong></td>'
        '<td class="num">150</td></tr>'
    ) in html
    assert (
        '<td class="num">60</td><td class="num">0</td><td class="num">0</td><td class="num">0</td>'
        '<td class="num">0</td><td class="num">0</td>'
        '<td class="num">-15</td><td class="num"><strong>45</strong></td>'
        '<td class="num">—</td></tr>'
    ) in html
    assert '<td colspan="8" class="muted">Not forecast yet</td><td class="num">—</td>' in html
    # Only the planned promotion counts; the peach draft does not.
    assert html.count('<span class="badge badge-info">Promotion</span>') == 1
    assert 'Lemon tea <span class="badge badge-info">Promotion</span>' in html
    assert "TEA-OLD-01" not in html
    assert "Units forecast for the next 13 weeks" in html


def test_the_overview_filters_by_line_and_horizon(client, sales_user, forecasts):
    client.force_login(sales_user)

    response = client.get(reverse("forecast_list"), {"line": forecasts["teas"].pk, "weeks": "26"})

    rows = response.context["rows"]
    assert [row["product"].sku for row in rows] == ["TEA-LEM-05", "TEA-PEA-05"]
    assert rows[0]["totals"]["final"] == 645.0  # 135 + 110 + 400
    assert rows[1]["totals"] is None
    assert "Units forecast for the next 26 weeks" in response.content.decode()


def test_an_invalid_filter_falls_back_to_every_line_and_13_weeks(client, sales_user, forecasts):
    client.force_login(sales_user)

    response = client.get(reverse("forecast_list"), {"line": "999999", "weeks": "7"})

    assert response.status_code == 200
    assert response.context["weeks"] == 13
    assert len(response.context["rows"]) == 3
    assert set(response.context["form"].errors) == {"line", "weeks"}


def test_htmx_gets_the_results_alone(client, production_user, forecasts):
    client.force_login(production_user)

    response = client.get(reverse("forecast_list"), {"line": forecasts["juices"].pk}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results">')
    assert "<h1>" not in html
    assert "JCE-ORA-10" in html
    assert "TEA-LEM-05" not in html


def test_the_overview_pages_by_50_with_the_filters_kept(client, quality_user):
    line = ProductLineFactory(name="Water")
    for k in range(53):
        ProductFactory(sku=f"SPW-{k:03d}-33", product_line=line)
    client.force_login(quality_user)

    first = client.get(reverse("forecast_list"), {"line": line.pk, "weeks": "8"})
    second = client.get(reverse("forecast_list"), {"line": line.pk, "weeks": "8", "page": "2"})

    assert [row["product"].sku for row in first.context["rows"]] == [
        f"SPW-{k:03d}-33" for k in range(50)
    ]
    assert [row["product"].sku for row in second.context["rows"]] == [
        "SPW-050-33",
        "SPW-051-33",
        "SPW-052-33",
    ]
    html = first.content.decode()
    assert "Page 1 of 2 · 53 in all" in html
    assert f'href="?line={line.pk}&amp;weeks=8&amp;page=2"' in html


def test_the_overview_says_when_there_is_nothing_to_forecast(client, quality_user):
    client.force_login(quality_user)

    html = client.get(reverse("forecast_list")).content.decode()

    assert '<p class="card empty">No products to forecast.</p>' in html


@pytest.mark.parametrize("user", ALL_ROLES)
def test_every_role_reads_the_forecast_pages(client, request, user, forecasts):
    client.force_login(request.getfixturevalue(user))

    for url in (
        reverse("forecast_list"),
        reverse("forecast_accuracy"),
        reverse("forecast_detail", args=["TEA-LEM-05"]),
    ):
        assert client.get(url).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, forecasts):
    response = client.get(reverse("forecast_detail", args=["TEA-LEM-05"]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# ------------------------------------------------------------------ one product


def _next_weeks_table(html: str) -> str:
    start = html.index("<h2>Next weeks</h2>")
    return squash(html[start : html.index("</table>", start)])


def test_the_detail_table_shows_how_each_week_is_built(client, sales_user, forecasts):
    lemon = forecasts["lemon"]
    adjustment = MarketingAdjustmentFactory(
        product=lemon, week=week(0), units=10, reason="Trade fair"
    )
    ForecastFitFactory(product=lemon, method="ses", sigma=12.46, history_weeks=52)
    client.force_login(sales_user)

    response = client.get(reverse("forecast_detail", args=["TEA-LEM-05"]))

    html = response.content.decode()
    table = _next_weeks_table(html)
    assert response.status_code == 200
    assert table.count('<th scope="row">') == 26  # this week and 25 more
    assert (
        f'<th scope="row">{iso_label(week(0))}</th><td class="num">100</td>'
        '<td class="num">—</td><td class="num">—</td>'
        '<td class="num">+20</td><td class="num">—</td><td class="num">—</td><td class="num">—</td>'
        '<td class="num">+5</td><td class="num">10</td>'
        '<td class="num"><strong>135</strong></td>'
        f'<td><span title="by {adjustment.created_by}">Trade fair</span></td></tr>'
    ) in table
    assert (
        f'<th scope="row">{iso_label(week(1))}</th><td class="num">110</td>'
        '<td class="num">—</td><td class="num">—</td>'
        '<td class="num">—</td><td class="num">—</td><td class="num">—</td><td class="num">—</td>'
        '<td class="num">—</td><td class="num">—</td>'
        '<td class="num"><strong>110</strong></td><td>Summer</td></tr>'
    ) in table
    assert (
        f'<th scope="row">{iso_label(week(2))}</th><td colspan="10" class="muted">—</td>'
        "<td>Summer</td></tr>"
    ) in table
    # The history table: last week's sale is missing, its forecast then was 999.
    assert (
        f'<tr><th scope="row">{iso_label(week(-1))}</th><td class="num">—</td>'
        '<td class="num">999</td><td></td></tr>'
    ) in squash(html)
    assert "Method: <strong>" in html
    assert "one-week error σ = 12.5 units · 52 weeks of history" in html
    assert "Promotions in view" in html


def test_the_chart_draws_actuals_forecasts_and_promotion_starts(client, sales_user, forecasts):
    client.force_login(sales_user)

    chart = client.get(reverse("forecast_detail", args=["TEA-LEM-05"])).context["chart"]

    assert chart["title"] == "TEA-LEM-05: weekly units sold and forecast"
    assert [item["label"] for item in chart["legend"]] == [
        "Actual units",
        "Forecast as it was (past weeks)",
        "Baseline",
        "Final forecast",
    ]
    by_label = {line["label"]: line for line in chart["lines"]}
    # Two actuals in the window (52 and 51 weeks ago); one past forecast; future points.
    assert len(by_label["Actual units"]["dots"]) == 2
    assert len(by_label["Forecast as it was (past weeks)"]["dots"]) == 1
    assert [d["title"] for d in by_label["Final forecast"]["dots"]] == [
        "Final forecast: 135",
        "Final forecast: 110",
        "Final forecast: 400",
    ]
    assert [m["label"] for m in chart["markers"]] == ["Summer starts"]


def test_a_product_never_forecast_says_so(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    response = client.get(reverse("forecast_detail", args=["TEA-PEA-05"]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Not forecast yet. Forecasts are computed when" in html
    assert _next_weeks_table(html).count('<td colspan="10" class="muted">—</td>') == 26
    assert "Promotions in view" not in html


def test_only_roles_that_adjust_see_the_adjustment_form(
    client, marketing_user, sales_user, catalogue
):
    url = reverse("forecast_detail", args=["TEA-LEM-05"])
    client.force_login(marketing_user)
    assert "<h2>Adjust a week</h2>" in client.get(url).content.decode()
    client.force_login(sales_user)
    html = client.get(url).content.decode()
    assert "<h2>Adjust a week</h2>" not in html
    assert reverse("forecast_adjust", args=["TEA-LEM-05"]) not in html


def test_an_unknown_sku_is_a_404(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    assert client.get(reverse("forecast_detail", args=["NOPE-1"])).status_code == 404
    assert (
        client.post(
            reverse("forecast_adjust", args=["NOPE-1"]),
            {"week": iso_label(week(2)), "units": "5", "reason": "x"},
        ).status_code
        == 404
    )
    assert MarketingAdjustment.objects.count() == 0


# ------------------------------------------------------------------ adjustments


SEEN = re.compile(r'<input type="hidden" name="seen"(?: value="([^"]*)")?')


def _seen_on_the_page(client, sku="TEA-LEM-05") -> str:
    """What the adjustment form carries now ("" without adjustments or without a form)."""
    match = SEEN.search(client.get(reverse("forecast_detail", args=[sku])).content.decode())
    return (match.group(1) or "") if match else ""


def _adjust(client, sku="TEA-LEM-05", **data):
    """Posts the adjustment form as the page renders it now (with what it shows)."""
    if "seen" not in data and sku != "NOPE-1":
        data["seen"] = _seen_on_the_page(client, sku)
    return client.post(reverse("forecast_adjust", args=[sku]), data)


def test_an_adjustment_over_someone_elses_change_of_that_week_is_refused(
    client, marketing_user, catalogue
):
    client.force_login(marketing_user)
    html = client.get(reverse("forecast_detail", args=["TEA-LEM-05"])).content.decode()
    assert SEEN.search(html).group(1) is None  # no adjustments yet
    seen = ""
    # Meanwhile a colleague adjusts the same week.
    theirs = MarketingAdjustmentFactory(product=catalogue["lemon"], week=week(3), units=70)

    response = _adjust(client, week=iso_label(week(3)), units="250", reason="Listing", seen=seen)

    assert response.status_code == 200
    assert "was changed by someone else while you were editing it" in response.content.decode()
    theirs.refresh_from_db()
    assert (theirs.units, theirs.version, MarketingAdjustment.objects.count()) == (70, 1, 1)
    assert RecomputeRequest.objects.count() == 0
    # The form now carries what is there: saving again applies over it.
    again = response.content.decode()
    fresh = SEEN.search(again).group(1)
    assert fresh == f"{week(3).isoformat()}:1"
    retry = _adjust(client, week=iso_label(week(3)), units="250", reason="Listing", seen=fresh)
    assert retry.status_code == 302
    theirs.refresh_from_db()
    assert (theirs.units, theirs.version) == (250, 2)


def test_an_adjustment_removed_meanwhile_is_not_silently_recreated(
    client, marketing_user, catalogue
):
    theirs = MarketingAdjustmentFactory(product=catalogue["lemon"], week=week(3), units=70)
    client.force_login(marketing_user)
    seen = _seen_on_the_page(client)
    theirs.delete()

    response = _adjust(client, week=iso_label(week(3)), units="90", reason="Listing", seen=seen)

    assert response.status_code == 200
    assert (
        f"The adjustment of {iso_label(week(3))} was removed by someone else"
        in response.content.decode()
    )
    assert MarketingAdjustment.objects.count() == 0


def test_another_weeks_change_does_not_block_an_adjustment(client, marketing_user, catalogue):
    client.force_login(marketing_user)
    seen = _seen_on_the_page(client)
    MarketingAdjustmentFactory(product=catalogue["lemon"], week=week(5), units=70)

    response = _adjust(client, week=iso_label(week(3)), units="250", reason="Listing", seen=seen)

    assert response.status_code == 302
    assert MarketingAdjustment.objects.get(week=week(3)).units == 250


@pytest.mark.parametrize("seen", [None, "garbage:x"])
def test_a_form_without_what_its_editor_saw_is_refused(client, marketing_user, catalogue, seen):
    client.force_login(marketing_user)
    data = {"week": iso_label(week(3)), "units": "250", "reason": "Listing"}
    if seen is not None:
        data["seen"] = seen

    response = client.post(reverse("forecast_adjust", args=["TEA-LEM-05"]), data)

    assert response.status_code == 200
    assert "The form did not say what you saw. Reload the page and try again." in (
        response.content.decode()
    )
    assert MarketingAdjustment.objects.count() == 0


def test_an_adjustment_is_saved_and_asks_for_a_recompute(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    response = _adjust(client, week=iso_label(week(3)), units="250", reason=" Listing at Coop ")

    assert response.status_code == 302
    assert response["Location"] == reverse("forecast_detail", args=["TEA-LEM-05"])
    adjustment = MarketingAdjustment.objects.get()
    assert (adjustment.product, adjustment.week, adjustment.units, adjustment.reason) == (
        catalogue["lemon"],
        week(3),
        250,
        "Listing at Coop",
    )
    assert adjustment.created_by == marketing_user
    recompute = RecomputeRequest.objects.get()
    assert recompute.source == "adjustment"
    assert recompute.product_ids == [catalogue["lemon"].pk]
    assert recompute.reason == f"Forecast adjustment of TEA-LEM-05 in {iso_label(week(3))}"
    page = client.get(response["Location"]).content.decode()
    assert (
        "Adjustment saved. The forecast and production plan of TEA-LEM-05 are being recomputed."
        in page
    )


def test_a_second_adjustment_of_the_week_replaces_the_first(client, marketing_user, catalogue):
    existing = MarketingAdjustmentFactory(product=catalogue["lemon"], week=week(3), units=50)
    client.force_login(marketing_user)

    response = _adjust(client, week=iso_label(week(3)), units="-40", reason="Competitor promo")

    assert response.status_code == 302
    existing.refresh_from_db()
    assert (existing.units, existing.reason, existing.version) == (-40, "Competitor promo", 2)
    assert MarketingAdjustment.objects.count() == 1


def test_zero_units_removes_the_adjustment(client, admin_user, catalogue):
    MarketingAdjustmentFactory(product=catalogue["lemon"], week=week(3), units=50)
    client.force_login(admin_user)

    response = _adjust(client, week=iso_label(week(3)), units="0", reason="")

    assert response.status_code == 302
    assert MarketingAdjustment.objects.count() == 0
    assert RecomputeRequest.objects.count() == 1
    assert ActivityEvent.objects.get().message == f"Removed the adjustment of {iso_label(week(3))}."
    page = client.get(response["Location"]).content.decode()
    assert f"Adjustment of {iso_label(week(3))} removed." in page


def test_zero_units_on_a_week_without_adjustment_changes_nothing_and_says_so(
    client, marketing_user, catalogue
):
    client.force_login(marketing_user)

    response = _adjust(client, week=iso_label(week(3)), units="0", reason="")

    assert response.status_code == 302
    assert (MarketingAdjustment.objects.count(), RecomputeRequest.objects.count()) == (0, 0)
    page = client.get(response["Location"]).content.decode()
    assert f"{iso_label(week(3))} had no adjustment: nothing changed." in page
    assert "being recomputed" not in page


def _field_errors(html: str, field: str) -> list[str]:
    """The error messages shown at `field` (templates/django/forms/field.html)."""
    return re.findall(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', html)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"units": "250", "reason": ""},
            "reason",
            "Say why: what marketing knows that the statistics do not.",
        ),
        ({"week": "next week", "units": "250", "reason": "x"}, "week", None),
        ({"units": "many", "reason": "Fair"}, "units", "Enter a whole number."),
        ({"units": "", "reason": "Fair"}, "units", "This field is required."),
        (
            {"units": "20000000", "reason": "Fair"},
            "units",
            "An adjustment is at most ±10,000,000 units.",
        ),
        (
            {"week": "PAST", "units": "250", "reason": "Fair"},
            "week",
            "PAST has started: adjust this week or a later one.",
        ),
    ],
)
def test_an_invalid_adjustment_shows_the_message_at_the_field_and_keeps_the_input(
    client, marketing_user, catalogue, data, field, message
):
    past = iso_label(week(-1))
    data = {"week": iso_label(week(3)), **data}
    if data["week"] == "PAST":
        data["week"] = past
        message = message.replace("PAST", past)
    if message is None:
        message = "Enter a week as 2026-W48 or a date as 2026-11-23; got &#x27;next week&#x27;."
    client.force_login(marketing_user)

    response = _adjust(client, **data)

    html = response.content.decode()
    assert response.status_code == 200
    assert _field_errors(html, field) == [message]
    # What was typed is still in the form.
    assert f'name="week" value="{data["week"]}"' in html
    if data["units"]:
        assert f'name="units" value="{data["units"]}"' in html
    assert MarketingAdjustment.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0
    assert ActivityEvent.objects.count() == 0


@pytest.mark.parametrize("user", ["sales_user", "production_user", "quality_user"])
def test_only_marketing_and_admins_may_adjust(client, request, user, catalogue):
    MarketingAdjustmentFactory(product=catalogue["lemon"], week=week(3), units=50)
    client.force_login(request.getfixturevalue(user))

    response = _adjust(client, week=iso_label(week(3)), units="0", reason="")

    assert response.status_code == 403
    assert MarketingAdjustment.objects.get().units == 50
    assert RecomputeRequest.objects.count() == 0


def test_adjusting_takes_a_post(client, marketing_user, catalogue):
    client.force_login(marketing_user)

    assert client.get(reverse("forecast_adjust", args=["TEA-LEM-05"])).status_code == 405


# ------------------------------------------------------------------ accuracy


@pytest.fixture
def accuracy_world(catalogue):
    lemon, orange = catalogue["lemon"], catalogue["orange"]
    DemandForecastFactory(product=lemon, week=week(-2), baseline=100)
    DemandForecastFactory(product=lemon, week=week(-1), baseline=90, adjustment=10)
    SalesActualFactory(product=lemon, week=week(-2), units=80)
    SalesActualFactory(product=lemon, week=week(-1), units=120)
    DemandForecastFactory(product=orange, week=week(-1), baseline=50)
    SalesActualFactory(product=orange, week=week(-1), units=100)
    # A forecast without its actual does not count.
    DemandForecastFactory(product=orange, week=week(-3), baseline=50)
    return catalogue


def test_accuracy_per_line_and_product_worst_first(client, sales_user, accuracy_world):
    client.force_login(sales_user)

    response = client.get(reverse("forecast_accuracy"))

    html = squash(response.content.decode())
    assert response.status_code == 200
    # Lemon: |80-100| + |120-100| = 40 on 200 sold: 20 %; without the adjustment the
    # second week was 90 (|120-90| = 30), 25 %: the adjustment saved 5 points.
    assert (
        f'<a href="{reverse("forecast_detail", args=["TEA-LEM-05"])}">TEA-LEM-05</a> '
        '<span class="muted">Lemon tea</span></th><td class="num">2</td>'
        '<td class="num">200</td><td class="num">20%</td><td class="num">0%</td>'
        '<td class="num">—</td><td class="num">+5 pts <span class="muted">(1 adj.)</span></td>'
    ) in html
    # Orange: 50 forecast against 100 sold: 50 % off, 50 % under.
    assert (
        '<span class="muted">Orange juice</span></th><td class="num">1</td>'
        '<td class="num">100</td><td class="num">50%</td><td class="num">-50%</td>'
        '<td class="num">—</td><td class="num">0 pts</td>'
    ) in html
    assert html.index("JCE-ORA-10") < html.index("TEA-LEM-05")  # worst first
    assert [a.key for a in response.context["data"]["lines"]] == ["Iced Tea", "Juice"]


def test_accuracy_filters_by_line(client, sales_user, accuracy_world):
    client.force_login(sales_user)

    response = client.get(
        reverse("forecast_accuracy"), {"line": accuracy_world["juices"].pk, "weeks": "26"}
    )

    data = response.context["data"]
    assert response.context["weeks"] == 26
    assert [a.key for a in data["products"]] == ["JCE-ORA-10"]
    assert [a.key for a in data["lines"]] == ["Juice"]
    assert data["start"] == week(-26)


def test_accuracy_without_actuals_explains_why_it_is_empty(client, sales_user, forecasts):
    client.force_login(sales_user)

    html = client.get(reverse("forecast_accuracy")).content.decode()

    assert "No week has both a forecast and actual sales yet." in html
    assert "By product line" not in html
