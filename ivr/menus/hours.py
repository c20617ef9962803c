"""Business hours of a hotline: weekly windows, Thai public holidays, exceptions.

Pure logic, no I/O. A hotline is open at a moment when, in its time zone
(``Asia/Bangkok`` unless the file says otherwise):

1. ``always_open`` is set; or
2. the date is not in ``closed_dates``, and
3. the date is in ``open_dates`` (then that date's hours apply, even on a
   public holiday or a weekend), or it is not a public holiday (when
   ``holidays: thai``) and the time falls in one of the weekday's windows.

A window is ``HH:MM-HH:MM``, start included, end excluded, the end after the
start (``24:00`` may end a window). A window never crosses midnight: write
``22:00-24:00`` on one day and ``00:00-06:00`` on the next.

Thai public holidays come from the ``holidays`` package
(``holidays.country_holidays("TH", years=...)``), which follows the
cabinet's yearly announcements, including substitution days.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays as holidays_pkg

BANGKOK = "Asia/Bangkok"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HolidayRule = Literal["thai", "none"]

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_SEARCH_DAYS = 400  # next_opening looks this far ahead before giving up


class HoursError(ValueError):
    """A window or a set of windows that cannot be right (bad syntax, overlap)."""


def now_in_bangkok() -> datetime:
    """The current time, aware, in Thailand's time zone."""
    return datetime.now(ZoneInfo(BANGKOK))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, order=True)
class Window:
    """Open from ``start`` to ``end``, in minutes after midnight (end excluded)."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Window:
        """Parse ``HH:MM-HH:MM``; raise :class:`HoursError` when it is not a valid window."""
        m = _WINDOW_RE.match(text)
        if not m:
            raise HoursError(f"`{text}` is not a window like `08:30-16:30`")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59:
            raise HoursError(f"`{text}`: the start is not a time of day")
        if h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise HoursError(f"`{text}`: the end is not a time of day (24:00 is the latest)")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise HoursError(f"`{text}`: the end must be after the start")
        return cls(start, end)

    def contains(self, minute: float) -> bool:
        return self.start <= minute < self.end

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def check_overlaps(windows: tuple[Window, ...]) -> None:
    """Raise :class:`HoursError` when two windows of one day overlap."""
    ordered = sorted(windows)
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise HoursError(f"windows {a} and {b} overlap")


@lru_cache(maxsize=64)
def _thai_holidays(year: int) -> dict[date, str]:
    return dict(holidays_pkg.country_holidays("TH", years=year).items())


def thai_holiday(day: date) -> str | None:
    """The name of the Thai public holiday on ``day``, or ``None``."""
    return _thai_holidays(day.year).get(day)


def _empty_week() -> tuple[tuple[Window, ...], ...]:
    return ((),) * 7


@dataclass(frozen=True)
class BusinessHours:
    """When a hotline answers with its menu; outside these hours it plays its closed prompt."""

    weekly: tuple[tuple[Window, ...], ...] = field(default_factory=_empty_week)  # Monday first
    tz: str = BANGKOK
    holidays: HolidayRule = "thai"
    closed_dates: frozenset[date] = frozenset()
    open_dates: tuple[tuple[date, tuple[Window, ...]], ...] = ()
    always_open: bool = False

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise HoursError("weekly hours need one entry per day, Monday first")
        for windows in self.weekly:
            check_overlaps(windows)
        for _day, windows in self.open_dates:
            check_overlaps(windows)

    @classmethod
    def always(cls) -> BusinessHours:
        return cls(always_open=True)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def local(self, dt: datetime) -> datetime:
        """``dt`` in the hotline's time zone; a naive ``dt`` is taken as already local."""
        if dt.tzinfo is None:
            return dt.replace(tzinfo=self.zone)
        return dt.astimezone(self.zone)

    def holiday(self, day: date) -> str | None:
        """The public holiday on ``day`` (when the hotline observes them), else ``None``."""
        if self.holidays != "thai":
            return None
        return thai_holiday(day)

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The opening windows of a (local) date, after holidays and exceptions."""
        if day in self.closed_dates:
            return ()
        for open_day, windows in self.open_dates:
            if open_day == day:
                return windows
        if self.holiday(day) is not None:
            return ()
        return self.weekly[day.weekday()]

    def is_open(self, dt: datetime) -> bool:
        if self.always_open:
            return True
        local = self.local(dt)
        minute = local.hour * 60 + local.minute + local.second / 60
        return any(w.contains(minute) for w in self.windows_on(local.date()))

    def next_opening(self, dt: datetime) -> datetime | None:
        """The first moment at or after ``dt`` when the hotline is open (``dt`` itself
        when it is open now), in the hotline's time zone; ``None`` when it does not
        open in the next 400 days."""
        local = self.local(dt)
        if self.is_open(local):
            return local
        first = local.date()
        for n in range(_SEARCH_DAYS):
            day = first + timedelta(days=n)
            for w in sorted(self.windows_on(day)):
                start = datetime.combine(day, time(w.start // 60, w.start % 60), self.zone)
                if start >= local:
                    return start
        return None
