"""Bar charts as SVG geometry, computed on the server so pages need no script to show them.

A template draws the bars (``templates/_chart.html``), so every label passes through
autoescaping like any other text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["Bar", "BarChart", "bar_chart"]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    first: date | None
    last: date | None


def bar_chart(per_day: list[tuple[date, int]], *, width: int = 600, height: int = 80) -> BarChart:
    """One bar per day, heights scaled to the busiest day; a day with none keeps its slot."""
    peak = max((n for _, n in per_day), default=0)
    slot = width / max(len(per_day), 1)
    gap = 1 if slot > 3 else 0
    bars = []
    for index, (day, count) in enumerate(per_day):
        bar_height = (height - 1) * count / peak if peak else 0
        bars.append(Bar(round(index * slot, 2), round(height - bar_height, 2), round(slot - gap, 2),
                        round(bar_height, 2), day, count))  # fmt: skip
    return BarChart(
        width=width,
        height=height,
        bars=bars,
        peak=peak,
        first=per_day[0][0] if per_day else None,
        last=per_day[-1][0] if per_day else None,
    )
