"""The company-level priors on promotion effects (demand.engine.pooling)."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.cache import caches
from hypothesis import given, settings
from hypothesis import strategies as st

from coordination.weeks import add_weeks, current_week
from demand.engine.effects import Cannibalization, measure_all
from demand.engine.pooling import (
    SHARE_PRIOR_MIN_PAIRS,
    fit_share_prior,
    pool_shares,
)
from demand.models import PromotionItem, SharePriorFit
from demand.services.share_prior import SHARE_PRIOR_FITS_KEPT, share_prior_refresh
from tests.factories import (
    ProductFactory,
    PromotionFactory,
    PromotionItemFactory,
    SalesActualFactory,
)


def week(k: int):
    return add_weeks(current_week(), k)


def _pair(share, se=0.05, promotions=4, promoted=0, sibling=1):
    learned = abs(share) > 2 * se
    return Cannibalization(
        promoted=promoted,
        sibling=sibling,
        share=share if learned else 0.0,
        measured_share=share,
        promotions=promotions,
        learned=learned,
        standard_error=se,
    )


def _lines(shares_per_line, se=0.05):
    return [
        [_pair(s, se, promoted=0, sibling=i + 1) for i, s in enumerate(line)]
        for line in shares_per_line
    ]


def test_one_line_or_too_few_pairs_keep_the_per_line_rule_exactly():
    one_line = _lines([[0.3] * 30 + [0.0] * 30])
    assert fit_share_prior(one_line) is None
    assert pool_shares(one_line[0], None) == one_line[0]
    few = _lines([[0.3] * 10, [0.0] * (SHARE_PRIOR_MIN_PAIRS - 11)])
    assert fit_share_prior(few) is None
    # Pairs measured in one promotion do not count toward the prior.
    thin = [[_pair(0.3, promotions=1)] * 30, [_pair(0.0, promotions=1)] * 30]
    assert fit_share_prior(thin) is None


def test_all_shares_zero_learn_nothing():
    lines = _lines([[0.0] * 30, [0.0] * 30])
    prior = fit_share_prior(lines)
    assert prior.zero > 0.99
    pooled = pool_shares([c for line in lines for c in line], prior)
    assert [c.learned for c in pooled] == [False] * 60
    assert [c.share for c in pooled] == [0.0] * 60


def test_the_prior_finds_the_shares_the_pairs_share_and_pools_a_noisy_one_toward_them():
    # Two lines: 40 pairs without a share, 20 losing 30 % of the extra units.
    lines = _lines([[0.0] * 20 + [0.3] * 10, [0.0] * 20 + [0.3] * 10])
    prior = fit_share_prior(lines)
    assert prior.zero == pytest.approx(2 / 3, abs=1e-3)
    assert prior.loss[0] == pytest.approx(1 / 3, abs=1e-3)
    assert prior.loss[1] == pytest.approx(0.3, abs=1e-4)
    assert prior.loss[2] == pytest.approx(0.02)  # no spread: held at the slab's least width
    # A noisy pair at 0.18 (1.8 standard errors: 0 by the per-line rule) is learned and
    # pulled toward 0.3; one at 0.05 stays 0 and says so.
    noisy, small = pool_shares([_pair(0.18, se=0.1), _pair(0.05, se=0.1)], prior)
    assert not _pair(0.18, se=0.1).learned
    assert noisy.learned
    e2, w2 = 0.1**2, 0.02**2
    assert noisy.share == pytest.approx((0.3 * e2 + 0.18 * w2) / (e2 + w2), abs=1e-6)
    assert (small.learned, small.share, small.measured_share) == (False, 0.0, 0.05)


def test_a_pair_measured_once_stays_unlearned_under_the_prior():
    lines = _lines([[0.0] * 20 + [0.3] * 10, [0.0] * 20 + [0.3] * 10])
    (once,) = pool_shares([_pair(0.3, promotions=1)], fit_share_prior(lines))
    assert (once.learned, once.share, once.promotions) == (False, 0.0, 1)


share = st.floats(-0.5, 0.5, allow_nan=False).map(lambda v: round(v, 3))
error = st.floats(0.01, 0.3, allow_nan=False).map(lambda v: round(v, 3))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.lists(st.tuples(share, error), min_size=5, max_size=25), min_size=2, max_size=5),
    st.randoms(use_true_random=False),
)
def test_permuting_lines_or_pairs_does_not_change_the_share_prior(lines, random):
    pairs = [[_pair(s, e, sibling=i) for i, (s, e) in enumerate(line)] for line in lines]
    shuffled = [list(line) for line in pairs]
    for line in shuffled:
        random.shuffle(line)
    random.shuffle(shuffled)
    assert fit_share_prior(shuffled) == fit_share_prior(pairs)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(0, 100))
def test_without_promotions_there_is_no_prior_and_nothing_to_pool(lines, seed):
    rng = np.random.default_rng(seed)
    history = 100 + rng.standard_normal((3 * lines, 104))
    _, shares = measure_all(history, [], 52, groups=[i // 3 for i in range(3 * lines)])
    assert shares == []
    assert fit_share_prior([shares] * lines) is None
    assert pool_shares(shares, fit_share_prior([shares] * lines)) == []


# ---------------------------------------------------------------------------- selectors


def _pair_line(sku: str, sibling_during: int):
    """A line of its own: a product (100 a week, +-4 week to week) promoted alone twice
    selling 150 a week, and a sibling (200 a week, +-4) selling `sibling_during` then."""
    lemon = ProductFactory(sku=sku)
    sibling = ProductFactory(sku=sku + "-S", product_line=lemon.product_line)
    for start in (-30, -15):
        past = PromotionFactory(
            status="confirmed", start_week=week(start), end_week=week(start + 1)
        )
        PromotionItemFactory(promotion=past, product=lemon)
    promoted = {k for start in (-30, -15) for k in (start, start + 1)}
    for k in range(-40, 0):
        wobble = 4 if k % 2 else -4
        SalesActualFactory(
            product=lemon, week=week(k), units=(150 if k in promoted else 100) + wobble
        )
        SalesActualFactory(
            product=sibling, week=week(k), units=(sibling_during if k in promoted else 200) - wobble
        )
    return lemon, sibling


def _forget_measures():
    caches["local"].clear()
    caches["default"].clear()


def test_without_a_stored_prior_each_line_keeps_the_per_line_rule_exactly(db, monkeypatch):
    from demand.engine import pooling
    from demand.selectors import lift

    monkeypatch.setattr(pooling, "SHARE_PRIOR_MIN_PAIRS", 2)  # a prior could be fitted
    a, a_sibling = _pair_line("POOL-A", 170)
    _pair_line("POOL-B", 180)
    assert lift.company_share_prior() is None  # none stored: no fit on the fly
    _, shares = lift.line_measures(a.product_line_id)
    ((key, per_line),) = shares.items()
    assert key == (a.pk, a_sibling.pk)
    assert per_line.learned and per_line.share == per_line.measured_share
    assert lift.learned_shares([a.product_line_id]) == {(a.pk, a_sibling.pk): per_line.share}
    (pair,) = lift.suggest_lift(product=a, discount_pct=20).cannibalization
    assert (pair.pooled, pair.learned, pair.promotions) == (False, True, 2)
    assert pair.share_pct == per_line.share * 100
    # A stored "none" (too few pairs when it was fitted) reads the same.
    SharePriorFit.objects.create(lines=1, pairs=1, seconds=0.0)
    assert lift.company_share_prior() is None
    assert lift.learned_shares([a.product_line_id]) == {(a.pk, a_sibling.pk): per_line.share}


def test_the_refresh_stores_what_fit_share_prior_gives_for_all_lines(
    db, monkeypatch, measured_lines
):
    from demand.engine import pooling
    from demand.selectors import lift

    a, _ = _pair_line("POOL-A", 190)
    b, _ = _pair_line("POOL-B", 180)
    none = share_prior_refresh()  # 2 pairs: too few for a prior
    assert (none.lines, none.pairs, none.zero, none.loss_mean, none.gain_width) == (
        2,
        2,
        None,
        None,
        None,
    )
    assert lift.company_share_prior() is None
    monkeypatch.setattr(pooling, "SHARE_PRIOR_MIN_PAIRS", 2)
    measured_lines.clear()  # from here on
    fit = share_prior_refresh()
    assert measured_lines == []  # both lines' measures cached by the first refresh
    expected = fit_share_prior(
        [
            list(lift.line_measures(line)[1].values())
            for line in sorted([a.product_line_id, b.product_line_id])
        ]
    )
    assert expected is not None
    assert (fit.lines, fit.pairs) == (2, 2)
    fit.refresh_from_db()  # exactly, through the database's floats
    assert (fit.zero, fit.loss_weight, fit.loss_mean, fit.loss_width) == (
        expected.zero,
        *expected.loss,
    )
    assert (fit.gain_weight, fit.gain_mean, fit.gain_width) == expected.gain
    assert lift.company_share_prior() == expected
    # The newest row is the prior; a short history is kept.
    for _ in range(SHARE_PRIOR_FITS_KEPT):
        share_prior_refresh()
    assert SharePriorFit.objects.count() == SHARE_PRIOR_FITS_KEPT
    assert not SharePriorFit.objects.filter(pk__in=[none.pk, fit.pk]).exists()


def test_with_a_stored_prior_one_lines_readers_measure_only_that_line_and_pool_its_pairs(
    db, monkeypatch, django_assert_num_queries, measured_lines
):
    from demand.engine import pooling
    from demand.selectors import lift

    monkeypatch.setattr(pooling, "SHARE_PRIOR_MIN_PAIRS", 2)
    a, a_sibling = _pair_line("POOL-A", 190)
    b, _ = _pair_line("POOL-B", 180)
    share_prior_refresh()
    prior = lift.company_share_prior()
    with django_assert_num_queries(1):
        assert lift.company_share_prior() == prior
    # A sales import (a new row) changes every line's fingerprint: a reader of line A
    # measures line A, never line B.
    SalesActualFactory(product=b, week=week(-41), units=100)
    _forget_measures()
    measured_lines.clear()  # from here on
    (pair,) = lift.suggest_lift(product=a, discount_pct=20).cannibalization
    assert measured_lines == [(a.product_line_id,)]
    _, shares = lift.line_measures(a.product_line_id)
    (pooled,) = pooling.pool_shares(list(shares.values()), prior)
    assert (pair.sibling_sku, pair.pooled, pair.promotions) == ("POOL-A-S", True, 2)
    assert (pair.learned, pair.share_pct) == (pooled.learned, pooled.share * 100)
    # Pulled toward line B's larger share: not the per-line share.
    assert pooled.learned and pooled.share > pooled.measured_share
    # Leaving a finished promotion out measures line A again, without it; the prior stays.
    past = PromotionItem.objects.filter(product=a).first().promotion
    lift.suggest_lift(product=a, discount_pct=20, exclude_promotion=past.pk)
    assert measured_lines == [(a.product_line_id,)] * 2
    _forget_measures()
    shares = lift.learned_shares([a.product_line_id])
    assert measured_lines == [(a.product_line_id,)] * 3
    assert shares == {(a.pk, a_sibling.pk): pooled.share}
