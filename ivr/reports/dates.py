"""Dates of the reports: Bangkok days and half hours, Buddhist-era or ISO input,
Thai-style output (pure).

Bangkok keeps UTC+07:00 all year (no summer time), so a fixed offset is exact.
A day is ``00:00`` to ``24:00`` Bangkok time; its half-hour slots are numbered 0
(``00:00``) to 47 (``23:30``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

__all__ = [
    "BANGKOK",
    "DAY_EXAMPLE",
    "MONTH_EXAMPLE",
    "SLOTS",
    "day_bounds",
    "local",
    "month_bounds",
    "parse_day",
    "parse_month",
    "slot_of",
    "slot_start",
    "thai_date",
    "thai_month",
]

BANGKOK = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")
SLOTS = 48  # half hours in a day
BE_OFFSET = 543  # Buddhist era = common era + 543
_BE_FROM = 2400  # a year above this is Buddhist era

MONTHS_TH = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip

_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
DAY_EXAMPLE = "2569-11-29 (พ.ศ.) หรือ 2026-11-29 (ค.ศ.)"
MONTH_EXAMPLE = "2569-11 (พ.ศ.) หรือ 2026-11 (ค.ศ.)"


def _year(text: str) -> int:
    year = int(text)
    return year - BE_OFFSET if year > _BE_FROM else year


def parse_day(text: str) -> dt.date:
    """``"2569-11-29"`` (Buddhist era, year above 2400) or ``"2026-11-29"``;
    ValueError with an example otherwise."""
    m = _DAY.match(text.strip())
    try:
        if m is None:
            raise ValueError(text)
        return dt.date(_year(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(
            f"วันที่ {text!r} อ่านไม่ได้: เขียนแบบ {DAY_EXAMPLE} "
            f"(date {text!r} not understood: write e.g. 2569-11-29 or 2026-11-29)"
        ) from None


def parse_month(text: str) -> tuple[int, int]:
    """``"2569-11"`` or ``"2026-11"`` as (year, month) of the common era; ValueError
    with an example otherwise."""
    m = _MONTH.match(text.strip())
    if m is None or not 1 <= int(m[2]) <= 12 or _year(m[1]) < 1:
        raise ValueError(
            f"เดือน {text!r} อ่านไม่ได้: เขียนแบบ {MONTH_EXAMPLE} "
            f"(month {text!r} not understood: write e.g. 2569-11 or 2026-11)"
        )
    return _year(m[1]), int(m[2])


def thai_date(day: dt.date) -> str:
    """``"29 พฤศจิกายน 2569"``."""
    return f"{day.day} {MONTHS_TH[day.month - 1]} {day.year + BE_OFFSET}"


def thai_month(year: int, month: int) -> str:
    """``"พฤศจิกายน 2569"``."""
    return f"{MONTHS_TH[month - 1]} {year + BE_OFFSET}"


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The Bangkok day ``day`` as [start, end) instants."""
    start = dt.datetime.combine(day, dt.time(), BANGKOK)
    return start, start + dt.timedelta(days=1)


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The Bangkok month as [start, end) instants."""
    start = dt.datetime(year, month, 1, tzinfo=BANGKOK)
    days = calendar.monthrange(year, month)[1]
    return start, start + dt.timedelta(days=days)


def local(at: dt.datetime) -> dt.datetime:
    """``at`` in Bangkok time."""
    return at.astimezone(BANGKOK)


def slot_of(at: dt.datetime) -> tuple[dt.date, int]:
    """The Bangkok day of ``at`` and its half-hour slot (0 = 00:00 … 47 = 23:30)."""
    t = at.astimezone(BANGKOK)
    return t.date(), t.hour * 2 + t.minute // 30


def slot_start(slot: int) -> str:
    """``"HH:MM"`` at which slot ``slot`` starts."""
    return f"{slot // 2:02d}:{30 * (slot % 2):02d}"
