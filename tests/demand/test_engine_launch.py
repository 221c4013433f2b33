"""demand.engine.launch: the ramp-up, the blend weight, the likes' scaled profile and
successions, on hand-made arrays."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from demand.engine.launch import (
    BLEND_WEEKS,
    apply_successions,
    chain_order,
    launch_baseline,
    launch_forecast,
    likes_profile,
    own_weight,
    ramp_up,
    usable_level,
)


def test_linear_ramp_reaches_full_volume_in_its_last_week():
    since = np.array([-2, -1, 0, 1, 2, 3, 4])
    assert ramp_up(since, 4).tolist() == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]


def test_s_curve_starts_slow_and_ends_slow():
    shares = ramp_up(np.arange(-1, 5), 4, "s_curve")
    # smoothstep of 1/4, 2/4, 3/4, 1: 3x^2 - 2x^3
    assert shares.tolist() == [0.0, 0.15625, 0.5, 0.84375, 1.0, 1.0]


def test_a_one_week_ramp_is_full_volume_from_the_launch_week():
    assert ramp_up(np.array([-1, 0, 5]), 1).tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("weeks", "shape", "message"),
    [(0, "linear", "ramp_weeks must be >= 1, not 0"), (3, "cubic", "unknown ramp shape 'cubic'")],
)
def test_bad_ramp_is_refused(weeks, shape, message):
    with pytest.raises(ValueError, match=message):
        ramp_up(np.array([0]), weeks, shape)


def test_own_weight_grows_with_weeks_of_history_to_one():
    weeks = np.array([0, 1, 4, 13, 20])
    assert own_weight(weeks, blend_weeks=13).tolist() == [0.0, 1 / 13, 4 / 13, 1.0, 1.0]
    assert BLEND_WEEKS == 52


def test_level_skips_unknown_and_promotion_weeks_and_reads_the_last_year():
    history = np.array([[1000.0] * 10 + [np.nan, 80.0, 120.0, 500.0] + [100.0] * 48])
    promo = np.zeros_like(history, dtype=bool)
    promo[0, 13] = True  # the 500 was a promotion
    # the last 52 weeks: 80, 120, (500 promoted) and 49 weeks of 100 (incl. one 1000? no)
    # The last 52 weeks: unknown, 80, 120, a promoted 500 and 48 weeks of 100; the
    # 1000s are older than a year.
    assert usable_level(history, promo).tolist() == [(80.0 + 120.0 + 48 * 100.0) / 50]


def test_level_of_a_like_without_history_is_zero():
    assert usable_level(np.full((1, 60), np.nan)).tolist() == [0.0]


def test_likes_profile_keeps_the_season_and_scales_to_the_launch_volume():
    # Two likes: A sells 100 on average with a season, B 50 flat; B counts twice.
    baselines = np.array([[50.0, 100.0, 150.0], [50.0, 50.0, 50.0]])
    levels = np.array([100.0, 50.0])
    weights = np.array([1.0, 2.0])
    unscaled = likes_profile(baselines, levels, weights, None)
    assert unscaled.tolist() == [150.0, 200.0, 250.0]
    # Scaled to 400 a week on an average week: x 400 / (100 + 2 x 50).
    assert likes_profile(baselines, levels, weights, 400).tolist() == [300.0, 400.0, 500.0]


def test_likes_without_a_level_give_the_flat_launch_volume():
    assert likes_profile(np.zeros((1, 3)), np.zeros(1), np.ones(1), 250).tolist() == [250.0] * 3
    assert likes_profile(np.zeros((0, 3)), np.zeros(0), np.zeros(0), 250).tolist() == [250.0] * 3


def test_blend_at_four_weeks_of_history():
    own = np.array([60.0, 60.0])
    profile = np.array([400.0, 400.0])
    ramp = np.array([5 / 8, 6 / 8])
    baseline, from_likes = launch_baseline(own, profile, ramp, 4 / 13)
    assert from_likes.tolist() == pytest.approx([9 / 13 * 250, 9 / 13 * 300])
    assert baseline.tolist() == pytest.approx([(240 + 2250) / 13, (240 + 2700) / 13])


def test_succession_moves_the_old_baseline_from_the_switch_week():
    baseline = np.array([[60.0, 60.0, 60.0, 60.0], [20.0, 20.0, 20.0, 20.0]])
    moved, transfer = apply_successions(baseline, [(0, 1, 2)])
    assert moved.tolist() == [[60.0, 60.0, 0.0, 0.0], [20.0, 20.0, 80.0, 80.0]]
    assert transfer.tolist() == [[0.0, 0.0, -60.0, -60.0], [0.0, 0.0, 60.0, 60.0]]
    assert baseline[0].tolist() == [60.0] * 4  # the input is not changed


def test_a_switch_before_the_first_week_moves_everything_and_after_the_last_nothing():
    baseline = np.array([[5.0, 5.0], [1.0, 1.0]])
    assert apply_successions(baseline, [(0, 1, -3)])[0].tolist() == [[0.0, 0.0], [6.0, 6.0]]
    assert apply_successions(baseline, [(0, 1, 9)])[0].tolist() == baseline.tolist()


def test_a_chain_hands_on_what_it_received():
    # A -> B from week 1, B -> C from week 2: C gets A's and B's from week 2.
    baseline = np.array([[10.0, 10.0, 10.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    order = chain_order({0: 1, 1: 2})
    assert order == [0, 1]
    moves = {0: (0, 1, 1), 1: (1, 2, 2)}
    moved, transfer = apply_successions(baseline, [moves[old] for old in order])
    assert moved.tolist() == [[10.0, 0.0, 0.0], [1.0, 11.0, 0.0], [0.0, 0.0, 11.0]]
    assert transfer.sum(axis=0).tolist() == [0.0, 0.0, 0.0]


def test_chain_order_puts_every_giver_before_its_receiver():
    assert chain_order({3: 1, 1: 2, 5: 3, 7: 2}) == [5, 3, 1, 7]


@given(
    st.lists(st.integers(0, 60), min_size=1, max_size=30),
    st.integers(1, 40),
)
def test_blend_weight_is_monotone_in_weeks_of_history(weeks, blend_weeks):
    ordered = np.sort(np.array(weeks))
    weight = own_weight(ordered, blend_weeks)
    assert np.all(np.diff(weight) >= 0)
    assert np.all((weight >= 0) & (weight <= 1))


@given(st.integers(1, 52), st.sampled_from(["linear", "s_curve"]))
def test_ramp_is_monotone_from_zero_to_one(ramp_weeks, shape):
    shares = ramp_up(np.arange(-3, ramp_weeks + 3), ramp_weeks, shape)
    assert np.all(np.diff(shares) >= 0)
    assert shares[0] == 0.0 and shares[-1] == 1.0


@given(
    st.lists(st.floats(0, 1e6), min_size=4, max_size=4),
    st.lists(st.floats(0, 1e6), min_size=4, max_size=4),
    st.integers(-2, 6),
)
def test_successions_conserve_total_demand(old, new, switch):
    baseline = np.array([old, new])
    moved, _ = apply_successions(baseline, [(0, 1, switch)])
    assert moved.sum(axis=0) == pytest.approx(baseline.sum(axis=0))


@given(
    st.lists(st.floats(0, 1e6), min_size=5, max_size=5),
    st.integers(52, 400),
    st.floats(1, 1e5),
)
def test_with_a_year_of_history_the_own_model_is_the_forecast_exactly(own, weeks, volume):
    baseline, from_likes, _, weight = launch_forecast(
        np.array(own),
        np.full((2, 5), 70.0),
        np.array([60.0, 80.0]),
        np.array([1.0, 0.5]),
        launch_volume=volume,
        weeks_since_launch=np.arange(weeks, weeks + 5),
        ramp_weeks=8,
        ramp_shape="s_curve",
        own_history_weeks=weeks,
    )
    assert weight == 1.0
    assert baseline.tolist() == own
    assert from_likes.tolist() == [0.0] * 5


@given(st.lists(st.lists(st.floats(0, 1e6), min_size=3, max_size=3), min_size=1, max_size=4))
def test_without_successions_the_baseline_is_unchanged(rows):
    baseline = np.array(rows)
    moved, transfer = apply_successions(baseline, [])
    assert moved.tolist() == baseline.tolist()
    assert not transfer.any()
