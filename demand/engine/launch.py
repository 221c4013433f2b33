"""New products and successors: pure numpy, no Django.

A new product has no history a model could learn from. Until it has, its baseline is
taken from "like" products (demand.models.LikeProduct):

    likes(t)   = sum_j weight_j x baseline_j(t)                  the likes' forecasts
    level      = sum_j weight_j x mean usable weekly units of like j over its last
                 LEVEL_WEEKS weeks of history (one year: every season counts once)
    from_likes = likes(t) x launch_volume / level   with a launch volume (the likes'
                 seasonal profile, at the planner's volume on an average week);
                 likes(t) without one; the flat launch volume if the likes have no level
    ramp(t)    = share of full volume in week t after the launch week (t = 0 is the
                 launch week): x = min(1, (t + 1) / ramp_weeks), linear: x,
                 S-curve: 3x^2 - 2x^3 (smoothstep); 0 before the launch week
    weight     = min(1, weeks of the product's own history / BLEND_WEEKS)
    baseline   = weight x own model + (1 - weight) x from_likes x ramp

So a product launched this week is forecast from its likes only; after BLEND_WEEKS (52)
weeks of its own sales the likes no longer count.

A succession moves demand from a phased-out product to its successor:

    from the switch week on, successor baseline += old baseline, old baseline = 0

applied along chains (A -> B -> C) in order, so C also receives what B took from A.
"""

from __future__ import annotations

import numpy as np

#: Weeks of its own history after which a new product is forecast by its own model only.
#: A year: before it, the engine cannot know the product's season (a seasonal model needs
#: a season and 4 weeks), the likes can (bench/new_product_accuracy.py: at 13 weeks of
#: history 9.6 % WMAPE with 52 against 22.9 % with 13).
BLEND_WEEKS = 52
#: Weeks of a like's history its level is measured over.
LEVEL_WEEKS = 52
LINEAR = "linear"
S_CURVE = "s_curve"


def ramp_up(weeks_since_launch: np.ndarray, ramp_weeks: int, shape: str = LINEAR) -> np.ndarray:
    """Share of full volume (0..1) per week; `weeks_since_launch` 0 is the launch week."""
    if ramp_weeks < 1:
        raise ValueError(f"ramp_weeks must be >= 1, not {ramp_weeks}")
    if shape not in (LINEAR, S_CURVE):
        raise ValueError(f"unknown ramp shape {shape!r}; use {LINEAR!r} or {S_CURVE!r}")
    t = np.asarray(weeks_since_launch, dtype=float)
    x = np.clip((t + 1) / ramp_weeks, 0.0, 1.0)
    share = x if shape == LINEAR else x * x * (3 - 2 * x)
    return np.where(t < 0, 0.0, share)


def own_weight(history_weeks, blend_weeks: int = BLEND_WEEKS) -> np.ndarray:
    """Weight of the product's own model: min(1, weeks of own history / blend_weeks)."""
    if blend_weeks < 1:
        raise ValueError(f"blend_weeks must be >= 1, not {blend_weeks}")
    weeks = np.maximum(np.asarray(history_weeks, dtype=float), 0.0)
    return np.minimum(1.0, weeks / blend_weeks)


def usable_level(history: np.ndarray, promo_mask: np.ndarray | None = None) -> np.ndarray:
    """Mean weekly units of each row over its last LEVEL_WEEKS weeks, skipping unknown
    (NaN) and promotion weeks; 0 for a row with none."""
    recent = np.asarray(history, dtype=float)[:, -LEVEL_WEEKS:]
    usable = np.isfinite(recent)
    if promo_mask is not None:
        usable &= ~np.asarray(promo_mask, dtype=bool)[:, -LEVEL_WEEKS:]
    count = usable.sum(axis=1)
    total = np.where(usable, recent, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def likes_profile(
    like_baselines: np.ndarray,
    like_levels: np.ndarray,
    weights: np.ndarray,
    launch_volume: float | None,
) -> np.ndarray:
    """The new product's demand at full volume per future week: the weighted likes'
    forecasts, scaled to `launch_volume` on an average week when it is set."""
    like_baselines = np.atleast_2d(np.asarray(like_baselines, dtype=float))
    weights = np.asarray(weights, dtype=float)
    horizon = like_baselines.shape[1]
    combined = weights @ like_baselines if weights.size else np.zeros(horizon)
    if launch_volume is None:
        return combined
    level = float(weights @ np.asarray(like_levels, dtype=float)) if weights.size else 0.0
    if level <= 0:
        return np.full(horizon, float(launch_volume))
    return combined * (float(launch_volume) / level)


def launch_baseline(
    own: np.ndarray, profile: np.ndarray, ramp: np.ndarray, weight: float
) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, from_likes): the blend of the own model and the ramped likes' profile,
    and the likes' part of it."""
    from_likes = (1.0 - weight) * np.asarray(profile, dtype=float) * np.asarray(ramp)
    baseline = weight * np.asarray(own, dtype=float) + from_likes
    return np.maximum(baseline, 0.0), np.maximum(from_likes, 0.0)


def launch_forecast(
    own: np.ndarray,
    like_baselines: np.ndarray,
    like_levels: np.ndarray,
    weights: np.ndarray,
    *,
    launch_volume: float | None,
    weeks_since_launch: np.ndarray,
    ramp_weeks: int,
    ramp_shape: str,
    own_history_weeks: int,
    blend_weeks: int = BLEND_WEEKS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One new product: (baseline, from_likes, profile at full volume, own weight)."""
    profile = likes_profile(like_baselines, like_levels, weights, launch_volume)
    weight = float(own_weight(own_history_weeks, blend_weeks))
    ramp = ramp_up(weeks_since_launch, ramp_weeks, ramp_shape)
    baseline, from_likes = launch_baseline(own, profile, ramp, weight)
    return baseline, from_likes, profile, weight


def apply_successions(
    baseline: np.ndarray, successions: list[tuple[int, int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Move each old row's baseline to its successor row from a column on.

    successions: (old row, successor row, first column), in chain order (an old product
    before the successor that hands on to a third). Returns (new baseline, transfer):
    transfer is + on the successor, - on the old product."""
    moved = np.array(baseline, dtype=float, copy=True)
    for old, new, first in successions:
        first = max(int(first), 0)
        amount = moved[old, first:].copy()
        moved[new, first:] += amount
        moved[old, first:] = 0.0
    return moved, moved - np.asarray(baseline, dtype=float)


def chain_order(pairs: dict[int, int]) -> list[int]:
    """Old products ordered so a product hands on what it received before it hands on
    itself: for A -> B -> C, A first. `pairs` maps old -> successor and has no loop."""
    takes_from: dict[int, list[int]] = {}
    for old, new in pairs.items():
        takes_from.setdefault(new, []).append(old)
    ordered: list[int] = []
    done: set[int] = set()

    def visit(node: int) -> None:
        if node in done:
            return
        done.add(node)
        for earlier in sorted(takes_from.get(node, [])):
            visit(earlier)
        if node in pairs:
            ordered.append(node)

    for old in sorted(pairs):
        visit(old)
    return ordered
