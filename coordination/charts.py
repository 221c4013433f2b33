"""Server-rendered SVG charts: geometry computed here, drawn by templates/_chart.html.

No JavaScript, so charts print, work offline and need no vendored library. Every chart
page also shows the same numbers as a table (the text alternative)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]
    css: str  # a class from tandem.css: s1..s6, capacity, ...
    kind: str = "bar"  # "bar" (stacked with the other bar series) or "line"
    dashed: bool = False
    # Bars stack with the bar series of the same stack; different stacks stand side by
    # side in each category (e.g. recommended load beside accepted load).
    stack: str = ""


@dataclass
class Chart:
    title: str
    categories: list[str]
    series: list[Series]
    width: int = 760
    height: int = 260
    y_label: str = ""
    markers: list[tuple[int, str]] = field(default_factory=list)  # (category index, label)

    # plot area margins
    left: int = 56
    right: int = 16
    top: int = 16
    bottom: int = 40

    def render_data(self) -> dict:
        n = max(len(self.categories), 1)
        plot_w = self.width - self.left - self.right
        plot_h = self.height - self.top - self.bottom
        step = plot_w / n
        bar_series = [s for s in self.series if s.kind == "bar"]
        line_series = [s for s in self.series if s.kind == "line"]
        stacks = list(dict.fromkeys(s.stack for s in bar_series))

        def height(i: int, stack: str) -> float:
            return sum(max(s.values[i] or 0, 0) for s in bar_series if s.stack == stack)

        stacked = [
            max((height(i, k) for k in stacks), default=0) for i in range(len(self.categories))
        ]
        line_max = max((v for s in line_series for v in s.values if v is not None), default=0)
        top_value = nice_ceiling(max([*stacked, line_max, 0]))

        def y(value: float) -> float:
            return (
                self.top + plot_h - (value / top_value) * plot_h if top_value else self.top + plot_h
            )

        bars = []
        bar_width = step * 0.7 / max(len(stacks), 1)
        for i, category in enumerate(self.categories):
            base, x0 = dict.fromkeys(stacks, 0.0), self.left + i * step + step * 0.15
            for s in bar_series:
                value = max(s.values[i] or 0, 0)
                if value <= 0:
                    continue
                y_top = y(base[s.stack] + value)
                bars.append(
                    {
                        "x": round(x0 + stacks.index(s.stack) * bar_width, 1),
                        "y": round(y_top, 1),
                        "width": round(bar_width, 1),
                        "height": round(y(base[s.stack]) - y_top, 1),
                        "css": s.css,
                        "title": f"{category} · {s.label}: {format_number(value)}",
                    }
                )
                base[s.stack] += value
        lines = []
        for s in line_series:
            points = [
                (round(self.left + i * step + step / 2, 1), round(y(v), 1))
                for i, v in enumerate(s.values)
                if v is not None
            ]
            if points:
                lines.append(
                    {
                        "points": " ".join(f"{px},{py}" for px, py in points),
                        "css": s.css,
                        "dashed": s.dashed,
                        "label": s.label,
                        "dots": [
                            {"x": px, "y": py, "title": f"{s.label}: {format_number(v)}"}
                            for (px, py), v in zip(
                                points, [v for v in s.values if v is not None], strict=True
                            )
                        ]
                        if len(points) <= 60
                        else [],
                    }
                )
        ticks = [
            {"y": round(y(top_value * k / 4), 1), "label": format_number(top_value * k / 4)}
            for k in range(5)
        ]
        every = max(1, math.ceil(n / 14))  # at most ~14 x labels
        x_labels = [
            {"x": round(self.left + i * step + step / 2, 1), "label": label}
            for i, label in enumerate(self.categories)
            if i % every == 0
        ]
        markers = [
            {
                "x": round(self.left + i * step + step / 2, 1),
                "label": label,
            }
            for i, label in self.markers
            if 0 <= i < n
        ]
        return {
            "title": self.title,
            "width": self.width,
            "height": self.height,
            "left": self.left,
            "right": self.width - self.right,
            "top": self.top,
            "bottom": self.top + plot_h,
            "bars": bars,
            "lines": lines,
            "ticks": ticks,
            "x_labels": x_labels,
            "markers": markers,
            "legend": [{"label": s.label, "css": s.css, "kind": s.kind} for s in self.series],
            "y_label": self.y_label,
        }


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^k at or above value, so axis ticks are round."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def format_number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == int(value):
        return str(int(value))
    return f"{value:.1f}"
