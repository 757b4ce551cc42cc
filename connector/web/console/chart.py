"""The dashboard's chart, drawn on the server as SVG: no script, no CDN, nothing inline but geometry.

Presentation only: ``reports.status_history`` counts; this lays the counts out as stacked bars,
one per day, a segment per status. Colours come from classes in ``console.css`` (the page's
Content-Security-Policy allows no inline styles), and every bar carries a ``<title>`` with its
numbers in words, so the chart never relies on colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WIDTH = 640
HEIGHT = 180
LEFT = 40
BOTTOM = 22
TOP = 8


@dataclass(frozen=True, slots=True)
class Segment:
    status: str
    count: int
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    day: str
    x: float
    width: float
    total: int
    segments: list[Segment]
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    #: (y, label) for the horizontal guide lines
    ticks: list[tuple[float, str]]
    #: (x, label) for the dates under the bars
    days: list[tuple[float, str]]
    statuses: list[str] = field(default_factory=list)
    empty: bool = False


def _nice(value: int) -> int:
    """A round top for the scale (1, 2, 5 × 10^n) at or above ``value``."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def stacked(series: dict[str, Any] | None, statuses: list[str]) -> Chart:
    """Stacked bars for one connection's ``{"days": [...], "counts": [{status: n}, ...]}``."""
    days: list[str] = (series or {}).get("days", [])
    counts: list[dict[str, int]] = (series or {}).get("counts", [])
    totals = [sum(max(c.get(s, 0), 0) for s in statuses) for c in counts]
    top = _nice(max(totals, default=0) or 1)
    plot_w, plot_h = WIDTH - LEFT - 4, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    bars = []
    for i, (day, c, total) in enumerate(zip(days, counts, totals, strict=True)):
        x = LEFT + i * slot + slot * 0.15
        y = TOP + plot_h
        segments = []
        for status in statuses:
            n = max(c.get(status, 0), 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            segments.append(Segment(status, n, round(y, 2), round(h, 2)))
        words = ", ".join(f"{s.count} {s.status}" for s in segments) or "no invoices"
        bars.append(Bar(day, round(x, 2), round(slot * 0.7, 2), total, segments, f"{day}: {words}"))
    ticks = [(round(TOP + plot_h - plot_h * f, 2), str(int(top * f))) for f in (0, 0.5, 1)]
    labels = (
        [(bars[i].x + bars[i].width / 2, bars[i].day[5:]) for i in (0, len(bars) // 2, len(bars) - 1)] if bars else []
    )
    present = [s for s in statuses if any(seg.status == s for bar in bars for seg in bar.segments)]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, present, empty=not any(totals))
