"""Schedule pages are formatted from tuples, not serialized per entry: the answer must be
exactly what ScheduleEntrySerializer and the generic CSV renderer give for the same
entries (superseded ones, whole-second and fractional timestamps, text a spreadsheet
would run, other time zones)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from production.api.schedule_rows import csv_table, json_rows
from production.models import ScheduleEntry
from production.renderers import CSVRenderer, RowsAsJSONText
from production.selectors.schedule import schedule_rows
from production.serializers import ScheduleEntrySerializer
from tests.factories import (
    LineFactory,
    ProductFactory,
    ScheduleEntryFactory,
    ScheduleRevisionFactory,
    UserFactory,
)
from tests.production.test_api_quotas import week

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries():
    """Five entries: two plain, an override whose reason starts with "=", one on a line
    and product named like formulas, and one superseded (at a whole second) by the last."""
    made = [ScheduleEntryFactory(product=ProductFactory(), week=week(offset)) for offset in (1, 2)]
    made.append(
        ScheduleEntryFactory(
            product=ProductFactory(),
            week=week(3),
            kind="overridden",
            reason='=HYPERLINK(1), "and"\r\n-2 more',
            recommended_units=12.75,
        )
    )
    made.append(
        ScheduleEntryFactory(
            product=ProductFactory(name="+x"),
            line=LineFactory(name="@Line -1"),
            accepted_by=UserFactory(username="-petra"),
            week=week(4),
            units=0,
            recommended_units=0.0,
        )
    )
    old = made[0]
    revision = ScheduleRevisionFactory()
    whole_second = timezone.now().replace(microsecond=0)
    ScheduleEntry.objects.filter(pk=old.pk).update(
        superseded_at=whole_second,
        superseded_in=revision,
        accepted_at=whole_second - dt.timedelta(days=3, microseconds=-7),
    )
    replacement = ScheduleEntryFactory(product=old.product, week=old.week, revision=revision)
    ScheduleEntry.objects.filter(pk=old.pk).update(superseded_by=replacement)
    return [*made, replacement]


def every_row():
    return list(schedule_rows(changed_since=0))


def serialized():
    entries = ScheduleEntry.objects.select_related("product", "line", "accepted_by").order_by("id")
    return ScheduleEntrySerializer(entries, many=True).data


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_json_rows_are_what_the_serializer_answers(entries, zone):
    with timezone.override(zone):
        text_rows = json_rows(every_row())
        expected = [dict(row) for row in serialized()]
    rows = [json.loads(row) for row in text_rows]
    assert len(rows) == 5
    assert rows == expected
    assert [list(row) for row in rows] == [list(row) for row in expected]  # key order
    assert [row["superseded"] for row in rows] == [True, False, False, False, False]
    if zone == "UTC":
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[0]["superseded_at"])
        assert rows[0]["accepted_at"].endswith(".000007Z")


@pytest.mark.parametrize("accept", ["application/json", "application/json; indent=2"])
def test_a_page_body_is_byte_for_byte_what_drf_renders(entries, accept):
    envelope = {"schedule_version": 7, "next": "http://x/?cursor=a%22b", "previous": None}
    fast = RowsAsJSONText().render({**envelope, "results": json_rows(every_row())}, accept, {})
    generic = JSONRenderer().render({**envelope, "results": serialized()}, accept, {})
    assert fast == generic


def test_a_float_json_cannot_hold_is_refused_as_drf_refuses_it():
    row = (1, "A-1", "L", dt.date(2026, 1, 5), 1, "accepted", "", float("nan"), 1, "u")
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_rows([(*row, timezone.now(), None, None)])


def test_the_full_pull_rows_are_the_current_entries(entries):
    assert [row[0] for row in schedule_rows()] == [e.pk for e in entries[1:]]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_csv_cells_are_what_the_generic_renderer_writes(entries, zone):
    renderer = CSVRenderer()
    with timezone.override(zone):
        fast = renderer.render({"results": csv_table(every_row())})
        generic = renderer.render({"results": [dict(row) for row in serialized()]})
    assert fast == generic
    text = fast.decode()
    assert '"\'=HYPERLINK(1), ""and""\r\n-2 more"' in text
    assert "'@Line -1" in text and "'-petra" in text
    assert text.count("\r\n") == 7  # the header, 5 rows, and the break inside a reason


def test_an_empty_page_is_the_header_alone():
    renderer = CSVRenderer()
    assert (
        renderer.render({"results": csv_table([])})
        == (",".join(ScheduleEntrySerializer.Meta.fields) + "\r\n").encode()
    )
    assert json_rows([]) == []
