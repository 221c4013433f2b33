"""REST: the accepted schedule — full and incremental pulls, cursors, ETags."""

from __future__ import annotations

from base64 import b64encode

import pytest

from coordination import roles
from production.models import ScheduleEntry, ScheduleRevision
from production.services import schedule as services
from tests.factories import (
    LineFactory,
    ProductFactory,
    QuotaRecommendationFactory,
    ScheduleEntryFactory,
)
from tests.production.seen import seen_cell, seen_schedule
from tests.production.test_api_quotas import (
    ACCEPT,
    OVERRIDE,
    api,
    expected_entry,
    label,
    seen,
    week,
)

pytestmark = pytest.mark.django_db

SCHEDULES = "/api/v1/schedules/"


@pytest.fixture
def plan():
    """Two lines, three products, recommendations for weeks 1-3 (10, 20, 30 units + k)."""
    bottling, canning = LineFactory(name="Bottling 1"), LineFactory(name="Canning")
    products = [
        ProductFactory(sku="BEV-1001", production_line=bottling),
        ProductFactory(sku="BEV-1002", production_line=bottling),
        ProductFactory(sku="CAN-2001", production_line=canning),
    ]
    for k, product in enumerate(products):
        for offset in (1, 2, 3):
            QuotaRecommendationFactory(product=product, week=week(offset), baseline=10 * offset + k)
    return products


def accept(user, sku, offset):
    response = api(user).post(
        ACCEPT, {"product": sku, "week": label(offset), **seen(sku, offset)}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def override(user, sku, offset, units):
    body = {
        "product": sku,
        "week": label(offset),
        "units": units,
        "reason": "Plant says so",
        **seen(sku, offset),
    }
    response = api(user).post(OVERRIDE, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def walk(client, url):
    """Follow `next` to the end; return the bodies of every page."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        pages.append(response.json())
        url = pages[-1]["next"]
    return pages


def results(pages) -> list[dict]:
    return [item for page in pages for item in page["results"]]


def current_entries() -> list[dict]:
    return [
        expected_entry(e)
        for e in ScheduleEntry.objects.filter(superseded_at__isnull=True).order_by("id")
    ]


# --- full pull -------------------------------------------------------------------------


def test_full_pull_is_the_current_schedule_by_id(marketing_user, production_user, plan):
    first = accept(production_user, "BEV-1001", 1)
    accept(production_user, "CAN-2001", 2)
    accept(production_user, "BEV-1001", 1)  # supersedes the first
    override(production_user, "BEV-1002", 3, 7)
    response = api(marketing_user).get(SCHEDULES)
    assert response.status_code == 200
    body = response.json()
    version = ScheduleRevision.objects.latest("id").pk
    assert body == {
        "schedule_version": version,
        "next": None,
        "previous": None,
        "results": current_entries(),
    }
    assert [(r["product"], r["week"], r["units"], r["kind"]) for r in body["results"]] == [
        ("CAN-2001", label(2), 22, "accepted"),
        ("BEV-1001", label(1), 10, "accepted"),
        ("BEV-1002", label(3), 7, "overridden"),
    ]
    assert first["id"] not in [r["id"] for r in body["results"]]
    assert response["X-Schedule-Version"] == str(version)


def test_full_pull_filters(marketing_user, production_user, plan):
    for sku in ("BEV-1001", "BEV-1002", "CAN-2001"):
        for offset in (1, 2, 3):
            accept(production_user, sku, offset)
    client = api(marketing_user)

    def cells(query):
        response = client.get(SCHEDULES + query)
        assert response.status_code == 200, response.json()
        return [(r["product"], r["week"]) for r in response.json()["results"]]

    assert cells("?line=Canning") == [("CAN-2001", label(o)) for o in (1, 2, 3)]
    assert cells(f"?line={plan[0].production_line_id}&from={label(3)}") == [
        ("BEV-1001", label(3)),
        ("BEV-1002", label(3)),
    ]
    assert cells(f"?product=BEV-1002&to={label(2)}") == [
        ("BEV-1002", label(1)),
        ("BEV-1002", label(2)),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?changed_since=abc", "changed_since"),
        ("?changed_since=-1", "changed_since"),
        ("?changed_since=1.5", "changed_since"),
        (f"?changed_since={10**30}", "changed_since"),
        ("?line=Nowhere", "line"),
        ("?product=NOPE", "product"),
        ("?from=W48", "from"),
    ],
)
def test_bad_parameters_are_400(marketing_user, query, field):
    response = api(marketing_user).get(SCHEDULES + query)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert "ETag" not in response.headers


# --- ETag, If-None-Match, version ------------------------------------------------------


def test_etag_304_and_a_new_etag_and_version_after_an_accept(marketing_user, production_user, plan):
    accept(production_user, "BEV-1001", 1)
    v1 = ScheduleRevision.objects.get().pk
    client = api(marketing_user)
    first = client.get(SCHEDULES)
    etag = first["ETag"]
    assert etag.startswith(f'W/"{v1}-') and etag.endswith('"')
    assert first["X-Schedule-Version"] == str(v1)
    assert first["Cache-Control"] == "private, no-cache"

    for header in (etag, etag.removeprefix("W/"), f'"other", {etag}', "*"):
        cached = client.get(SCHEDULES, HTTP_IF_NONE_MATCH=header)
        assert cached.status_code == 304
        assert cached.content == b""
        assert cached["ETag"] == etag
        assert cached["X-Schedule-Version"] == str(v1)
    assert client.get(SCHEDULES, HTTP_IF_NONE_MATCH='W/"nope"').status_code == 200
    # Another query (or another caller) is another representation.
    assert client.get(SCHEDULES + "?line=Canning")["ETag"] != etag
    assert api(production_user).get(SCHEDULES)["ETag"] != etag

    accept(production_user, "BEV-1002", 2)
    after = client.get(SCHEDULES, HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200
    assert after["X-Schedule-Version"] == str(v1 + 1)
    assert after.json()["schedule_version"] == v1 + 1
    assert after["ETag"] != etag
    assert after["ETag"].startswith(f'W/"{v1 + 1}-')
    assert len(after.json()["results"]) == 2
    assert client.get(SCHEDULES, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_refused_writes_leave_the_version_and_etag_alone(marketing_user, production_user, plan):
    accept(production_user, "BEV-1001", 1)
    client = api(marketing_user)
    before = client.get(SCHEDULES)
    stale = {"product": "BEV-1001", "week": label(2), "units": -3, "reason": "x", **seen(offset=2)}
    assert api(production_user).post(OVERRIDE, stale, format="json").status_code == 400
    body = {"product": "BEV-1001", "week": label(2), **seen(offset=2), "seen_entry_id": ""}
    assert client.post(ACCEPT, body).status_code == 403
    cached = client.get(SCHEDULES, HTTP_IF_NONE_MATCH=before["ETag"])
    assert cached.status_code == 304
    assert cached["X-Schedule-Version"] == before["X-Schedule-Version"]


def test_an_empty_schedule_is_version_0(marketing_user):
    response = api(marketing_user).get(SCHEDULES)
    assert response.json() == {
        "schedule_version": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert response["X-Schedule-Version"] == "0"
    assert response["ETag"].startswith('W/"0-')


# --- changed_since ---------------------------------------------------------------------


def test_changed_since_returns_new_and_superseded_entries_exactly(
    marketing_user, production_user, plan
):
    a1 = accept(production_user, "BEV-1001", 1)
    b = accept(production_user, "BEV-1002", 1)
    since = b["revision"]
    a2 = accept(production_user, "BEV-1001", 1)  # supersedes a1
    c = override(production_user, "CAN-2001", 2, 5)
    c2 = accept(production_user, "CAN-2001", 2)  # created and superseded after `since`
    body = api(marketing_user).get(f"{SCHEDULES}?changed_since={since}").json()
    assert body["schedule_version"] == c2["revision"]
    got = [(r["id"], r["superseded"], r["superseded_by"], r["revision"]) for r in body["results"]]
    assert got == [
        (a1["id"], True, a2["id"], a1["revision"]),
        (a2["id"], False, None, a2["revision"]),
        (c["id"], True, c2["id"], c["revision"]),
        (c2["id"], False, None, c2["revision"]),
    ]
    entries = {e.pk: e for e in ScheduleEntry.objects.all()}
    assert body["results"] == [expected_entry(entries[r["id"]]) for r in body["results"]]
    assert b["id"] not in {r["id"] for r in body["results"]}

    assert (
        api(marketing_user).get(f"{SCHEDULES}?changed_since={c2['revision']}").json()["results"]
        == []
    )
    everything = api(marketing_user).get(f"{SCHEDULES}?changed_since=0").json()["results"]
    assert [r["id"] for r in everything] == [a1["id"], b["id"], a2["id"], c["id"], c2["id"]]
    by_line = api(marketing_user).get(f"{SCHEDULES}?changed_since={since}&line=Canning").json()
    assert [r["id"] for r in by_line["results"]] == [c["id"], c2["id"]]


def test_an_incremental_mirror_converges_over_three_rounds(marketing_user, production_user, plan):
    client = api(marketing_user)
    accept(production_user, "BEV-1001", 1)
    accept(production_user, "BEV-1002", 2)
    pages = walk(client, f"{SCHEDULES}?page_size=2")
    mirror = {r["id"]: r for r in results(pages)}
    version = pages[0]["schedule_version"]

    rounds = [
        lambda: (
            accept(production_user, "BEV-1001", 1),  # supersede
            override(production_user, "BEV-1002", 2, 99),  # supersede with an override
            accept(production_user, "CAN-2001", 3),  # new
        ),
        lambda: (
            override(production_user, "BEV-1001", 1, 0),
            override(production_user, "CAN-2001", 3, 31),
            accept(production_user, "CAN-2001", 1),
            accept(production_user, "CAN-2001", 1),  # created and superseded in one round
        ),
        lambda: (
            accept(production_user, "BEV-1002", 2),
            api(production_user).post(
                "/api/v1/quota-recommendations/accept-range/",
                {"line": "Bottling 1", "from": label(1), "to": label(3), **seen_schedule()},
                format="json",
            ),
        ),
    ]
    for change in rounds:
        change()
        pages = walk(client, f"{SCHEDULES}?changed_since={version}&page_size=2")
        assert len({page["schedule_version"] for page in pages}) == 1
        for item in results(pages):
            if item["superseded"]:
                mirror.pop(item["id"], None)
            else:
                mirror[item["id"]] = item
        version = pages[-1]["schedule_version"]
        full = results(walk(client, f"{SCHEDULES}?page_size=2"))
        assert sorted(mirror.values(), key=lambda r: r["id"]) == full == current_entries()
    assert version == ScheduleRevision.objects.latest("id").pk
    assert len(mirror) == 8  # BEV-1001 w1-3, BEV-1002 w1-3, CAN-2001 w1 and w3


def test_changes_during_a_walk_come_in_the_next_pull(marketing_user, production_user, plan):
    client = api(marketing_user)
    for offset in (1, 2, 3):
        accept(production_user, "BEV-1001", offset)
    start = ScheduleRevision.objects.latest("id").pk
    page1 = client.get(f"{SCHEDULES}?page_size=2").json()
    assert page1["schedule_version"] == start
    accept(production_user, "BEV-1001", 1)  # supersedes an entry of page 1
    page2 = client.get(page1["next"]).json()
    assert page2["schedule_version"] == start  # the walk's first version, from the cursor
    mirror = {r["id"]: r for r in page1["results"] + page2["results"]}
    assert len(mirror) == 4  # the superseded entry is still in the mirror...
    delta = client.get(f"{SCHEDULES}?changed_since={page2['schedule_version']}").json()
    for item in delta["results"]:
        if item["superseded"]:
            mirror.pop(item["id"], None)
        else:
            mirror[item["id"]] = item
    assert sorted(mirror.values(), key=lambda r: r["id"]) == current_entries()  # ...not now


# --- cursor pagination -----------------------------------------------------------------


def test_cursor_pages_walk_every_entry_once(marketing_user):
    entries = [
        ScheduleEntryFactory(product=ProductFactory(), week=week(offset % 3)) for offset in range(7)
    ]
    client = api(marketing_user)
    pages = walk(client, f"{SCHEDULES}?page_size=2")
    assert [len(page["results"]) for page in pages] == [2, 2, 2, 1]
    ids = [r["id"] for r in results(pages)]
    assert ids == sorted(e.pk for e in entries)
    assert len(set(ids)) == 7
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    assert {page["schedule_version"] for page in pages} == {entries[-1].revision_id}
    back = client.get(pages[2]["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in pages[1]["results"]]
    # Incremental pulls page the same way.
    since = entries[2].revision_id
    delta = walk(client, f"{SCHEDULES}?changed_since={since}&page_size=2")
    assert [r["id"] for r in results(delta)] == [e.pk for e in entries[3:]]
    assert [len(page["results"]) for page in delta] == [2, 2]


def test_page_size_goes_up_to_10000_and_text_means_the_default(marketing_user):
    ScheduleEntryFactory.create_batch(3)
    client = api(marketing_user)
    assert len(client.get(f"{SCHEDULES}?page_size=10000").json()["results"]) == 3
    assert len(client.get(f"{SCHEDULES}?page_size=abc").json()["results"]) == 3
    assert len(client.get(f"{SCHEDULES}?page_size=0").json()["results"]) == 3


@pytest.mark.parametrize("size", ["10001", "100000", "9" * 5000])
def test_a_page_size_over_10000_is_400_naming_it(marketing_user, size):
    ScheduleEntryFactory()
    for query in (f"?page_size={size}", f"?page_size={size}&format=csv"):
        response = api(marketing_user).get(SCHEDULES + query)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "error": {
                "code": "invalid",
                "message": "Some fields are not valid; see fields.",
                "fields": {
                    "page_size": [f"Ask for at most 10,000 rows per page; got {size[:20]}."]
                },
            }
        }
        assert "ETag" not in response.headers


def _cursor(tokens: str) -> str:
    return b64encode(tokens.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["not-base64!", _cursor("p=abc"), _cursor("p=1&v=x"), _cursor("o=-4"), "%C3%A9"],
)
def test_forged_cursors_are_404_not_500(marketing_user, cursor):
    ScheduleEntryFactory()
    response = api(marketing_user).get(f"{SCHEDULES}?cursor={cursor}")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Invalid cursor", "fields": {}}
    }


# --- who may ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [roles.MARKETING, roles.SALES, roles.PRODUCTION, roles.QUALITY, roles.ADMIN]
)
def test_every_role_reads_the_schedule(make_user, role):
    assert api(make_user(role)).get(SCHEDULES).status_code == 200


def test_the_schedule_needs_a_sign_in_and_the_permission(make_user):
    response = api().get(SCHEDULES)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "ETag" not in response.headers
    no_role = make_user()
    response = api(no_role).get(SCHEDULES)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_the_schedule_is_read_only(production_user):
    response = api(production_user).post(SCHEDULES, {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert ScheduleRevision.objects.count() == 0


def test_accept_through_the_service_is_visible_to_the_api(marketing_user, production_user, plan):
    entry = services.quota_accept(
        actor=production_user, product_id=plan[2].pk, week=week(3), **seen_cell(plan[2].pk, week(3))
    )
    body = api(marketing_user).get(SCHEDULES).json()
    assert body["results"] == [expected_entry(entry)]
    assert body["schedule_version"] == entry.revision_id


def test_a_page_costs_two_queries_however_many_entries(marketing_user, django_assert_num_queries):
    client = api(marketing_user)
    client.get(SCHEDULES)  # loads the user's permissions once
    for batch in (1, 6):
        ScheduleEntryFactory.create_batch(batch)
        with django_assert_num_queries(2):  # the version, then the page
            response = client.get(SCHEDULES)
        assert len(response.json()["results"]) == ScheduleEntry.objects.count()
        with django_assert_num_queries(1):  # a 304 reads the version only
            cached = client.get(SCHEDULES, HTTP_IF_NONE_MATCH=response["ETag"])
        assert cached.status_code == 304
