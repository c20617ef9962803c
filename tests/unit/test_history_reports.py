"""What history keeps for the reports: self-service and menu events from the trace,
the first rule that acted, and the staffing samples."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from ivr.config import Settings
from ivr.history import schema
from ivr.history.feed import HistoryFeed
from ivr.history.rows import call_from_trace, rows_of, staffing_data, upsert_sql
from ivr.history.sink import HistorySink
from ivr.history.staffing import counts, sample_once
from ivr.lineup.publish import rule_watcher
from ivr.queues.no_agent import RuleDecision
from ivr.queues.state import Agent, AgentState, QueueState
from ivr.store.events import EventStore
from ivr.store.traces import TraceStore
from ivr.trace import CallTrace


class RecordingSink:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def record(self, kind: str, key: str, data: dict[str, Any]) -> None:
        self.records.append((kind, key, data))


def _trace(*steps: tuple[str, str], outcome: str = "goodbye") -> CallTrace:
    t = CallTrace(uniqueid="1.1", hotline="1111", started_at=1000.0)
    for kind, detail in steps:
        t.add(kind, detail)
    t.finish(outcome, "complaint" if outcome == "queue" else "")
    return t


def test_menu_events_count_visits_timeouts_and_wrong_keys_per_menu() -> None:
    t = _trace(
        ("menu", "main"), ("timeout", "main"), ("digit", "9"), ("invalid", "main 9"),
        ("digit", "2"), ("menu", "tax"), ("digit", "*"), ("menu", "main"),
        ("digit", "1"),
    )  # fmt: skip
    data = call_from_trace(t)
    assert data["menu_events"] == {
        "visits": {"main": 2, "tax": 1},
        "timeouts": {"main": 1},
        "invalid": {"main": 1},
    }
    [row] = rows_of("call", "1.1", data)
    assert row.values["menu_events"].startswith("{")  # jsonb as text


def test_self_service_is_an_info_page_then_the_end_in_the_menus() -> None:
    info = ("info", "opening-hours")
    assert call_from_trace(_trace(("menu", "main"), info))["self_service"] is True
    assert call_from_trace(_trace(info, outcome="hangup"))["self_service"] is True
    assert call_from_trace(_trace(info, outcome="queue"))["self_service"] is False
    assert call_from_trace(_trace(info, outcome="transfer"))["self_service"] is False
    assert call_from_trace(_trace(("menu", "main")))["self_service"] is False


def test_the_first_rule_that_acted_stays() -> None:
    sql = upsert_sql("calls", ["rule", "rule_action", "uniqueid"])
    assert "rule = COALESCE(calls.rule, EXCLUDED.rule)" in sql
    assert "WHEN calls.rule IS NULL THEN EXCLUDED.rule_action" in sql


def test_the_feed_records_a_rule_on_the_call() -> None:
    sink = RecordingSink()
    feed = HistoryFeed(cast(HistorySink, sink), Settings())
    feed.on_rule("1.1", "no-agent", "callback")
    feed.on_rule("", "max-wait", "callback")  # no uniqueid: nothing
    assert sink.records == [("call", "1.1", {"rule": "no-agent", "rule_action": "callback"})]


def test_a_staffing_sample_is_one_row_keyed_by_queue_and_minute() -> None:
    key, data = staffing_data("complaint", 1800.0, {"staffed": 2, "available": 1, "paused": 1})
    [row] = rows_of("staffing", key, data)
    assert row.table == "staffing"
    assert row.values["at"] == datetime.fromtimestamp(1800.0, UTC)
    assert row.values["queue"] == "complaint"
    sql = upsert_sql("staffing", row.columns)
    assert "ON CONFLICT (queue, at) DO UPDATE" in sql
    assert "updated_at" not in sql


def _queue() -> QueueState:
    agents = {
        "a": Agent(interface="a", state=AgentState.AVAILABLE),
        "b": Agent(interface="b", state=AgentState.IN_CALL),
        "c": Agent(interface="c", state=AgentState.WRAPUP),
        "d": Agent(interface="d", state=AgentState.PAUSED),
        "e": Agent(interface="e", state=AgentState.UNAVAILABLE),
    }
    return QueueState("complaint", agents=agents)


def test_staffed_counts_the_members_taking_calls() -> None:
    assert counts(_queue()) == {"staffed": 3, "available": 1, "paused": 1}


async def test_a_sample_is_taken_at_the_minute() -> None:
    sink = RecordingSink()

    async def queues() -> dict[str, QueueState]:
        return {"complaint": _queue()}

    assert await sample_once(sink, queues, 1_000_075.5) == 1
    [(kind, key, data)] = sink.records
    assert (kind, key, data["at"]) == ("staffing", "complaint@1000020", 1_000_020.0)


def test_the_reports_migration_follows_the_first() -> None:
    names = [m.name for m in schema.shipped()]
    assert names[:2] == ["001_history.sql", "002_reports.sql"]


class _Events:
    def __init__(self) -> None:
        self.published: list[Any] = []

    async def publish(self, changes: list[Any]) -> None:
        self.published.extend(changes)


class _Traces:
    async def add_step(self, uid: str, kind: str, detail: str) -> bool:
        return True


async def test_the_waiting_routes_rule_reaches_the_history() -> None:
    told: list[tuple[str, str, str]] = []
    watch = rule_watcher(
        cast(EventStore, _Events()),
        cast(TraceStore, _Traces()),
        lambda uid, rule, action: told.append((uid, rule, action)),
    )
    await watch("1.1", "complaint", RuleDecision("no-agent", "overflow", "operator"))
    await asyncio.sleep(0)  # the trace step, beside the call
    assert told == [("1.1", "no-agent", "overflow")]
