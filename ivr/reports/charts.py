"""The report's charts as SVG drawn by hand (pure): bars and lines over half hours or
days, a left axis (calls, seconds as m:ss, or a rate as %) and an optional right axis
for a rate.

Every word of a chart stays OUTSIDE its SVG: WeasyPrint draws SVG text one character
at a time, so Thai vowels and tone marks would be drawn apart from their consonants
(dotted circles). A ``Chart`` is therefore the SVG (digits and times only) plus its
Thai title, legend and axis note, which ``ivr.reports.render_html`` writes as HTML
around it, where Pango shapes Thai properly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from ivr.reports.labels import mmss, number

__all__ = ["Chart", "Series", "day_charts", "half_hour_charts", "plot"]

W, H = 1000, 250
LEFT, RIGHT, TOP, BOTTOM = 62, 58, 12, 30
BLUE, GREEN, ORANGE, RED, PINK, TEAL, INK = (
    "#1f5fa8", "#2e8b57", "#e07b00", "#c0392b", "#f1a9a0", "#2a9d8f", "#333333",
)  # fmt: skip
PALETTE = ["#1f5fa8", "#e07b00", "#2a9d8f", "#8e44ad", "#c0392b", "#7f8c8d"]
_SECOND_STEPS = [5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200]


@dataclass(frozen=True)
class Series:
    """One thing drawn: bars (side by side with the other bar series) or a line."""

    label: str
    values: Sequence[float | None]
    color: str
    bar: bool = True
    right: bool = False  # on the right axis (a rate)
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    """The SVG and the words that go around it (Thai, written as HTML)."""

    title: str
    svg: str
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # color, label, look
    note: str = ""


def _scale(vmax: float, kind: str) -> tuple[float, float]:
    """(top, step) of an axis: about five steps of a round size, at least one."""
    if kind == "rate":
        return 1.0, 0.25
    if kind == "s":
        steps = [float(s) for s in _SECOND_STEPS]
    else:
        steps = [m * 10.0**e for e in range(0, 7) for m in (1, 2, 5)]
    step = next((s for s in steps if vmax / s <= 5), steps[-1])
    return max(step, step * math.ceil(vmax / step)), step


def _tick(kind: str, value: float) -> str:
    if kind == "rate":
        return f"{value * 100:.0f}%"
    if kind == "s":
        return mmss(value)
    return f"{value:g}"


def _axis(kind: str, top: float, step: float, x: float, anchor: str, grid: bool) -> list[str]:
    out = []
    plot_h = H - TOP - BOTTOM
    for i in range(round(top / step) + 1):
        v = i * step
        y = TOP + plot_h * (1 - v / top)
        if grid:
            out.append(
                f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" '
                'stroke="#dddddd" stroke-width="1"/>'
            )
        out.append(
            f'<text x="{x}" y="{y + 5:.1f}" text-anchor="{anchor}" font-size="15" '
            f'fill="#555555">{escape(_tick(kind, v))}</text>'
        )
    return out


def _bars(series: Sequence[Series], n: int, ymap: Any) -> list[str]:
    """Rects of the bar series, side by side in each slot."""
    bars = [s for s in series if s.bar]
    if not bars:
        return []
    slot = (W - LEFT - RIGHT) / n
    width = slot * 0.8 / len(bars)
    out = []
    for b, s in enumerate(bars):
        for i, v in enumerate(s.values):
            if not v:
                continue
            x = LEFT + i * slot + slot * 0.1 + b * width
            y = ymap(s, v)
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width - 0.5, 0.5):.1f}" '
                f'height="{H - BOTTOM - y:.1f}" fill="{s.color}"/>'
            )
    return out


def _line(s: Series, n: int, ymap: Any) -> list[str]:
    """A line broken where a value is absent, with a dot on every value."""
    slot = (W - LEFT - RIGHT) / n
    dash = ' stroke-dasharray="6 4"' if s.dashed else ""
    out: list[str] = []
    run: list[tuple[float, float]] = []
    for i, v in enumerate([*s.values, None]):
        if v is not None:
            run.append((LEFT + (i + 0.5) * slot, ymap(s, v)))
            continue
        if len(run) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{s.color}" '
                f'stroke-width="2"{dash}/>'
            )
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{s.color}"/>' for x, y in run]
        run = []
    return out


def plot(
    x_labels: Sequence[str],
    series: Sequence[Series],
    left: str = "n",
    target: float | None = None,
    tick_every: int = 1,
) -> str:
    """An SVG of the series over ``x_labels``: ``left`` is the left axis' kind ("n"
    counts, "s" seconds, "rate" 0..1); series with ``right`` use a 0..100% right axis,
    on which ``target`` (0..1) is drawn as a dashed line."""
    n = max(len(x_labels), 1)
    lmax = max((v or 0 for s in series if not s.right for v in s.values), default=0)
    ltop, lstep = _scale(float(lmax), left)
    has_right = any(s.right for s in series)
    plot_h = H - TOP - BOTTOM

    def ymap(s: Series, v: float) -> float:
        top = 1.0 if s.right else ltop
        return TOP + plot_h * (1 - min(float(v), top) / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
        f'height="{H}" font-family="Laksaman, sans-serif">',
        *_axis(left, ltop, lstep, LEFT - 6, "end", grid=True),
    ]
    if has_right:
        parts += _axis("rate", 1.0, 0.25, W - RIGHT + 6, "start", grid=False)
    parts += _bars(series, n, ymap)
    if target is not None:
        y = TOP + plot_h * (1 - target)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="{INK}" '
            'stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
    for s in series:
        if not s.bar:
            parts += _line(s, n, ymap)
    slot = (W - LEFT - RIGHT) / n
    parts += [
        f'<text x="{LEFT + (i + 0.5) * slot:.1f}" y="{H - 9}" text-anchor="middle" '
        f'font-size="15" fill="#555555">{escape(label)}</text>'
        for i, label in enumerate(x_labels)
        if i % tick_every == 0
    ]
    parts.append(
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" '
        f'stroke="{INK}" stroke-width="1"/></svg>'
    )
    return "\n".join(parts)


def _legend(series: Sequence[Series]) -> list[tuple[str, str, str]]:
    return [
        (s.color, s.label, "bar" if s.bar else "dashed" if s.dashed else "line") for s in series
    ]


def _window(half_hours: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The slots from the first whole hour with anything in it to the last, so a
    day's chart is as wide as the day's work; nothing at all gives no slots."""
    busy = [
        i
        for i, h in enumerate(half_hours)
        if h.get("offered") or h.get("staffed") or h.get("needed")
    ]
    if not busy:
        return []
    first, last = busy[0] - busy[0] % 2, busy[-1] + 1 + (busy[-1] + 1) % 2
    return list(half_hours[first : last + 1])


def half_hour_charts(
    half_hours: Sequence[Mapping[str, Any]], targets: Mapping[str, Any]
) -> list[Chart]:
    """A queue's day in four charts: calls and service level, waits, abandons,
    agents needed against agents staffed."""
    slots = _window(half_hours)
    if not slots:
        return []
    xs = [str(h["start"]) if str(h["start"]).endswith(":00") else "" for h in slots]

    def col(key: str) -> list[float | None]:
        return [h.get(key) for h in slots]

    sl = float(targets.get("service_level_target", 0.8))
    sl_s = number(targets.get("service_level_s", 30))
    calls = [
        Series("สายที่เข้าคิว", col("offered"), BLUE),
        Series("รับสาย", col("answered"), GREEN),
        Series("ระดับบริการ (แกนขวา)", col("service_level"), ORANGE, bar=False, right=True),
    ]
    waits = [
        Series("รอเฉลี่ยก่อนรับ (ASA)", col("asa_s"), BLUE),
        Series("รอนานที่สุด", col("longest_wait_s"), RED, bar=False),
    ]
    abandons = [
        Series("วางสายก่อนได้คุย", col("abandoned"), RED),
        Series("วางสายเร็ว (ไม่นับ)", col("short_abandoned"), PINK),
        Series("อัตราวางสาย (แกนขวา)", col("abandon_rate"), INK, bar=False, right=True),
    ]
    staff = [
        Series("เจ้าหน้าที่ที่มีจริง", col("staffed"), TEAL),
        Series("เจ้าหน้าที่ที่ต้องการ (Erlang C)", col("needed"), RED, bar=False),
    ]
    target_key = (INK, f"เป้าหมาย {sl * 100:.0f}% ภายใน {sl_s} วินาที", "dashed")
    return [
        Chart(
            "สายที่เข้าคิวและระดับบริการ รายครึ่งชั่วโมง",
            plot(xs, calls, "n", target=sl),
            [*_legend(calls), target_key],
            "แกนซ้าย: จำนวนสาย · แกนขวา: ร้อยละ",
        ),
        Chart("เวลารอ (นาที:วินาที)", plot(xs, waits, "s"), _legend(waits)),
        Chart(
            "การวางสายก่อนได้คุย",
            plot(xs, abandons, "n"),
            _legend(abandons),
            "แกนซ้าย: จำนวนสาย · แกนขวา: ร้อยละ",
        ),
        Chart(
            "เจ้าหน้าที่ที่ต้องการเทียบกับที่มีจริง",
            plot(xs, staff, "n"),
            _legend(staff),
            "แกนซ้าย: จำนวนเจ้าหน้าที่",
        ),
    ]


def day_charts(report: Mapping[str, Any]) -> list[Chart]:
    """The month's hotlines side by side: calls per day, service level per day."""
    hotlines = list(report.get("hotlines", []))
    if not hotlines:
        return []
    dates = [str(d["date"]) for d in hotlines[0].get("days", [])]
    xs = [d[-2:].lstrip("0") for d in dates]

    def per_day(h: Mapping[str, Any], key: str) -> list[float | None]:
        by_date = {str(d["date"]): d.get(key) for d in h.get("days", [])}
        return [by_date.get(d) for d in dates]

    def name(h: Mapping[str, Any]) -> str:
        return f"{h['hotline']} {h.get('name') or ''}".strip()

    def color(i: int) -> str:
        return PALETTE[i % len(PALETTE)]

    offered = [Series(name(h), per_day(h, "offered"), color(i)) for i, h in enumerate(hotlines)]
    levels = [
        Series(name(h), per_day(h, "service_level"), color(i), bar=False)
        for i, h in enumerate(hotlines)
    ]
    sl = float(report.get("targets", {}).get("service_level_target", 0.8))
    return [
        Chart(
            "สายที่เข้าคิวรายวัน แยกตามสายด่วน",
            plot(xs, offered, "n"),
            _legend(offered),
            "แกนซ้าย: จำนวนสาย · แกนนอน: วันที่",
        ),
        Chart(
            "ระดับบริการรายวัน แยกตามสายด่วน",
            plot(xs, levels, "rate", target=sl),
            [*_legend(levels), (INK, f"เป้าหมาย {sl * 100:.0f}%", "dashed")],
            "แกนซ้าย: ร้อยละ · แกนนอน: วันที่",
        ),
    ]
