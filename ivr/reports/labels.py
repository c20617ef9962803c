"""What the report's figures are called and how they are written, shared by the CSV,
HTML and PDF renderers: Thai first, the JSON field name in brackets (the same names as
``GET /api/reports/...``), percentages, times in mm:ss.

The definitions themselves are in the README, "Reports: definitions", and in
``ivr.reports.figures``; ``FOOTNOTES`` is their short form printed under a report."""

from __future__ import annotations

import datetime
from typing import Any

__all__ = [
    "CALLS",
    "FIG",
    "FOOTNOTES",
    "MENU",
    "PROBES",
    "STAFFING",
    "cell",
    "count",
    "mmss",
    "number",
    "percent",
    "weekday",
]

# A figure (FIG in the report dict): key, Thai label, kind of value
# ("n" a count, "rate" 0..1, "s" seconds)
FIG: list[tuple[str, str, str]] = [
    ("offered", "สายที่เข้าคิว", "n"),
    ("answered", "รับสาย", "n"),
    ("answered_within_sl", "รับสายภายในเป้า", "n"),
    ("abandoned", "วางสายก่อนได้คุย", "n"),
    ("short_abandoned", "วางสายเร็ว (ไม่นับ)", "n"),
    ("service_level", "ระดับบริการ", "rate"),
    ("abandon_rate", "อัตราวางสาย", "rate"),
    ("asa_s", "รอเฉลี่ยก่อนรับ (ASA)", "s"),
    ("longest_wait_s", "รอนานที่สุด", "s"),
    ("aht_s", "เวลาสนทนาเฉลี่ย (AHT)", "s"),
    ("callbacks_requested", "ขอให้โทรกลับ", "n"),
    ("callbacks_connected", "โทรกลับได้คุย", "n"),
    ("callbacks_failed", "โทรกลับไม่สำเร็จ", "n"),
    ("callback_time_s", "เวลาจนโทรกลับ (มัธยฐาน)", "s"),
    ("no_agent", "พบว่าไม่มีเจ้าหน้าที่", "n"),
    ("max_wait", "ครบเวลารอสูงสุด", "n"),
]

# the hotline's calls by what became of them ("calls" in the report dict)
CALLS: list[tuple[str, str, str]] = [
    ("arrived", "สายเข้าทั้งหมด", "n"),
    ("self_service", "จบด้วยบริการข้อมูลอัตโนมัติ", "n"),
    ("queued", "เข้าคิวรอเจ้าหน้าที่", "n"),
    ("transferred", "โอนสาย", "n"),
    ("closed", "นอกเวลาทำการหรือปิด", "n"),
    ("hangup_in_menu", "วางสายในเมนู", "n"),
    ("error", "ขัดข้อง", "n"),
]

MENU: list[tuple[str, str, str]] = [
    ("menu", "เมนู", "text"),
    ("visits", "จำนวนครั้งที่เข้า", "n"),
    ("timeouts", "ไม่กดปุ่ม (หมดเวลา)", "n"),
    ("wrong_keys", "กดปุ่มผิด", "n"),
]

PROBES: list[tuple[str, str, str]] = [
    ("count", "ทดสอบโทรเข้า", "n"),
    ("ok", "ติด", "n"),
    ("failed", "ไม่ติด", "n"),
    ("median_answer_s", "เวลารับสาย (มัธยฐาน)", "s"),
]

STAFFING: list[tuple[str, str, str]] = [
    ("hotline", "สายด่วน", "text"),
    ("queue", "คิว", "text"),
    ("start", "ช่วงเวลา", "text"),
    ("arrivals", "สายเข้า", "n"),
    ("aht_s", "เวลาสนทนาเฉลี่ย (AHT)", "s"),
    ("needed", "เจ้าหน้าที่ที่ต้องการ", "n"),
    ("staffed", "เจ้าหน้าที่ที่มีจริง", "n1"),
]

FOOTNOTES: list[tuple[str, str]] = [
    ("สายที่เข้าคิว", "ผู้โทรที่เข้าคิวรอเจ้าหน้าที่ ไม่นับสายทดสอบ นับตามช่วงครึ่งชั่วโมงที่โทรเข้า"),
    (
        "ระดับบริการ",
        "สายที่รับภายในเป้า ÷ (สายที่เข้าคิว − สายที่วางเร็ว); "
        "วางสายเร็ว = วางก่อนได้คุยภายในเวลาที่กำหนด ไม่นับเป็นวางสาย",
    ),
    ("อัตราวางสาย", "สายที่วางก่อนได้คุย ÷ (สายที่เข้าคิว − สายที่วางเร็ว)"),
    ("ASA", "เวลารอเฉลี่ยของสายที่ได้คุย; รอนานที่สุด นับทั้งสายที่ได้คุยและที่วางสาย"),
    ("AHT", "เวลาสนทนาเฉลี่ยของสายที่ได้คุย"),
    (
        "เจ้าหน้าที่ที่ต้องการ",
        "คำนวณด้วย Erlang C จากสายเข้าและเวลาสนทนาของช่วงนั้น ให้ถึงเป้าระดับบริการของคิว; "
        "เจ้าหน้าที่ที่มีจริง = ค่าเฉลี่ยของผู้รับสายได้ในช่วงนั้น (นับทุกนาที)",
    ),
]

_WEEKDAYS = ["จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา."]


def count(value: Any) -> str:
    """A count with thousands separators; an absent figure is a dash."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def percent(value: Any) -> str:
    """0..1 as "81.3%"; an absent rate (nothing to divide by) is a dash."""
    return "–" if value is None else f"{float(value) * 100:.1f}%"


def mmss(value: Any) -> str:
    """Seconds as m:ss ("1:05"), hours as h:mm:ss; an absent time is a dash."""
    if value is None:
        return "–"
    total = round(float(value))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def number(value: Any) -> str:
    """A setting as written ("30", "2.5"), not as the float it was read into ("30.0")."""
    return f"{float(value):g}"


def cell(kind: str, value: Any) -> str:
    """A value written for a person, by the kind in the label tables."""
    if kind == "rate":
        return percent(value)
    if kind == "s":
        return mmss(value)
    if kind in ("n", "n1"):
        return count(value)
    return "–" if value is None else str(value)


def weekday(iso: str) -> str:
    """The Thai weekday's short name ("ส.") of an ISO date, so weekends show."""
    return _WEEKDAYS[datetime.date.fromisoformat(iso).weekday()]
