"""Report dates and Erlang C (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.reports.dates import (
    BANGKOK,
    day_bounds,
    month_bounds,
    parse_day,
    parse_month,
    slot_of,
    slot_start,
    thai_date,
    thai_month,
)
from ivr.reports.erlang import agents_needed, erlang_c, service_level, traffic


def test_days_are_read_in_the_buddhist_or_the_common_era() -> None:
    assert parse_day("2569-11-29") == dt.date(2026, 11, 29)
    assert parse_day("2026-11-29") == dt.date(2026, 11, 29)
    assert parse_day(" 2569-1-5 ") == dt.date(2026, 1, 5)
    assert parse_month("2569-11") == (2026, 11)
    assert parse_month("2026-02") == (2026, 2)


@pytest.mark.parametrize("text", ["29/11/2569", "2569-13-01", "2569-02-30", "", "พรุ่งนี้"])
def test_a_day_not_understood_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="2569-11-29"):
        parse_day(text)


@pytest.mark.parametrize("text", ["11/2569", "2569-13", "2569", "2569-11-29"])
def test_a_month_not_understood_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="2569-11"):
        parse_month(text)


def test_dates_are_printed_thai_style() -> None:
    assert thai_date(dt.date(2026, 11, 29)) == "29 พฤศจิกายน 2569"
    assert thai_month(2026, 1) == "มกราคม 2569"


def test_a_bangkok_day_and_its_half_hours() -> None:
    start, end = day_bounds(dt.date(2026, 11, 29))
    # 00:00 Bangkok = 17:00 UTC the day before
    assert start == dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=1)
    # 23:59 Bangkok is still the 29th, slot 47 (23:30); 00:01 is the 30th, slot 0
    assert slot_of(dt.datetime(2026, 11, 29, 16, 59, tzinfo=dt.UTC)) == (dt.date(2026, 11, 29), 47)
    assert slot_of(dt.datetime(2026, 11, 29, 17, 1, tzinfo=dt.UTC)) == (dt.date(2026, 11, 30), 0)
    assert slot_of(dt.datetime(2026, 11, 29, 8, 30, tzinfo=BANGKOK)) == (dt.date(2026, 11, 29), 17)
    assert [slot_start(i) for i in (0, 1, 17, 47)] == ["00:00", "00:30", "08:30", "23:30"]
    first, after = month_bounds(2026, 2)
    assert (after - first).days == 28


def test_erlang_c_against_a_published_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked
    Example" (callcentrehelper.com): 100 calls in 30 minutes, average handling time
    180 s, target 80 % answered within 20 s. The article finds a traffic intensity of
    10 erlangs; with 11 agents a probability of waiting of 68.21 %; and 14 agents as
    the raw number needed (13 give 79.56 %, 14 give 88.84 %), before shrinkage.
    The probabilities of waiting for 12 to 15 agents (0.4494, 0.2853, 0.1741, 0.1020)
    are those of the standard Erlang C table for A = 10 erlangs."""
    assert traffic(100, 180, 1800) == pytest.approx(10.0)
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    for agents, waits in ((12, 0.4494), (13, 0.2853), (14, 0.1741), (15, 0.1020)):
        assert erlang_c(agents, 10.0) == pytest.approx(waits, abs=5e-5)
    assert service_level(13, 100, 180, 1800, 20) == pytest.approx(0.7956, abs=5e-5)
    assert service_level(14, 100, 180, 1800, 20) == pytest.approx(0.8884, abs=5e-5)
    assert agents_needed(100, 180, 1800, 0.8, 20) == 14
    # a maximum occupancy of 85 % asks for at least 10 / 0.85 -> 12 agents: still 14
    assert agents_needed(100, 180, 1800, 0.8, 20, max_occupancy=0.85) == 14


def test_erlang_c_edges() -> None:
    assert agents_needed(0, 180) == 0  # no callers, nobody needed
    assert agents_needed(5, 0) == 0  # no handle time measured: no traffic
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # one agent: C = A
    assert service_level(10, 100, 180, 1800, 20) == 0.0  # as many agents as erlangs
    # one caller of 100 s in half an hour: A = 1/18; one agent answers at once with
    # probability 1 - A, so within 30 s: 1 - A*exp(-(1 - A)*30/100)
    # = 1 - 0.05556 * exp(-0.28333) = 1 - 0.05556 * 0.75325 = 0.9582
    assert service_level(1, 1, 100, 1800, 30) == pytest.approx(0.9582, abs=5e-5)
    assert agents_needed(1, 100) == 1
    with pytest.raises(ValueError, match="between 0 and 1"):
        agents_needed(10, 100, target_sl=1.0)
