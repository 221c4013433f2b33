"""The sales channels a recommendation's baseline is the sum of, for its explanation.

A product whose sales history names channels is forecast per channel, and its baseline
is the sum of its channels' (demand.ChannelForecast, same week). The waterfall and the
sentence say so ("baseline 100 = retail 60 + online 40"), and a promotion of one channel
names its channel in the uplift step ("Promotion uplift (Retail)") and in the dip after
it ("Dip after promotion (Retail)")."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from demand.models import Channel
from demand.selectors.forecasts import channel_forecasts
from production.engine.explain import NEGLIGIBLE
from production.models import QuotaRecommendation

# The channels' baselines are stored rounded (3 decimals each), the product's too: their
# sum may differ from the recommendation's baseline by that much. A larger gap means the
# forecast was made again after the plan: its channels no longer explain the plan's
# baseline, and the explanation leaves them out rather than show figures that disagree.
AGREE = 0.05

# How the baseline's parts name a channel ("all": sales not attributed to a channel).
PART_NAMES = {Channel.ALL: "not attributed"}


@dataclass(frozen=True)
class ChannelSplit:
    """A recommendation's baseline by channel (raw units, in the channels' order), the
    channels whose own promotion lifts the week and those whose own promotion's dip
    lowers it (empty: none, or every channel)."""

    parts: tuple[tuple[str, float], ...]
    promoted: tuple[str, ...]
    dipped: tuple[str, ...] = ()

    def baseline_text(self, total: int) -> str:
        """The channels' baselines in whole units that add up to `total` (the baseline as
        the explanation shows it), e.g. "retail 60 + online 40"."""
        units = _adding_up([value for _, value in self.parts], total)
        return " + ".join(
            f"{name} {value:,}" for (name, _), value in zip(self.parts, units, strict=True)
        )

    def uplift_text(self) -> str:
        """The promoted channels, e.g. "Retail", or "" when the uplift is every channel's."""
        return ", ".join(self.promoted)

    def dip_text(self) -> str:
        """The channels in a dip, e.g. "Retail", or "" when the dip is every channel's."""
        return ", ".join(self.dipped)


def _adding_up(values: list[float], total: int) -> list[int]:
    """Whole units, each the floor or the ceiling of its value, adding up to `total`
    (largest remainders first)."""
    floors = [math.floor(value) for value in values]
    rest = total - sum(floors)
    by_remainder = sorted(range(len(values)), key=lambda i: floors[i] - values[i])
    for i in by_remainder[: max(0, min(rest, len(values)))]:
        floors[i] += 1
    return floors


def channel_splits(
    recs: Iterable[QuotaRecommendation],
) -> dict[tuple[int, dt.date], ChannelSplit]:
    """{(product id, covers week): ChannelSplit} of the recommendations whose product is
    forecast per channel in their covers week, in one query."""
    recs = list(recs)
    if not recs:
        return {}
    grouped: dict[tuple[int, dt.date], list] = {}
    for forecast in channel_forecasts(
        product_ids={rec.product_id for rec in recs}, weeks={rec.covers_week for rec in recs}
    ):
        grouped.setdefault((forecast.product_id, forecast.week), []).append(forecast)
    splits = {}
    for rec in recs:
        key = (rec.product_id, rec.covers_week)
        found = grouped.get(key)
        if not found or abs(sum(f.baseline for f in found) - rec.baseline) > AGREE:
            continue
        splits[key] = ChannelSplit(
            parts=tuple(
                (PART_NAMES.get(f.channel, Channel(f.channel).label.lower()), f.baseline)
                for f in found
            ),
            promoted=_some_channels(found, rec.promotion_uplift, "promotion_uplift"),
            dipped=_some_channels(found, -rec.promotion_dip, "promotion_dip"),
        )
    return splits


def _some_channels(found: list, total: float, term: str) -> tuple[str, ...]:
    """The labels of the channels whose `term` is not negligible, when the
    recommendation's is and only some channels have it (else ())."""
    having = [f for f in found if abs(getattr(f, term)) >= NEGLIGIBLE]
    if total >= NEGLIGIBLE and 0 < len(having) < len(found):
        return tuple(Channel(f.channel).label for f in having)
    return ()


def channel_split(rec: QuotaRecommendation) -> ChannelSplit | None:
    """One recommendation's split (None: its product is not forecast per channel), read
    once per recommendation object: the waterfall and the sentence share it."""
    if not hasattr(rec, "_channel_split"):
        rec._channel_split = channel_splits([rec]).get((rec.product_id, rec.covers_week))
    return rec._channel_split
