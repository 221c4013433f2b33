"""How well a new product is forecast from its like products, beside today's method.

Builds synthetic product lines with a KNOWN new product and forecasts its first weeks
both ways in one run:

    likes     demand.engine.launch: the like products' forecasts (season included),
              weighted, scaled to the planner's launch volume and ramped up from the
              launch week; blended with the product's own model by weeks of history
              (weight min(1, k / 13)) — what Tandem now does with a launch plan
    own       the method Tandem used before: the product's own baseline model on its k
              weeks of history (no history: 0)
    unblended the likes' forecast alone, never blended out (for reference: what the
              blend by weeks of history costs or gains)

Each family has 3 like products over 156 weeks with a level, a trend, a yearly season
shared by the line (a smooth wave; in `--sharp-peaks` of the families also a 3-week
peak) and multiplicative noise. The new product shares the season, sells `volume` units
on an average week at maturity (from 200 to 2000), ramps up linearly over `ramp` weeks
(4 to 12) from a launch week spread over the year, with the same noise. The planner's
launch volume is the truth times a random error of up to `--volume-error` (20 % by
default) and the planner's ramp-up is the truth's within 2 weeks: a planner knows
roughly, not exactly.

Printed per method and weeks of history k (0, 4, 8, 13): the weighted mean absolute
percentage error (WMAPE) of the next 13 weeks' forecast against the true expected units
(noise-free), over all families, and the bias (mean signed error over mean truth).

    PYTHONPATH=. .venv/bin/python bench/new_product_accuracy.py [--families 200]
        [--seed 11] [--noise 0.08] [--volume-error 0.2] [--sharp-peaks 0.5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from demand.engine import forecast_baseline
from demand.engine.launch import BLEND_WEEKS, launch_forecast, usable_level

HISTORY = 156
SEASON = 52
HORIZON = 13
HISTORY_POINTS = (0, 4, 8, 13, 26)


def season_shape(rng: np.random.Generator, sharp: bool) -> np.ndarray:
    """A yearly profile with mean 1, indexed by week of the year."""
    weeks = np.arange(SEASON)
    peak = rng.integers(0, SEASON)
    shape = 1 + rng.uniform(0.2, 0.6) * np.cos(2 * np.pi * (weeks - peak) / SEASON)
    if sharp:
        spike = rng.integers(0, SEASON)
        shape[[(spike + d) % SEASON for d in range(3)]] *= rng.uniform(1.3, 1.8)
    return shape / shape.mean()


def family(rng: np.random.Generator, args) -> dict:
    sharp = rng.random() < args.sharp_peaks
    shape = season_shape(rng, sharp)
    total = HISTORY + HORIZON + max(HISTORY_POINTS)
    week_of_year = np.arange(total) % SEASON
    likes = []
    for _ in range(3):
        level = rng.uniform(300, 3000)
        trend = rng.uniform(-0.002, 0.003)
        expected = level * shape[week_of_year] * (1 + trend * np.arange(total))
        likes.append(expected)
    likes = np.array(likes)
    noisy_likes = likes * (1 + args.noise * rng.standard_normal(likes.shape))
    volume = rng.uniform(200, 2000)
    ramp = int(rng.integers(4, 13))
    launch = HISTORY  # the new product launches the week after the likes' history ends
    since = np.arange(total) - launch
    share = np.where(since < 0, 0.0, np.clip((since + 1) / ramp, 0, 1))
    truth = volume * shape[week_of_year] * share
    noisy = truth * (1 + args.noise * rng.standard_normal(total))
    planned_volume = volume * (1 + rng.uniform(-args.volume_error, args.volume_error))
    planned_ramp = int(np.clip(ramp + rng.integers(-2, 3), 1, None))
    return {
        "likes": noisy_likes,
        "truth": truth,
        "sales": np.maximum(noisy, 0.0),
        "launch": launch,
        "volume": planned_volume,
        "ramp": planned_ramp,
    }


def forecasts_at(
    families: list[dict], k: int, blend_weeks: int = BLEND_WEEKS
) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """(forecast, truth) per family for each method, made k weeks after the launch."""
    out: dict[str, list] = {"likes": [], "own": [], "unblended": []}
    end = [f["launch"] + k for f in families]
    # The likes' forecasts, all families at once (3 series each).
    like_history = np.concatenate(
        [f["likes"][:, e - HISTORY : e] for f, e in zip(families, end, strict=True)]
    )
    like_fc = forecast_baseline(like_history, HORIZON, season_length=SEASON).mean
    own_history = np.array(
        [f["sales"][e - HISTORY : e] for f, e in zip(families, end, strict=True)]
    )
    launched = np.arange(HISTORY)[None, :] >= (HISTORY - k)
    own_history = np.where(launched, own_history, np.nan)
    own_fc = forecast_baseline(own_history, HORIZON, season_length=SEASON).mean
    levels = usable_level(like_history)
    for n, (f, e) in enumerate(zip(families, end, strict=True)):
        rows = slice(3 * n, 3 * n + 3)
        truth = f["truth"][e : e + HORIZON]
        for method, weeks in (("likes", k), ("unblended", 0)):
            baseline, *_ = launch_forecast(
                own_fc[n],
                like_fc[rows],
                levels[rows],
                np.ones(3),
                launch_volume=f["volume"],
                weeks_since_launch=np.arange(k, k + HORIZON),
                ramp_weeks=f["ramp"],
                ramp_shape="linear",
                own_history_weeks=weeks,
                blend_weeks=blend_weeks,
            )
            out[method].append((baseline, truth))
        out["own"].append((np.asarray(own_fc[n]), truth))
    return out


def score(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    errors = np.concatenate([fc - truth for fc, truth in pairs])
    truth = np.concatenate([truth for _, truth in pairs])
    return float(np.abs(errors).sum() / truth.sum()), float(errors.sum() / truth.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--noise", type=float, default=0.08)
    parser.add_argument("--volume-error", type=float, default=0.2)
    parser.add_argument("--sharp-peaks", type=float, default=0.5)
    parser.add_argument("--blend-weeks", type=int, default=BLEND_WEEKS)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    families = [family(rng, args) for _ in range(args.families)]
    print(
        f"{args.families} new products, each with 3 like products; next {HORIZON} weeks "
        f"against the true expected units (noise {args.noise:.0%}, planner's volume off by "
        f"up to {args.volume_error:.0%}, ramp-up by up to 2 weeks)"
    )
    print(f"{'weeks of history':>18} {'method':>10} {'WMAPE':>8} {'bias':>8}")
    for k in HISTORY_POINTS:
        results = forecasts_at(families, k, args.blend_weeks)
        for method in ("likes", "own", "unblended"):
            wmape, bias = score(results[method])
            print(f"{k:>18} {method:>10} {wmape:>8.1%} {bias:>+8.1%}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
