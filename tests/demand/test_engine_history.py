"""demand.engine.splice_predecessor: a new product starts from its predecessor's history."""

import numpy as np
import pytest

from demand.engine import (
    HOLT_WINTERS_ADDITIVE,
    HOLT_WINTERS_MULTIPLICATIVE,
    SEASONAL_NAIVE,
    forecast_baseline,
    splice_predecessor,
)
from demand.engine.history import SPLICE_SCALE_BOUNDS

NAN = np.nan


def test_weeks_before_launch_come_from_the_predecessor_scaled_by_the_overlap():
    # The new product launches in week 3; both sold in weeks 3..6 (four weeks), the new
    # one twice as much: the predecessor's earlier weeks are doubled.
    new = np.array([[NAN, NAN, NAN, 20, 22, 18, 20, 21]])
    old = np.array([[7, 8, 9, 10, 11, 9, 10, NAN]])

    spliced = splice_predecessor(new, old)

    assert spliced.history.tolist() == [[14, 16, 18, 20, 22, 18, 20, 21]]
    assert spliced.scale.tolist() == [2.0]
    assert spliced.used_predecessor.tolist() == [True]
    assert spliced.promo_mask.tolist() == [[False] * 8]


def test_an_explicit_scale_wins_over_the_overlap():
    new = np.array([[NAN, NAN, 5, 5, 5, 5, 5]])
    old = np.array([[10, 12, 10, 10, 10, 10, NAN]])

    spliced = splice_predecessor(new, old, scale=0.25)

    assert spliced.history.tolist() == [[2.5, 3, 5, 5, 5, 5, 5]]
    assert spliced.scale.tolist() == [0.25]


def test_too_little_overlap_means_a_like_for_like_replacement():
    new = np.array([[NAN, NAN, NAN, 30, 31]])
    old = np.array([[10, 11, 12, 13, NAN]])  # one common week only

    spliced = splice_predecessor(new, old)

    assert spliced.history.tolist() == [[10, 11, 12, 30, 31]]
    assert spliced.scale.tolist() == [1.0]


def test_the_estimated_scale_is_bounded():
    new = np.array([[NAN, 1000, 1000, 1000, 1000]])
    old = np.array([[5, 1, 1, 1, 1]])

    spliced = splice_predecessor(new, old)

    assert spliced.scale.tolist() == [SPLICE_SCALE_BOUNDS[1]]
    assert spliced.history.tolist() == [[50, 1000, 1000, 1000, 1000]]


def test_series_without_predecessor_are_unchanged():
    new = np.array([[NAN, NAN, 4, 5], [1, 2, 3, 4]])
    old = np.array([[NAN, NAN, NAN, NAN], [9, 9, 9, 9]])

    spliced = splice_predecessor(new, old)

    np.testing.assert_array_equal(spliced.history, new)
    assert spliced.used_predecessor.tolist() == [False, False]  # the second has no gap
    assert np.isnan(spliced.scale).all()


def test_gaps_after_launch_stay_gaps_and_promotions_come_along():
    new = np.array([[NAN, NAN, 6, NAN, 6, 6, 6, 6]])
    old = np.array([[3, 30, 3, 3, 3, 3, 3, NAN]])
    new_promo = np.zeros((1, 8), dtype=bool)
    new_promo[0, 5] = True
    old_promo = np.zeros((1, 8), dtype=bool)
    old_promo[0, 1] = True

    spliced = splice_predecessor(
        new, old, promo_mask=new_promo, predecessor_promo_mask=old_promo, min_overlap_weeks=3
    )

    # Overlap without promotions: weeks 2, 4, 6 (week 3 is a gap, 5 a promotion): 18 / 9.
    assert spliced.scale.tolist() == [2.0]
    np.testing.assert_array_equal(spliced.history, [[6, 60, 6, NAN, 6, 6, 6, 6]])
    assert spliced.promo_mask.tolist() == [[False, True, False, False, False, True, False, False]]


def test_a_launch_promotion_counts_as_launched():
    new = np.array([[NAN, NAN, NAN, 8, 8]])
    promo = np.array([[False, False, True, False, False]])
    old = np.array([[4, 4, 4, 4, NAN]])

    spliced = splice_predecessor(new, old, promo_mask=promo, scale=1.0)

    np.testing.assert_array_equal(spliced.history, [[4, 4, NAN, 8, 8]])
    assert spliced.promo_mask.tolist() == [[False, False, True, False, False]]


def test_spliced_history_gives_a_new_product_a_seasonal_forecast():
    week = np.arange(156)
    seasonal = 100 + 40 * np.sin(2 * np.pi * week / 52)
    new = np.where(week >= 140, seasonal * 1.5, NAN)[None]  # launched 16 weeks ago
    old = np.where(week < 145, seasonal, NAN)[None]

    alone = forecast_baseline(new, 13)
    spliced = splice_predecessor(new, old)
    result = forecast_baseline(spliced.history, 13, promo_mask=spliced.promo_mask)

    assert alone.method[0] not in {SEASONAL_NAIVE, HOLT_WINTERS_ADDITIVE}
    assert spliced.scale[0] == pytest.approx(1.5, rel=1e-12)
    assert result.method[0] in {SEASONAL_NAIVE, HOLT_WINTERS_ADDITIVE, HOLT_WINTERS_MULTIPLICATIVE}
    truth = 1.5 * (100 + 40 * np.sin(2 * np.pi * np.arange(156, 169) / 52))
    np.testing.assert_allclose(result.mean[0], truth, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"predecessor_history": np.zeros((1, 4))}, "one shape"),
        ({"promo_mask": np.zeros((2, 3), dtype=bool)}, "promo_mask"),
        ({"scale": -1.0}, "scale"),
    ],
)
def test_invalid_splice_input_is_refused(kwargs, message):
    arguments = {"history": np.zeros((2, 4)), "predecessor_history": np.zeros((2, 4))} | kwargs
    with pytest.raises(ValueError, match=message):
        splice_predecessor(**arguments)
