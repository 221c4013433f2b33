"""insert_rows and insert_columns: the same rows whether PostgreSQL's COPY or bulk_create
writes them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from demand.bulk import _column_text, _copy_text, insert_columns, insert_rows
from production.models import QuotaRecommendation
from production.services.planning import RECOMMENDATION_FIELDS
from tests.factories import LineFactory, ProductFactory, RecomputeRunFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2027, 1, 4)


def _awkward_rows():
    line = LineFactory()
    run = RecomputeRunFactory(line=line)
    products = [ProductFactory(production_line=line) for _ in range(3)]
    awkward = "Stop-ship RC-1:\ttab, back\\slash,\nnew line\r and 'quotes' \"too\" — ü"
    return [
        (run.pk, products[0].pk, line.pk, MONDAY, MONDAY, 12.5, 10.0, 2.5, -1.5, -2.0,
         awkward, 1.75, awkward, 0.0, 0.0, 14.25, 3.0, -1.25, 18.5, 0.0, 4.25, 0.0, 0.0,
         awkward, True, 40.5, True, awkward),
        (run.pk, products[1].pk, line.pk, MONDAY, dt.date(2027, 1, 11), 0.0, 0.0, 0.0, 0.0,
         0.0, "", 0.0, "", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, "", False, None,
         False, ""),
        (run.pk, products[2].pk, line.pk, MONDAY, MONDAY, 1e16, 0.001, 1e-07, -0.0, -3.25,
         "x", 0.5, "", 7.0, -2.0, 1.5, 0.25, 2.0, 1.0, 3.0, 0.0, 1.0, -1.0, "held", True,
         0.125, False, ""),
    ]  # fmt: skip


def test_values_come_back_exactly_text_escapes_included():
    rows = _awkward_rows()

    assert insert_rows(QuotaRecommendation, RECOMMENDATION_FIELDS, iter(rows)) == 3

    stored = list(
        QuotaRecommendation.objects.order_by("product_id").values_list(*RECOMMENDATION_FIELDS)
    )
    assert stored == rows


def test_nothing_to_write_writes_nothing():
    assert insert_rows(QuotaRecommendation, RECOMMENDATION_FIELDS, []) == 0
    assert QuotaRecommendation.objects.count() == 0


def test_a_column_is_written_as_each_of_its_values_would_be():
    """insert_rows formats a column of one type with one map: the text must be what the
    per-value formatter writes, for every type and for mixed columns."""
    columns = [
        [1.5, 1e16, -0.0, float("inf"), 1e-07, 2.0],
        [1, -2, 0, 10**20, 7, 8],
        ["a\tb", "", "x\\y", "ü\nz\r", "plain", "'q'"],
        [MONDAY] * 6,
        [dt.datetime(2027, 1, 4, 9, 30, 0, 7), dt.datetime(2027, 1, 4)] * 3,
        [None, 1.0, None, 2.5, "", 3],
        [True, False, True, False, True, False],
        [np.float64(1.5), np.float64(-0.25)] * 3,
        [None] * 6,
    ]
    for column in columns:
        assert list(_column_text(column)) == [_copy_text(value) for value in column]


@pytest.mark.parametrize("chunk", [1, 2, 20_000])
def test_rows_given_as_columns_are_the_rows_insert_rows_writes(chunk, monkeypatch):
    """insert_columns: every chunk of the columns written (COPY_CHUNK 1 and 2 split three
    rows), the values back exactly as insert_rows writes them, in the same order."""
    monkeypatch.setattr("demand.bulk.COPY_CHUNK", chunk)
    rows = _awkward_rows()
    columns = [list(column) for column in zip(*rows, strict=True)]

    assert insert_columns(QuotaRecommendation, RECOMMENDATION_FIELDS, columns) == 3

    stored = list(QuotaRecommendation.objects.order_by("pk").values_list(*RECOMMENDATION_FIELDS))
    assert stored == rows
    QuotaRecommendation.objects.all().delete()
    assert insert_rows(QuotaRecommendation, RECOMMENDATION_FIELDS, rows) == 3
    again = QuotaRecommendation.objects.order_by("pk").values_list(*RECOMMENDATION_FIELDS)
    assert list(again) == stored


def test_columns_of_different_lengths_are_refused():
    rows = _awkward_rows()
    columns = [list(column) for column in zip(*rows, strict=True)]
    columns[5] = columns[5][:2]
    with pytest.raises(ValueError, match="different lengths"):
        insert_columns(QuotaRecommendation, RECOMMENDATION_FIELDS, columns)
    with pytest.raises(ValueError, match="28 fields but 27 columns"):
        insert_columns(QuotaRecommendation, RECOMMENDATION_FIELDS, columns[1:])
    assert insert_columns(QuotaRecommendation, RECOMMENDATION_FIELDS, [[]] * 28) == 0
    assert QuotaRecommendation.objects.count() == 0
