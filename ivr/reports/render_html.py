"""A report as one self-contained HTML page, Thai first (pure: the report dict in, a
string out). The same page is the PDF (``ivr.reports.render_pdf``).

Daily: the first page is what a minister reads — each hotline's totals and, for each
queue, calls and service level per half hour and agents needed against staffed; then
a page per hotline (its calls by outcome, probes, every figure per queue, waits,
abandons and the half hours with calls, its menus), the staffing table (agents needed
against staffed, the short half hours marked), and the definitions. Monthly: the
hotlines side by side, their calls and service level per day, then day by day.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from ivr.reports.charts import day_charts, half_hour_charts
from ivr.reports.dates import thai_date
from ivr.reports.html_parts import chart, e, footnotes, page, table, transposed
from ivr.reports.labels import CALLS, FIG, MENU, STAFFING, cell, count, mmss, number, weekday

__all__ = ["daily_html", "monthly_html"]

SUMMARY: list[tuple[str, str, str]] = [
    ("hotline", "สายด่วน", "text"),
    ("calls.arrived", "สายเข้าทั้งหมด", "n"),
    ("calls.self_service", "จบด้วยบริการข้อมูลอัตโนมัติ", "n"),
    ("offered", "สายที่เข้าคิว", "n"),
    ("answered", "รับสาย", "n"),
    ("service_level", "ระดับบริการ", "rate"),
    ("abandoned", "วางสายก่อนได้คุย", "n"),
    ("abandon_rate", "อัตราวางสาย", "rate"),
    ("asa_s", "รอเฉลี่ย (ASA)", "s"),
    ("longest_wait_s", "รอนานที่สุด", "s"),
    ("callbacks_requested", "ขอให้โทรกลับ", "n"),
    ("probes", "ทดสอบโทรเข้า ติด/ทั้งหมด", "text"),
]
HALF_HOURS: list[tuple[str, str, str]] = [
    ("start", "ช่วงเวลา", "text"),
    *[f for f in FIG if f[0] in ("offered", "answered", "service_level", "abandoned")],
    *[f for f in FIG if f[0] in ("abandon_rate", "asa_s", "longest_wait_s", "aht_s")],
    *[f for f in FIG if f[0] in ("callbacks_requested", "no_agent", "max_wait")],
]
DAYS_FIGS = [
    ("offered", "สายที่เข้าคิว", "n"),
    ("service_level", "ระดับบริการ", "rate"),
    ("abandon_rate", "อัตราวางสาย", "rate"),
]


def _generated(report: Mapping[str, Any]) -> str:
    """``สร้างเมื่อ 29 พฤศจิกายน 2569 เวลา 23:05 น.`` (Bangkok time, as the report says)."""
    try:
        at = datetime.datetime.fromisoformat(str(report.get("generated_at")))
    except ValueError:
        return ""
    return f"สร้างเมื่อ {thai_date(at.date())} เวลา {at:%H:%M} น. · "


def _goal(t: Mapping[str, Any]) -> str:
    """``รับสายภายใน 30 วินาที ไม่น้อยกว่า 80% · วางสายภายใน 5 วินาทีไม่นับเป็นวางสาย``."""
    sl = float(t.get("service_level_target", 0.8))
    return (
        f"รับสายภายใน {e(number(t.get('service_level_s', 30)))} วินาที "
        f"ไม่น้อยกว่า {sl * 100:.0f}% · วางสายภายใน {e(number(t.get('short_abandon_s', 5)))} "
        "วินาทีไม่นับเป็นวางสาย"
    )


def _own(targets: Any, defaults: Mapping[str, Any]) -> bool:
    """Whether a queue's (or hotline's) targets differ from the report's defaults."""
    return isinstance(targets, Mapping) and any(
        float(targets.get(k, 0)) != float(defaults.get(k, 0)) for k in defaults
    )


def _targets(report: Mapping[str, Any]) -> str:
    """The header line: the default targets, and a word when some queue has its own."""
    t = report.get("targets", {})
    hotlines = report.get("hotlines", [])
    per = [q.get("targets") for h in hotlines for q in h.get("queues", [])]  # daily
    per += [q for h in hotlines for q in h.get("queue_targets", [])]  # monthly
    note = " (ค่าเริ่มต้น; คิวที่มีเป้าหมายของตัวเองแสดงไว้ที่คิวนั้น)" if any(_own(x, t) for x in per) else ""
    return f"เป้าหมาย: {_goal(t)}{note} · เวลาประเทศไทย"


def _own_targets(report: Mapping[str, Any]) -> str:
    """Monthly: the queues with targets of their own, one line each (none: "")."""
    t = report.get("targets", {})
    lines = [
        f"<li>{e(_hotline_title(h))} · คิว {e(q.get('queue'))}: {_goal(q)}</li>"
        for h in report.get("hotlines", [])
        for q in h.get("queue_targets", [])
        if _own(q, t)
    ]
    return f"<p>คิวที่มีเป้าหมายของตัวเอง:</p><ul>{''.join(lines)}</ul>" if lines else ""


def _queue_targets(q: Mapping[str, Any], defaults: Mapping[str, Any]) -> Mapping[str, Any]:
    """The targets a queue's figures were counted against (the defaults if not said)."""
    t = q.get("targets")
    return t if isinstance(t, Mapping) else defaults


def _hotline_title(h: Mapping[str, Any]) -> str:
    name = h.get("name")
    return f"{h['hotline']} {name}" if name and name != h["hotline"] else str(h["hotline"])


def _summary_row(h: Mapping[str, Any]) -> dict[str, Any]:
    p = h.get("probes") or {}
    probes = f"{count(p.get('ok', 0))}/{count(p.get('count', 0))}" if p.get("count") else "–"
    calls = {f"calls.{k}": v for k, v in (h.get("calls") or {}).items()}
    return {**h.get("totals", {}), **calls, "hotline": _hotline_title(h), "probes": probes}


def _first_page(report: Mapping[str, Any]) -> list[str]:
    hotlines = report.get("hotlines", [])
    out = [
        f"<h1>รายงานสายด่วนประจำวัน <small>{e(report.get('date_th'))}</small></h1>",
        f'<p class="meta">{e(_generated(report))}{_targets(report)}</p>',
        "<h2>ภาพรวมรายสายด่วน</h2>",
        table(SUMMARY, [_summary_row(h) for h in hotlines]),
    ]
    defaults = report.get("targets", {})
    for h in hotlines:
        for q in h.get("queues", []):
            targets = _queue_targets(q, defaults)
            charts = half_hour_charts(q.get("half_hours", []), targets)
            caption = f"{_hotline_title(h)} · คิว {q['queue']}"
            out += [chart(charts[0], caption), chart(charts[3], caption)] if charts else []
    return out


def _probes(p: Mapping[str, Any] | None) -> str:
    if not p or not p.get("count"):
        return "<p>ทดสอบโทรเข้า: ไม่มีการทดสอบในวันนี้</p>"
    return (
        f"<p>ทดสอบโทรเข้าเบอร์ที่ประกาศ {count(p['count'])} ครั้ง: "
        f"ติด {count(p.get('ok'))} · ไม่ติด {count(p.get('failed'))} · "
        f"เวลารับสาย (มัธยฐาน) {mmss(p.get('median_answer_s'))}</p>"
    )


def _queue_detail(q: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    slots = q.get("half_hours", [])
    targets = _queue_targets(q, defaults)
    out = [f"<h3>คิว {e(q['queue'])}</h3>", f'<p class="meta">เป้าหมายของคิว: {_goal(targets)}</p>']
    charts = half_hour_charts(slots, targets)
    if not charts:
        return [*out, "<p>ไม่มีสายเข้าคิวนี้ในวันนี้</p>"]
    out += [chart(c) for c in charts[1:3]]
    busy = [s for s in slots if s.get("offered")]
    out += ["<h3>รายครึ่งชั่วโมง (เฉพาะช่วงที่มีสาย)</h3>", table(HALF_HOURS, busy)]
    return out


def _hotline_detail(h: Mapping[str, Any], targets: Mapping[str, Any]) -> str:
    queues = h.get("queues", [])
    side = [(f"คิว {q['queue']}", q.get("totals", {})) for q in queues]
    out = [
        f"<h2>สายด่วน {e(_hotline_title(h))}</h2>",
        "<h3>สายเข้าแยกตามผล</h3>",
        table(CALLS, [h.get("calls") or {}]),
        _probes(h.get("probes")),
        "<h3>ตัวชี้วัดรายคิว</h3>",
        transposed(FIG, [*side, ("รวมทั้งสายด่วน", h.get("totals", {}))]),
    ]
    for q in queues:
        out += _queue_detail(q, targets)
    if h.get("menus"):
        out += ["<h3>เมนู: หมดเวลาและกดผิด (เสียงที่ทำให้ผู้โทรสับสน)</h3>", table(MENU, h["menus"])]
    return f'<section class="detail">{"".join(out)}</section>'


def _staffing(rows: Sequence[Mapping[str, Any]]) -> str:
    """Agents needed against staffed; the half hours with too few marked."""
    short = {
        i: "short"
        for i, r in enumerate(rows)
        if r.get("needed") is not None and (r.get("staffed") or 0) < r["needed"]
    }
    return (
        '<section class="detail"><h2>อัตรากำลัง: เจ้าหน้าที่ที่ต้องการเทียบกับที่มีจริง</h2>'
        f"<p>ช่วงที่มีเจ้าหน้าที่น้อยกว่าที่ต้องการ {len(short)} ช่วง (แถบสีแดง)</p>"
        f"{table(STAFFING, rows, short)}</section>"
    )


def daily_html(report: Mapping[str, Any]) -> str:
    """The daily report dict (``ivr.reports.build.daily_report``) as an HTML page."""
    targets = report.get("targets", {})
    body = _first_page(report)
    body += [_hotline_detail(h, targets) for h in report.get("hotlines", [])]
    body += [_staffing(report.get("staffing", [])), footnotes(targets)]
    return page(f"รายงานสายด่วนประจำวัน {report.get('date_th', '')}", "\n".join(body))


def _days_table(hotlines: Sequence[Mapping[str, Any]]) -> str:
    """Day by day, each hotline's calls and service level side by side."""
    head = "".join(f'<th colspan="{len(DAYS_FIGS)}">{e(_hotline_title(h))}</th>' for h in hotlines)
    sub = "".join(f"<th>{e(label)}</th>" for _ in hotlines for _, label, _ in DAYS_FIGS)
    by_hotline = [{str(d["date"]): d for d in h.get("days", [])} for h in hotlines]
    dates = sorted({d for days in by_hotline for d in days})
    rows = []
    for d in dates:
        cells = "".join(
            f'<td class="n">{e(cell(kind, days.get(d, {}).get(key)))}</td>'
            for days in by_hotline
            for key, _, kind in DAYS_FIGS
        )
        rows.append(f'<tr><td class="label">{e(weekday(d))} {int(d[-2:])}</td>{cells}</tr>')
    return (
        f'<table><thead><tr><th rowspan="2">วันที่</th>{head}</tr><tr>{sub}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def monthly_html(report: Mapping[str, Any]) -> str:
    """The monthly report dict (``ivr.reports.build.monthly_report``): hotlines side
    by side."""
    hotlines = report.get("hotlines", [])
    side = [(_hotline_title(h), h.get("totals", {})) for h in hotlines]
    body = [
        f"<h1>รายงานสายด่วนประจำเดือน <small>{e(report.get('month_th'))}</small></h1>",
        f'<p class="meta">{e(_generated(report))}{_targets(report)}</p>',
        _own_targets(report),
        "<h2>สายด่วนเทียบกัน</h2>",
        transposed(FIG, side),
        *[chart(c) for c in day_charts(report)],
        '<section class="detail"><h2>รายวัน</h2>',
        _days_table(hotlines),
        "</section>",
        footnotes(report.get("targets", {})),
    ]
    return page(f"รายงานสายด่วนประจำเดือน {report.get('month_th', '')}", "\n".join(body))
