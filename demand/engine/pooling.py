"""Pooling promotion effects across product lines: a company-level prior.

Pure numpy, no Django. A product line has a dozen promotions and a handful of sibling
pairs, too few to tell a share from noise or to fit a prior of its own; a company has
many lines, whose pairs tend to behave alike. An empirical-Bayes prior is fitted to all
lines' pairs at once and each pair is read against it (fit_share_prior, pool_shares):

    Each pair's measured signed share s^ (demand.engine.effects._cannibalization) with its
    standard error e is a draw s^ ~ N(s, e^2) of a true share s from

        s ~ p0 x (point mass at 0) + p+ x N(m+, w+^2) + p- x N(m-, w-^2)

    (a slab of losses, m+ >= 0, and of gains, m- <= 0), fitted by EM to the pairs with at
    least MIN_CANNIBALIZATION_PROMOTIONS promotions. A pair is learned where the posterior
    says it more likely is not 0 (p(slab | s^) > 1/2), with the posterior mean share given
    that it is not; 0 otherwise. Below SHARE_PRIOR_MIN_LINES lines or SHARE_PRIOR_MIN_PAIRS
    pairs the prior cannot be fitted: the pairs keep the per-line rule (2 standard errors).

The fit starts from fixed values and runs a fixed number of EM steps over the pairs in
one order (sorted by share and error, whatever the order of the lines): the same
measures give the same prior, bit for bit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from demand.engine.effects import MIN_CANNIBALIZATION_PROMOTIONS, Cannibalization

SHARE_PRIOR_MIN_LINES = 2
SHARE_PRIOR_MIN_PAIRS = 40
# A slab narrower than this (a share's spread, as a fraction) cannot be told from a
# point: its width is held at least here.
SHARE_SLAB_MIN_WIDTH = 0.02
EM_STEPS = 200


@dataclass(frozen=True)
class SharePrior:
    """p0, p+, p- (summing to 1), the slabs' means m+ >= 0, m- <= 0 and widths w+, w-."""

    zero: float
    loss: tuple[float, float, float]  # (p+, m+, w+)
    gain: tuple[float, float, float]  # (p-, m-, w-)

    def slab_probability(self, share: float, standard_error: float) -> tuple[float, float]:
        """(posterior p(not 0), posterior mean share given not 0) of one pair."""
        e2 = standard_error**2
        dens = [self.zero * _normal(share, 0.0, e2)]
        means = []
        for weight, mean, width in (self.loss, self.gain):
            total = width**2 + e2
            dens.append(weight * _normal(share, mean, total))
            means.append((mean * e2 + share * width**2) / total)
        evidence = sum(dens)
        if not evidence > 0:
            return 0.0, 0.0
        slab = dens[1] + dens[2]
        if not slab > 0:
            return 0.0, 0.0
        return slab / evidence, (dens[1] * means[0] + dens[2] * means[1]) / slab


def _normal(x: float, mean: float, variance: float) -> float:
    return math.exp(-0.5 * (x - mean) ** 2 / variance) / math.sqrt(2 * math.pi * variance)


def _fittable(shares: Sequence[Cannibalization]) -> list[Cannibalization]:
    return [
        c
        for c in shares
        if c.promotions >= MIN_CANNIBALIZATION_PROMOTIONS
        and c.measured_share is not None
        and c.standard_error is not None
        and math.isfinite(c.measured_share)
        and c.standard_error > 0
        and math.isfinite(c.standard_error)
    ]


def fitted_counts(lines: Sequence[Sequence[Cannibalization]]) -> tuple[int, int]:
    """(lines with a pair, pairs) that fit_share_prior fits to: those with enough
    promotions and a finite share and standard error."""
    per_line = [_fittable(line) for line in lines]
    return sum(1 for line in per_line if line), sum(len(line) for line in per_line)


def fit_share_prior(lines: Sequence[Sequence[Cannibalization]]) -> SharePrior | None:
    """The company's prior on signed sibling shares, from each line's pairs (a list per
    line); None below SHARE_PRIOR_MIN_LINES lines with a pair or SHARE_PRIOR_MIN_PAIRS
    pairs with enough promotions."""
    per_line = [_fittable(line) for line in lines]
    if sum(1 for line in per_line if line) < SHARE_PRIOR_MIN_LINES:
        return None
    # In one order whatever the lines' order: the same pairs give the same bits.
    pairs = sorted(
        (c for line in per_line for c in line), key=lambda c: (c.measured_share, c.standard_error)
    )
    if len(pairs) < SHARE_PRIOR_MIN_PAIRS:
        return None
    y = np.array([c.measured_share for c in pairs], dtype=np.float64)
    e2 = np.array([c.standard_error for c in pairs], dtype=np.float64) ** 2
    weights = np.array([0.8, 0.1, 0.1])
    means = np.array([0.0, 0.1, -0.1])
    widths2 = np.array([0.0, 0.1**2, 0.1**2])
    floor = SHARE_SLAB_MIN_WIDTH**2
    for _ in range(EM_STEPS):
        total = widths2[None, :] + e2[:, None]  # (pairs, 3)
        log_dens = -0.5 * ((y[:, None] - means[None, :]) ** 2 / total + np.log(total))
        log_dens += np.log(np.maximum(weights, 1e-300))[None, :]
        log_dens -= log_dens.max(axis=1, keepdims=True)
        resp = np.exp(log_dens)
        resp /= resp.sum(axis=1, keepdims=True)
        weights = resp.mean(axis=0)
        for k, sign in ((1, 1.0), (2, -1.0)):
            r = resp[:, k]
            if r.sum() <= 1e-12:
                continue
            w = 1 / total[:, k]
            mean = float((r * w * y).sum() / (r * w).sum())
            means[k] = max(sign * mean, 0.0) * sign
            spread = float((r * w * w * ((y - means[k]) ** 2 - e2)).sum() / (r * w * w).sum())
            widths2[k] = max(spread, floor)
    return SharePrior(
        zero=float(weights[0]),
        loss=(float(weights[1]), float(means[1]), math.sqrt(widths2[1])),
        gain=(float(weights[2]), float(means[2]), math.sqrt(widths2[2])),
    )


def pool_shares(
    shares: Sequence[Cannibalization], prior: SharePrior | None
) -> list[Cannibalization]:
    """The pairs read against the company's prior: learned where p(not 0) > 1/2 (and
    with MIN_CANNIBALIZATION_PROMOTIONS promotions or more), with the posterior mean
    share given not 0; 0 otherwise. Without a prior: the pairs as they are (the per-line
    rule)."""
    if prior is None:
        return list(shares)
    fittable = set(map(id, _fittable(shares)))
    pooled = []
    for c in shares:
        if id(c) not in fittable:
            pooled.append(dataclasses.replace(c, share=0.0, learned=False))
            continue
        slab, mean = prior.slab_probability(c.measured_share, c.standard_error)
        learned = slab > 0.5
        pooled.append(
            dataclasses.replace(
                c, share=min(max(mean, -1.0), 1.0) if learned else 0.0, learned=learned
            )
        )
    return pooled
