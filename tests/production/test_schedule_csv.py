"""REST: the schedule as CSV — the same rows and columns as the JSON, same paging."""

from __future__ import annotations

import csv
import io

import pytest

from production.models import ScheduleEntry
from production.renderers import csv_cell
from tests.factories import ProductFactory, ScheduleEntryFactory
from tests.production.test_api_quotas import api, week
from tests.production.test_api_schedules import walk

pytestmark = pytest.mark.django_db

SCHEDULES = "/api/v1/schedules/"
COLUMNS = [
    "id",
    "product",
    "line",
    "week",
    "week_start",
    "units",
    "kind",
    "reason",
    "recommended_units",
    "revision",
    "accepted_by",
    "accepted_at",
    "superseded",
    "superseded_by",
    "superseded_at",
]


def parse(response) -> tuple[list[str], list[dict]]:
    reader = csv.reader(io.StringIO(response.content.decode("utf-8")))
    header, *rows = list(reader)
    return header, [dict(zip(header, row, strict=True)) for row in rows]


def as_csv(rows: list[dict]) -> list[dict]:
    return [{key: csv_cell(value) for key, value in row.items()} for row in rows]


def next_link(response) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    url, rel = link.split(";")
    assert rel.strip() == 'rel="next"'
    return url.strip().removeprefix("<").removesuffix(">")


@pytest.fixture
def entries():
    made = [
        ScheduleEntryFactory(product=ProductFactory(), week=week(offset % 3)) for offset in range(5)
    ]
    # One superseded by a later override, so changed_since shows both kinds of row.
    superseded = ScheduleEntry.objects.filter(pk=made[0].pk)
    superseded.update(superseded_at=made[0].accepted_at, superseded_in=made[0].revision)
    replacement = ScheduleEntryFactory(
        product=made[0].product,
        week=made[0].week,
        units=777,
        kind="overridden",
        reason="Plant, say",
    )
    superseded.update(
        superseded_by=replacement,
        superseded_at=replacement.accepted_at,
        superseded_in=replacement.revision,
    )
    return [*made, replacement]


@pytest.mark.parametrize("how", ["format", "accept"])
def test_csv_equals_the_json_results_row_for_row(marketing_user, entries, how):
    client = api(marketing_user)
    json_body = client.get(SCHEDULES).json()
    if how == "format":
        response = client.get(f"{SCHEDULES}?format=csv")
    else:
        response = client.get(SCHEDULES, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, rows = parse(response)
    assert header == COLUMNS
    assert len(rows) == 5  # current entries only: the superseded one is not in a full pull
    assert rows == as_csv(json_body["results"])
    assert response["X-Schedule-Version"] == str(json_body["schedule_version"])


def test_csv_changed_since_and_filters_match_json(marketing_user, entries):
    client = api(marketing_user)
    since = entries[1].revision_id
    query = f"changed_since={since}"
    json_rows = client.get(f"{SCHEDULES}?{query}").json()["results"]
    _, rows = parse(client.get(f"{SCHEDULES}?{query}&format=csv"))
    assert [row["id"] for row in rows] == [str(e.pk) for e in entries[0:1] + entries[2:]]
    assert rows == as_csv(json_rows)
    superseded = next(row for row in rows if row["id"] == str(entries[0].pk))
    assert superseded["superseded"] == "true"
    assert superseded["superseded_by"] == str(entries[-1].pk)
    sku = entries[2].product.sku
    _, rows = parse(client.get(f"{SCHEDULES}?product={sku}&format=csv"))
    assert [row["id"] for row in rows] == [str(entries[2].pk)]


def test_csv_pages_follow_the_link_header_like_json_follows_next(marketing_user, entries):
    client = api(marketing_user)
    json_rows = [
        row for page in walk(client, f"{SCHEDULES}?page_size=2") for row in page["results"]
    ]
    csv_rows, pages, url = [], 0, f"{SCHEDULES}?page_size=2&format=csv"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        header, rows = parse(response)
        assert header == COLUMNS
        csv_rows.extend(rows)
        pages += 1
        url = next_link(response)
    assert pages == 3
    assert csv_rows == as_csv(json_rows)
    assert len(csv_rows) == 5


def test_an_empty_schedule_is_a_header_only_csv(marketing_user):
    response = api(marketing_user).get(f"{SCHEDULES}?format=csv")
    assert response.status_code == 200
    assert response.content.decode() == ",".join(COLUMNS) + "\r\n"
    assert "Link" not in response


def test_csv_and_json_have_different_etags_and_each_gives_304(marketing_user, entries):
    client = api(marketing_user)
    as_json = client.get(SCHEDULES)
    as_csv_response = client.get(SCHEDULES, HTTP_ACCEPT="text/csv")
    assert as_json["ETag"] != as_csv_response["ETag"]
    assert "Accept" in as_csv_response["Vary"]
    again = client.get(
        SCHEDULES, HTTP_ACCEPT="text/csv", HTTP_IF_NONE_MATCH=as_csv_response["ETag"]
    )
    assert again.status_code == 304
    assert again.content == b""
    # The JSON ETag does not validate a CSV representation.
    other = client.get(SCHEDULES, HTTP_ACCEPT="text/csv", HTTP_IF_NONE_MATCH=as_json["ETag"])
    assert other.status_code == 200
    assert other["Content-Type"] == "text/csv; charset=utf-8"


def test_errors_stay_json_when_csv_was_asked(marketing_user, make_user):
    response = api(marketing_user).get(f"{SCHEDULES}?format=csv&changed_since=-1")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert list(body["error"]["fields"]) == ["changed_since"]
    anonymous = api().get(SCHEDULES, HTTP_ACCEPT="text/csv")
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }


def test_text_a_spreadsheet_would_run_is_quoted_but_numbers_are_not(marketing_user):
    entry = ScheduleEntryFactory(reason='=HYPERLINK("http://x")')
    _, rows = parse(api(marketing_user).get(f"{SCHEDULES}?format=csv"))
    assert rows[0]["reason"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["units"] == str(entry.units)
    assert csv_cell("-5") == "-5"
    assert csv_cell("-x") == "'-x"
    assert csv_cell(None) == ""
    assert csv_cell(False) == "false"
