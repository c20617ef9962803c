"""Each queue is reported against its own targets: ``complaint`` has 6 s / 4 s of its
own (as in tests/integration/test_report_day.py), ``info`` the defaults 30 s / 5 s. The
dict, the HTML page and the CSV files show each queue's own (before, the page said
30 s over a queue whose figures were counted within 6 s)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from ivr.queues.figures import Targets
from ivr.reports.dates import BANGKOK
from ivr.reports.figures import daily_figures, monthly_figures
from ivr.reports.render_csv import write_csv
from ivr.reports.render_html import daily_html, monthly_html
from ivr.reports.rows import CallRow, History, HotlineInfo
from tests.unit.test_report_render import _read

DAY = dt.date(2026, 11, 29)
DEFAULT = Targets(service_level_s=30, service_level_target=0.8, short_abandon_s=5)
OWN = Targets(service_level_s=6, service_level_target=0.8, short_abandon_s=4)
HOTLINES = {"1111": HotlineInfo("สายด่วนทดสอบ", ("complaint", "info")),
            "1555": HotlineInfo("สายด่วนไม่มีคิว")}  # fmt: skip
NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
DEFAULT_DICT = {"service_level_s": 30, "service_level_target": 0.8, "short_abandon_s": 5}
OWN_DICT = {"service_level_s": 6, "service_level_target": 0.8, "short_abandon_s": 4}


def _call(uid: str, queue: str, minute: int, outcome: str, wait: float) -> CallRow:
    at = dt.datetime(2026, 11, 29, 9, minute, tzinfo=BANGKOK)
    return CallRow(uid, "1111", at, queue, outcome, wait, 120.0 if outcome == "answered" else None)


# the same calls in both queues: answered after 3 s and 10 s, hung up after 4.5 s
CALLS = tuple(
    _call(f"{q}{i}", q, i, outcome, wait)
    for q in ("complaint", "info")
    for i, (outcome, wait) in enumerate((("answered", 3), ("answered", 10), ("abandoned", 4.5)))
)


def targets(queue: str) -> Targets:
    return OWN if queue == "complaint" else DEFAULT


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return daily_figures(DAY, History(CALLS), HOTLINES, targets, DEFAULT, NOW)


def _queues(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["queue"]: q for q in report["hotlines"][0]["queues"]}


def test_each_queue_carries_the_targets_it_was_counted_against(report: dict[str, Any]) -> None:
    assert report["targets"] == DEFAULT_DICT  # the defaults stay on top
    queues = _queues(report)
    assert queues["complaint"]["targets"] == OWN_DICT
    assert queues["info"]["targets"] == DEFAULT_DICT
    # complaint: within 6 s only the 3 s call; 4.5 s is a real abandon (>= 4 s)
    own, default = queues["complaint"]["totals"], queues["info"]["totals"]
    assert (own["answered_within_sl"], own["abandoned"], own["short_abandoned"]) == (1, 1, 0)
    assert own["service_level"] == round(1 / 3, 4)
    # info: both within 30 s; 4.5 s is a short abandon (< 5 s), not counted
    assert (default["answered_within_sl"], default["abandoned"], default["short_abandoned"]) == (
        2, 0, 1)  # fmt: skip
    assert default["service_level"] == 1.0


def test_erlang_c_asks_for_agents_against_the_queues_own_target() -> None:
    # 12 callers of 120 s in the 09:00 half hour: A = 12 * 120 / 1800 = 0.8 erlang.
    # 2 agents: B1 = 0.8 / 1.8 = 0.4444, B2 = 0.3556 / 2.3556 = 0.1509,
    #   C = 2 * 0.1509 / (2 - 0.8 * 0.8491) = 0.2286;
    #   within 30 s: SL = 1 - 0.2286 * exp(-1.2 * 30/120) = 0.8307 >= 0.8 -> 2 agents;
    #   within 6 s:  SL = 1 - 0.2286 * exp(-1.2 * 6/120)  = 0.7847 <  0.8 -> 3 agents.
    busy = tuple(_call(f"b{i}", "complaint", i % 30, "answered", 1) for i in range(12))
    own = daily_figures(DAY, History(busy), HOTLINES, targets, DEFAULT, NOW)
    default = daily_figures(DAY, History(busy), HOTLINES, lambda q: DEFAULT, DEFAULT, NOW)
    [o], [d] = own["staffing"], default["staffing"]
    assert (o["start"], o["arrivals"], o["aht_s"]) == ("09:00", 12, 120.0)
    assert (o["needed"], d["needed"]) == (3, 2)
    assert _queues(own)["complaint"]["half_hours"][18]["needed"] == 3


def test_the_page_says_each_queues_own_target(report: dict[str, Any]) -> None:
    page = daily_html(report)
    assert "เป้าหมายของคิว: รับสายภายใน 6 วินาที ไม่น้อยกว่า 80% · วางสายภายใน 4 วินาที" in page
    assert "เป้าหมายของคิว: รับสายภายใน 30 วินาที ไม่น้อยกว่า 80% · วางสายภายใน 5 วินาที" in page
    assert "ค่าเริ่มต้น" in page  # the header's 30 s are the defaults
    # the target line's key of each queue's service-level chart (first page + ...)
    keys = re.findall(r"เป้าหมาย 80% ภายใน (\d+) วินาที", page)
    assert sorted(set(keys)) == ["30", "6"] and keys.count("6") >= 1


def test_the_queue_csv_has_each_queues_targets(report: dict[str, Any], tmp_path: Path) -> None:
    write_csv(report, tmp_path, "r")
    rows = {r["queue"]: r for r in _read(tmp_path / "r-queues.csv")}
    assert rows["complaint"]["targets.service_level_s"] == "6"
    assert rows["complaint"]["targets.short_abandon_s"] == "4"
    assert rows["info"]["targets.service_level_s"] == "30"
    assert rows["info"]["targets.service_level_target"] == "0.8"


def test_a_month_shares_targets_only_when_all_queues_have_them(tmp_path: Path) -> None:
    month = monthly_figures(2026, 11, History(CALLS), HOTLINES, targets, DEFAULT)
    assert month["targets"] == DEFAULT_DICT
    mixed, empty = month["hotlines"]
    assert mixed["targets"] is None  # complaint 6 s, info 30 s
    assert mixed["queue_targets"] == [{"queue": "complaint", **OWN_DICT},
                                      {"queue": "info", **DEFAULT_DICT}]  # fmt: skip
    assert (empty["targets"], empty["queue_targets"]) == (DEFAULT_DICT, [])  # no queue
    same = monthly_figures(2026, 11, History(CALLS), HOTLINES, lambda q: OWN, DEFAULT)
    assert same["hotlines"][0]["targets"] == OWN_DICT
    assert "1111 สายด่วนทดสอบ · คิว complaint: รับสายภายใน 6 วินาที" in monthly_html(month)
    write_csv(month, tmp_path, "m")
    rows = _read(tmp_path / "m-hotlines.csv")
    assert [r["targets.service_level_s"] for r in rows] == ["", "30"]
