"""The report's figures on a small hand-made history; every right answer is worked
out by hand in the comments (Bangkok day 2026-11-29, hotline 1111)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ivr.queues.figures import Targets
from ivr.reports.dates import BANGKOK
from ivr.reports.figures import daily_figures, monthly_figures
from ivr.reports.rows import CallbackRow, CallRow, History, HotlineInfo, ProbeRow, StaffingRow

DAY = dt.date(2026, 11, 29)
DEFAULT = Targets(service_level_s=30, service_level_target=0.8, short_abandon_s=5)
TAX = Targets(service_level_s=60, service_level_target=0.8, short_abandon_s=5)
HOTLINES = {"1111": HotlineInfo("สายด่วนทดสอบ", ("complaint", "tax"))}


def at(hh: int, mm: int, ss: int = 0, day: int = 29) -> dt.datetime:
    return dt.datetime(2026, 11, day, hh, mm, ss, tzinfo=BANGKOK)


def q(uid: str, when: dt.datetime, outcome: str, wait: float | None, talk: float | None = None,
      queue: str = "complaint", **kw: Any) -> CallRow:  # fmt: skip
    return CallRow(uid, kw.pop("hotline", "1111"), when, queue, outcome, wait, talk, **kw)


CALLS = (
    q("a", at(8, 5), "answered", 10, 100),  # within 30 s
    q("b", at(8, 10), "answered", 40, 200),  # answered, not within 30 s
    q("c", at(8, 20), "abandoned", 3),  # short abandon (3 < 5)
    q("d", at(8, 29, 59), "abandoned", 50, rule="max-wait"),  # abandoned, last second of 08:00
    q("e", at(8, 30), "answered", 30, None),  # within (30 <= 30), slot 08:30, talk unknown
    q("f", at(23, 59), "answered", 0, 60),  # still the 29th: slot 23:30
    q("g", at(0, 1, day=30), "answered", 1, 10),  # the 30th: not in the day
    q("h", at(23, 59, day=28), "answered", 1, 10),  # the 28th: not in the day
    q("i", at(9, 0), "answered", 1, 10, probe=True),  # a probe: never counts
    q("m", at(10, 15), "queue", None, rule="no-agent"),  # offered, took a callback
    q("n", at(0, 0), "answered", 5, 20, hotline=None),  # no hotline: its queue's hotline
    q("t", at(14, 0), "answered", 45, 30, queue="tax"),  # within tax's 60 s
    q("u", at(14, 5), "answered", 1, 1, queue="other", hotline=None),  # nobody's queue
    CallRow("j", "1111", at(10, 0), None, "goodbye", self_service=True,
            menu_events={"visits": {"main": 1}}),
    CallRow("k", "1111", at(10, 5), None, "hangup",
            menu_events={"visits": {"main": 2}, "timeouts": {"main": 1}, "invalid": {"main": 2}}),
    CallRow("l", "1111", at(10, 10), None, "transfer",
            menu_events={"visits": {"main": 1, "tax": 1}, "invalid": {"tax": 1}}),
)  # fmt: skip
CALLBACKS = (
    CallbackRow("cb1", "complaint", "1111", at(10, 15), "connected", at(10, 25)),  # 600 s
    CallbackRow("cb2", "complaint", "1111", at(11, 0), "failed"),
    CallbackRow("cb3", "complaint", "1111", at(12, 0), "connected", at(12, 2)),  # 120 s
    CallbackRow("cb4", "complaint", "1111", at(9, 0, day=30), "connected", at(9, 1)),  # 30th
)
PROBES = (
    ProbeRow("p1", "1111", at(9, 0), True, 1.2),
    ProbeRow("p2", "1111", at(9, 15), True, 2.0),
    ProbeRow("p3", "1111", at(9, 30), False, None),
    ProbeRow("p4", "1111", at(9, 30, day=30), False, None),  # the 30th
)
STAFFING = (
    StaffingRow("complaint", at(8, 0), 2),
    StaffingRow("complaint", at(8, 1), 3),  # 08:00: mean (2 + 3) / 2 = 2.5
    StaffingRow("complaint", at(8, 30), 1),
    StaffingRow("complaint", at(12, 0), 2),  # staffed, no arrivals: still in the table
)
HISTORY = History(CALLS, CALLBACKS, PROBES, STAFFING)
NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def targets(queue: str) -> Targets:
    return TAX if queue == "tax" else DEFAULT


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return daily_figures(DAY, HISTORY, HOTLINES, targets, DEFAULT, NOW)


def _hotline(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in report["hotlines"] if h["hotline"] == name)


def _queue(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(x for x in _hotline(report, "1111")["queues"] if x["queue"] == name)


def test_the_report_names_its_day_in_bangkok(report: dict[str, Any]) -> None:
    assert report["date"] == "2026-11-29"
    assert report["date_th"] == "29 พฤศจิกายน 2569"
    assert report["generated_at"] == "2026-11-30T08:00:00+07:00"
    assert report["targets"] == {"service_level_s": 30, "service_level_target": 0.8,
                                 "short_abandon_s": 5}  # fmt: skip
    assert [h["hotline"] for h in report["hotlines"]] == ["1111", "unknown"]


def test_a_queues_day(report: dict[str, Any]) -> None:
    fig = _queue(report, "complaint")["totals"]
    # offered: a b c d e f m n = 8 (g h on other days, i a probe)
    # answered: a b e f n = 5; within 30 s: a(10) e(30) f(0) n(5) = 4 (b waited 40)
    # short: c (3 s); abandoned: d (50 s)
    assert (fig["offered"], fig["answered"], fig["answered_within_sl"]) == (8, 5, 4)
    assert (fig["short_abandoned"], fig["abandoned"]) == (1, 1)
    assert fig["service_level"] == round(4 / 7, 4)  # 4 / (8 - 1) = 0.5714
    assert fig["abandon_rate"] == round(1 / 7, 4)  # 1 / (8 - 1) = 0.1429
    assert fig["asa_s"] == 17.0  # (10 + 40 + 30 + 0 + 5) / 5
    assert fig["longest_wait_s"] == 50.0  # d
    assert fig["aht_s"] == 95.0  # (100 + 200 + 60 + 20) / 4 (e's talk unknown)
    assert (fig["no_agent"], fig["max_wait"]) == (1, 1)  # m, d
    # callbacks booked on the 29th: cb1 cb2 cb3; connected cb1 (600 s) cb3 (120 s)
    assert (fig["callbacks_requested"], fig["callbacks_connected"]) == (3, 2)
    assert fig["callbacks_failed"] == 1
    assert fig["callback_time_s"] == 360.0  # median(600, 120)


def test_half_hours_split_at_bangkok_boundaries(report: dict[str, Any]) -> None:
    halves = _queue(report, "complaint")["half_hours"]
    assert len(halves) == 48
    assert halves[0]["start"] == "00:00" and halves[0]["offered"] == 1  # n at 00:00
    h8 = halves[16]  # 08:00: a b c d
    assert h8["start"] == "08:00"
    assert (h8["offered"], h8["answered"], h8["short_abandoned"], h8["abandoned"]) == (4, 2, 1, 1)
    assert h8["service_level"] == round(1 / 3, 4)  # a only, of 4 - 1
    assert h8["aht_s"] == 150.0  # (100 + 200) / 2
    assert h8["staffed"] == 2.5
    # Erlang C for 4 callers of 150 s in 30 min: A = 4 * 150 / 1800 = 1/3 erlang
    # 1 agent: C = A = 0.3333; SL = 1 - 0.3333 * exp(-(2/3) * 30/150) = 0.7083 < 0.8
    # 2 agents: B1 = 0.25, B2 = 0.0833 / 2.0833 = 0.04, C = 0.08 / 1.68 = 0.0476,
    #           SL = 1 - 0.0476 * exp(-(5/3) * 30/150) = 0.9659 >= 0.8  -> needed 2
    assert h8["needed"] == 2
    h830 = halves[17]  # e alone; no talk time in the slot: the day's 95 s
    # A = 95 / 1800 = 0.0528; 1 agent: SL = 1 - 0.0528 * exp(-0.9472 * 30/95) = 0.961
    assert (h830["offered"], h830["service_level"], h830["needed"], h830["staffed"]) == (
        1, 1.0, 1, 1.0)  # fmt: skip
    assert halves[47]["offered"] == 1  # f at 23:59
    assert halves[20]["callbacks_requested"] == 1 and halves[20]["no_agent"] == 1  # 10:00
    quiet = halves[30]  # 15:00: nothing
    assert (quiet["offered"], quiet["service_level"], quiet["needed"]) == (0, None, 0)
    assert quiet["staffed"] is None


def test_the_staffing_table_has_slots_with_arrivals_or_staff(report: dict[str, Any]) -> None:
    rows = [r for r in report["staffing"] if r["queue"] == "complaint"]
    assert [r["start"] for r in rows] == ["00:00", "08:00", "08:30", "10:00", "12:00", "23:30"]
    assert rows[1] == {"hotline": "1111", "queue": "complaint", "start": "08:00",
                       "arrivals": 4, "aht_s": 150.0, "needed": 2, "staffed": 2.5}  # fmt: skip
    # 10:00: m alone, no talk time in the slot: the day's 95 s, 1 agent (as at 08:30)
    assert (rows[3]["arrivals"], rows[3]["aht_s"], rows[3]["needed"]) == (1, 95.0, 1)
    assert rows[4] == {"hotline": "1111", "queue": "complaint", "start": "12:00",
                       "arrivals": 0, "aht_s": None, "needed": 0, "staffed": 2.0}  # fmt: skip


def test_the_hotlines_day_uses_each_queues_targets(report: dict[str, Any]) -> None:
    h = _hotline(report, "1111")
    fig = h["totals"]
    # complaint's 8 and tax's t (45 s, within tax's 60 s): offered 9, within 4 + 1 = 5
    assert (fig["offered"], fig["answered"], fig["answered_within_sl"]) == (9, 6, 5)
    assert fig["service_level"] == 0.625  # 5 / (9 - 1)
    assert fig["asa_s"] == 21.7  # (85 + 45) / 6 = 21.67
    assert fig["aht_s"] == 82.0  # (380 + 30) / 5
    assert _queue(report, "tax")["totals"]["service_level"] == 1.0
    assert _queue(report, "tax")["targets"]["service_level_s"] == 60  # its own
    assert _queue(report, "complaint")["targets"] == report["targets"]  # the defaults


def test_the_hotlines_calls_menus_and_probes(report: dict[str, Any]) -> None:
    h = _hotline(report, "1111")
    # arrived: the 9 queued, j k l = 12 (u is nobody's queue: the unknown hotline)
    assert h["calls"] == {"arrived": 12, "self_service": 1, "queued": 9, "transferred": 1,
                          "closed": 0, "hangup_in_menu": 1, "error": 0}  # fmt: skip
    assert h["menus"] == [
        {"menu": "main", "visits": 4, "timeouts": 1, "wrong_keys": 2},  # j 1 + k 2 + l 1
        {"menu": "tax", "visits": 1, "timeouts": 0, "wrong_keys": 1},
    ]
    # the 29th: p1 p2 ok, p3 failed; median answer (1.2 + 2.0) / 2
    assert h["probes"] == {"count": 3, "ok": 2, "failed": 1, "median_answer_s": 1.6}
    unknown = _hotline(report, "unknown")
    assert unknown["totals"]["offered"] == 1
    assert [x["queue"] for x in unknown["queues"]] == ["other"]


def test_the_month_puts_each_day_side_by_side() -> None:
    month = monthly_figures(2026, 11, HISTORY, HOTLINES, targets, DEFAULT)
    assert (month["kind"], month["month"], month["month_th"]) == (
        "monthly", "2026-11", "พฤศจิกายน 2569")  # fmt: skip
    h = next(x for x in month["hotlines"] if x["hotline"] == "1111")
    assert len(h["days"]) == 30
    by_day = {d["date"]: d for d in h["days"]}
    assert by_day["2026-11-29"]["offered"] == 9
    assert by_day["2026-11-28"]["offered"] == 1  # h at 23:59 on the 28th
    assert by_day["2026-11-30"]["offered"] == 1  # g at 00:01 on the 30th
    assert by_day["2026-11-30"]["callbacks_requested"] == 1  # cb4
    assert by_day["2026-11-01"]["offered"] == 0
    assert h["totals"]["offered"] == 11
    assert h["targets"] is None  # complaint 30 s, tax 60 s
    assert [x["service_level_s"] for x in h["queue_targets"]] == [30, 60]


def test_no_handle_time_all_day_needs_nobody_can_tell() -> None:
    calls = (q("x", at(9, 0), "abandoned", 20), q("y", at(9, 10), "queue", None))
    report = daily_figures(DAY, History(calls), HOTLINES, targets, DEFAULT, NOW)
    [row] = report["staffing"]
    assert (row["start"], row["arrivals"], row["aht_s"], row["needed"]) == ("09:00", 2, None, None)
    # nobody answered: service level 0 of 2, abandon rate 1 of 2
    fig = _queue(report, "complaint")["totals"]
    assert (fig["service_level"], fig["abandon_rate"], fig["asa_s"]) == (0.0, 0.5, None)
