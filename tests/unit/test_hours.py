"""Business hours: weekly windows, Thai public holidays, exceptions, next opening."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.menus.hours import (
    BusinessHours,
    HolidayRule,
    HoursError,
    Window,
    check_overlaps,
    thai_holiday,
)

BKK = ZoneInfo("Asia/Bangkok")
OFFICE = (Window.parse("08:30-16:30"),)


def office(
    holidays: HolidayRule = "thai",
    closed_dates: frozenset[date] = frozenset(),
    open_dates: tuple[tuple[date, tuple[Window, ...]], ...] = (),
) -> BusinessHours:
    """Monday to Friday 08:30-16:30."""
    return BusinessHours(
        weekly=(OFFICE,) * 5 + ((), ()),
        holidays=holidays,
        closed_dates=closed_dates,
        open_dates=open_dates,
    )


def bkk(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BKK)


def test_window_parse() -> None:
    assert Window.parse("08:30-16:30") == Window(510, 990)
    assert Window.parse(" 8:00 - 12:00 ") == Window(480, 720)
    assert Window.parse("22:00-24:00") == Window(1320, 1440)
    assert str(Window(510, 990)) == "08:30-16:30"


@pytest.mark.parametrize(
    "text", ["16:30-08:30", "08:30-08:30", "8.30-16.30", "25:00-26:00", "08:60-09:00", "x"]
)
def test_window_parse_rejects(text: str) -> None:
    with pytest.raises(HoursError):
        Window.parse(text)


def test_overlaps() -> None:
    check_overlaps((Window.parse("08:00-12:00"), Window.parse("12:00-16:00")))
    with pytest.raises(HoursError, match="overlap"):
        check_overlaps((Window.parse("13:00-16:00"), Window.parse("08:00-13:30")))
    with pytest.raises(HoursError):
        BusinessHours(weekly=((Window(0, 600), Window(500, 700)),) + ((),) * 6)


def test_weekly_windows() -> None:
    h = office(holidays="none")
    # 2026-11-16 is a Monday
    assert not h.is_open(bkk(2026, 11, 16, 8, 29, 59))
    assert h.is_open(bkk(2026, 11, 16, 8, 30))
    assert h.is_open(bkk(2026, 11, 16, 16, 29, 59))
    assert not h.is_open(bkk(2026, 11, 16, 16, 30))  # the end is excluded
    assert h.is_open(bkk(2026, 11, 20, 12))  # Friday
    assert not h.is_open(bkk(2026, 11, 21, 12))  # Saturday
    assert not h.is_open(bkk(2026, 11, 22, 12))  # Sunday


def test_time_zone_conversion() -> None:
    h = office(holidays="none")
    # 02:00 UTC is 09:00 in Bangkok
    assert h.is_open(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    assert not h.is_open(datetime(2026, 11, 16, 10, 0, tzinfo=UTC))  # 17:00 Bangkok
    # a naive datetime is taken as Bangkok time
    assert h.is_open(datetime(2026, 11, 16, 9, 0))


def test_thai_public_holidays() -> None:
    assert thai_holiday(date(2026, 12, 10)) is not None  # Constitution Day
    assert thai_holiday(date(2026, 4, 13)) is not None  # Songkran
    assert thai_holiday(date(2026, 11, 16)) is None
    h = office()
    assert date(2026, 12, 10).weekday() == 3  # a Thursday
    assert not h.is_open(bkk(2026, 12, 10, 10))
    assert h.holiday(date(2026, 12, 10)) == "Constitution Day"
    assert date(2026, 4, 13).weekday() == 0  # a Monday
    assert not h.is_open(bkk(2026, 4, 13, 10))
    assert h.is_open(bkk(2026, 12, 9, 10))
    # without the Thai rule the same days are working days
    assert office(holidays="none").is_open(bkk(2026, 12, 10, 10))
    assert office(holidays="none").holiday(date(2026, 12, 10)) is None


def test_closed_and_open_dates() -> None:
    h = office(
        closed_dates=frozenset({date(2026, 11, 17)}),
        open_dates=(
            (date(2026, 4, 13), OFFICE),  # open on Songkran
            (date(2026, 11, 21), (Window.parse("09:00-12:00"),)),  # a Saturday
        ),
    )
    assert not h.is_open(bkk(2026, 11, 17, 10))
    assert h.is_open(bkk(2026, 4, 13, 10))
    assert h.is_open(bkk(2026, 11, 21, 11, 59))
    assert not h.is_open(bkk(2026, 11, 21, 12, 0))
    assert h.windows_on(date(2026, 11, 17)) == ()


def test_always_open() -> None:
    h = BusinessHours.always()
    assert h.is_open(bkk(2026, 12, 10, 3))
    assert h.next_opening(bkk(2026, 12, 10, 3)) == bkk(2026, 12, 10, 3)


def test_next_opening() -> None:
    h = office()
    # open now: now
    assert h.next_opening(bkk(2026, 11, 16, 9)) == bkk(2026, 11, 16, 9)
    # before opening: the same morning
    assert h.next_opening(bkk(2026, 11, 16, 7)) == bkk(2026, 11, 16, 8, 30)
    # Friday evening: Monday morning
    assert h.next_opening(bkk(2026, 11, 20, 18)) == bkk(2026, 11, 23, 8, 30)
    # Wednesday 9 Dec evening: Thursday 10 Dec is Constitution Day, so Friday 11 Dec
    assert h.next_opening(bkk(2026, 12, 9, 17)) == bkk(2026, 12, 11, 8, 30)
    # Friday 10 Apr: Mon-Wed 13-15 Apr are Songkran, so Thursday 16 Apr
    assert h.next_opening(bkk(2026, 4, 10, 17)) == bkk(2026, 4, 16, 8, 30)
    # the answer is in Bangkok time whatever the input zone
    got = h.next_opening(datetime(2026, 11, 16, 0, 0, tzinfo=UTC))
    assert got == bkk(2026, 11, 16, 8, 30) and got is not None and got.tzinfo == BKK


def test_next_opening_with_lunch_break() -> None:
    split = (Window.parse("08:30-12:00"), Window.parse("13:00-16:30"))
    h = BusinessHours(weekly=(split,) * 5 + ((), ()), holidays="none")
    assert h.next_opening(bkk(2026, 11, 16, 12, 15)) == bkk(2026, 11, 16, 13)


def test_never_open() -> None:
    assert BusinessHours().next_opening(bkk(2026, 1, 1)) is None
