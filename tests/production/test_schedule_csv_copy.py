"""On PostgreSQL a schedule page's CSV is written by COPY (production/selectors/
schedule_csv.py): its bytes must be exactly those of the Python formatting
(production/api/schedule_rows.csv_table through CSVRenderer) for the same page, odd
values included: formula-like text that is or is not a number to Python, quotes,
commas, Unicode, floats at every notation boundary, nulls, fractional timestamps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from production.api.schedule_rows import csv_table
from production.models import ScheduleEntry
from production.renderers import CSVRenderer
from production.selectors.schedule import schedule_rows
from production.selectors.schedule_csv import CopiedRows, copy_available, copy_lines
from tests.factories import (
    LineFactory,
    ProductFactory,
    ScheduleEntryFactory,
    ScheduleRevisionFactory,
    UserFactory,
)
from tests.production.test_api_quotas import api, week
from tests.production.test_schedule_csv import next_link

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's"),
]

SCHEDULES = "/api/v1/schedules/"

# Text cells: formula-like ones Python reads as numbers (kept) and not (guarded),
# quotes, commas, a carriage return (no line feed: a page with one is not COPY's).
TEXTS = [
    "=SUM(A1:A2)",
    "+1",
    "-1.5e-3",
    "-1_000",
    "-1__0",
    "+.5",
    "-5.",
    "+inf",
    "-Infinity",
    "-nan",
    "-nanx",
    "\t 7 ",
    "\t7x",
    "\rabc",
    "@home",
    "-",
    "+",
    "- 5",
    "-0x10",
    "-1e5_0",
    '"quoted", and, commas',
    "a\rb",
    "naïve Ünïcode ✓ 漢字",
    "plain",
    "",
]
FLOATS = [
    0.0,
    12.75,
    1200.0,
    1e-05,
    0.0001,
    1.5e-07,
    999999999999999.9,
    1e15,
    -1e15,
    1234567890123456.7,
    -1.2345678901234567e15,
    1e16,
    1.2345678901234567e19,
    1e300,
    -2.5e-300,
    123456789012345.6,
    float("inf"),
    float("-inf"),
    float("nan"),
]


@pytest.fixture
def odd_entries():
    made = []
    revision = ScheduleRevisionFactory()
    for k, number in enumerate(FLOATS):
        text = TEXTS[k % len(TEXTS)]
        made.append(
            ScheduleEntryFactory(
                product=ProductFactory(sku=f"{TEXTS[(k + 1) % len(TEXTS)]}{k}"),
                line=LineFactory(name=f"{TEXTS[(k + 2) % len(TEXTS)]} L{k}"),
                week=week(k % 5),
                units=2_147_483_647 if k == 3 else k,
                kind="overridden" if k % 2 else "accepted",
                reason=text,
                recommended_units=number,
                accepted_by=UserFactory(username=f"{'-+@='[k % 4]}user{k}"),
                revision=revision,
            )
        )
    for k, text in enumerate(TEXTS[len(FLOATS) :], start=len(FLOATS)):
        made.append(ScheduleEntryFactory(week=week(k % 5), reason=text))
    # Timestamps with and without microseconds, a superseded entry.
    now = timezone.now().replace(microsecond=0)
    ScheduleEntry.objects.filter(pk=made[0].pk).update(
        accepted_at=now - dt.timedelta(days=400, microseconds=-7),
        superseded_at=now,
        superseded_in=revision,
        superseded_by=made[1],
    )
    ScheduleEntry.objects.filter(pk=made[2].pk).update(accepted_at=now)
    return made


def python_bytes(rows) -> bytes:
    return CSVRenderer().render({"results": csv_table(list(rows))})


def copy_bytes(rows, ids) -> bytes | None:
    header = CSVRenderer().render({"results": csv_table(())})
    lines = copy_lines(rows.filter(id__in=ids))
    return None if lines is None else header + b"".join(line + b"\r\n" for line in lines)


@pytest.mark.parametrize("changed_since", [None, 0])
def test_copy_writes_the_bytes_python_writes(odd_entries, changed_since):
    rows = schedule_rows(changed_since=changed_since)
    keys = [row[0] for row in rows]
    assert len(keys) == len(odd_entries) - (changed_since is None)
    by_copy = copy_bytes(rows, keys)
    assert by_copy == python_bytes(rows)
    text = by_copy.decode()
    if changed_since is None:
        return  # the spot checks below read the superseded first entry too
    assert ",'=SUM(A1:A2)," in text and ",+1," in text and ",'-1__0," in text
    assert ",\t 7 ," in text and ",'\t7x," in text and ",'-nanx," in text
    assert ",1000000000000000.0," in text and ",1e+16," in text and ",nan," in text
    assert ",1234567890123456.8," in text and ",-1234567890123456.8," in text and ",inf," in text


def test_a_page_in_the_middle_is_its_own_rows(odd_entries):
    rows = schedule_rows(changed_since=0)
    ids = [row[0] for row in rows][5:12]
    assert copy_bytes(rows, ids) == python_bytes(rows.filter(id__in=ids))


@pytest.mark.parametrize(
    "reason",
    ["two\nlines", "-١٢", "+\u20037", "=ok\u00a0", "-€", "x\r\n-y", "a\uffffb"],
    ids=["line feed", "digits", "space", "nbsp", "formula", "crlf", "the marker"],
)
def test_a_page_copy_would_not_write_alike_is_left_to_python(reason):
    fine = ScheduleEntryFactory(reason="fine")
    odd = ScheduleEntryFactory(week=week(2), reason=reason)
    rows = schedule_rows()
    assert copy_bytes(rows, [fine.pk]) == python_bytes(rows.filter(pk=fine.pk))
    assert copy_bytes(rows, [fine.pk, odd.pk]) is None
    assert copy_bytes(rows, [odd.pk]) is None


def test_pages_are_sliced_and_ordered_as_the_cursor_asks(odd_entries):
    rows = schedule_rows(changed_since=0)
    ids = [row[0] for row in rows]
    forward = CopiedRows(rows).order_by("id").filter(id__gt=ids[2])[1:5]
    assert [int(line.split(b",")[0]) for line in forward] == ids[4:8]
    backward = CopiedRows(rows).order_by("-id").filter(id__lt=ids[9])[0:3]
    assert [int(line.split(b",")[0]) for line in backward] == ids[8:5:-1]


def test_a_slice_copy_would_not_write_alike_comes_as_rows(odd_entries):
    ScheduleEntryFactory(week=week(1), reason="two\nlines")
    rows = schedule_rows()
    page = CopiedRows(rows).order_by("id")[0:100]
    assert all(isinstance(row, tuple) for row in page)
    assert python_bytes(page) == python_bytes(rows)  # (a NaN is not == to itself)
    first = [row[0] for row in rows][:3]
    lines = CopiedRows(rows).order_by("id")[0:3]
    assert lines == copy_lines(rows.filter(id__in=first)) and len(lines) == 3


def test_copy_is_used_only_in_utc():
    assert copy_available()
    with timezone.override("Europe/Berlin"):
        assert not copy_available()


@pytest.mark.parametrize("reason", ["plain", "two\nlines"])
def test_the_api_pages_are_the_python_bytes(marketing_user, odd_entries, reason):
    """Pages of 7 through the API (COPY, or Python for the page with a line feed) are
    byte for byte the Python formatting of the same rows, and the cursor walks them all."""
    ScheduleEntryFactory(week=week(1), reason=reason)
    client = api(marketing_user)
    expected = list(schedule_rows())
    bodies, url = [], f"{SCHEDULES}?page_size=7&format=csv"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        bodies.append(response.content)
        url = next_link(response)
    assert len(bodies) == -(-len(expected) // 7)
    for k, body in enumerate(bodies):
        assert body == python_bytes(expected[7 * k : 7 * k + 7])
