"""An answered call ends in history from the caller's Hangup when Asterisk sends no
AgentComplete, and keeps Asterisk's talk time when it does (ivr.history.answered)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from ivr.ami.events import AgentComplete, AgentConnect, Hangup
from ivr.config import Settings
from ivr.history.answered import AnsweredCalls
from ivr.history.feed import HistoryFeed
from ivr.history.rows import call_hung_up, rows_of, upsert_sql
from ivr.history.sink import HistorySink

Record = tuple[str, str, dict[str, Any]]


class RecordingSink:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def record(self, kind: str, key: str, data: dict[str, Any]) -> None:
        self.records.append((kind, key, data))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _feed(now: float = 1000.0) -> tuple[HistoryFeed, RecordingSink, Clock]:
    sink, clock = RecordingSink(), Clock(now)
    return HistoryFeed(cast(HistorySink, sink), Settings(), clock=clock), sink, clock


def _connect(uid: str = "1.1", agent_uid: str = "9.1") -> AgentConnect:
    return AgentConnect(uniqueid=uid, queue="q", member_name="a1", dest_uniqueid=agent_uid,
                        hold_time=4)  # fmt: skip


def _complete(uid: str = "1.1", agent_uid: str = "9.1", talk: int = 5) -> AgentComplete:
    return AgentComplete(uniqueid=uid, queue="q", member_name="a1", dest_uniqueid=agent_uid,
                         talk_time=talk, reason="agent")  # fmt: skip


def test_a_hangup_after_agentconnect_without_agentcomplete_ends_the_call() -> None:
    feed, sink, clock = _feed()
    feed.on_event(_connect())
    clock.now = 1005.5
    feed.on_event(Hangup(uniqueid="9.1"))  # the agent's Local channel: not a caller
    feed.on_event(Hangup(uniqueid="1.1"))
    assert [key for _, key, _ in sink.records] == ["1.1", "1.1"]
    assert sink.records[1][2] == {"ended_at_if_none": 1005.5, "talk_s_if_none": 5.5}
    assert "1.1" not in feed.answered
    feed.on_event(Hangup(uniqueid="1.1"))  # said twice: once
    assert len(sink.records) == 2


def test_agentcomplete_then_hangup_keeps_asterisks_talk_time_only() -> None:
    feed, sink, clock = _feed()
    feed.on_event(_connect())
    clock.now = 1006.0
    feed.on_event(_complete(talk=5))
    feed.on_event(Hangup(uniqueid="1.1"))
    assert len(sink.records) == 2  # no hang-up record after the AgentComplete
    assert sink.records[1][2]["talk_s"] == 5.0
    assert sink.records[1][2]["ended_at"] == 1006.0
    assert len(feed.answered) == 0


def test_a_late_agentcomplete_after_the_hangup_is_still_written() -> None:
    feed, sink, clock = _feed()
    feed.on_event(_connect())
    clock.now = 1006.0
    feed.on_event(Hangup(uniqueid="1.1"))
    clock.now = 1006.2
    feed.on_event(_complete(talk=5))
    assert [(key, "talk_s" in data) for _, key, data in sink.records] == [
        ("1.1", False), ("1.1", False), ("1.1", True)]  # fmt: skip
    # the hang-up's estimate only fills empty columns; Asterisk's overwrites it
    sql = upsert_sql("calls", rows_of("call", "1.1", sink.records[1][2])[0].columns)
    assert "talk_s = COALESCE(calls.talk_s, EXCLUDED.talk_s)" in sql
    assert "ended_at = COALESCE(calls.ended_at, EXCLUDED.ended_at)" in sql
    assert "INSERT INTO calls (ended_at, talk_s, uniqueid)" in sql
    sql = upsert_sql("calls", rows_of("call", "1.1", sink.records[2][2])[0].columns)
    assert "talk_s = EXCLUDED.talk_s" in sql


def test_an_agentcomplete_without_the_callers_uniqueid_is_matched_by_the_agent() -> None:
    feed, sink, _ = _feed()
    feed.on_event(_connect())
    feed.on_event(Hangup(uniqueid="1.1"))
    feed.on_event(_complete(uid="", talk=7))  # Asterisk lost the caller's snapshot
    assert sink.records[-1][1] == "1.1"
    assert sink.records[-1][2]["talk_s"] == 7.0
    feed.on_event(_complete(uid="", agent_uid="9.9"))  # nobody's: nothing
    assert len(sink.records) == 3


def test_a_hangup_of_an_unknown_uniqueid_makes_no_record() -> None:
    feed, sink, _ = _feed()
    feed.on_event(Hangup(uniqueid="7.7"))
    feed.on_event(Hangup(uniqueid=""))
    feed.on_event(_connect(uid=""))  # no caller: not remembered
    feed.on_event(Hangup(uniqueid=""))
    assert sink.records == []
    assert len(feed.answered) == 0


def test_the_answered_map_is_bounded() -> None:
    calls = AnsweredCalls(max_calls=3)
    for i in range(10):
        calls.connected(f"1.{i}", float(i), f"9.{i}")
    assert len(calls) == 3
    assert "1.0" not in calls and "1.9" in calls
    assert calls.hung_up("1.0") is None  # dropped: its hang-up makes no record
    assert calls.caller_of("", "9.0") == ""
    assert calls.caller_of("", "9.9") == "1.9"
    assert len(calls._by_agent) == 3
    for i in range(10, 20):  # hung-up callers' agent links stay bounded too
        calls.connected(f"1.{i}", float(i), f"9.{i}")
        calls.hung_up(f"1.{i}")
    assert len(calls) == 2 and len(calls._by_agent) == 3  # 1.8 and 1.9 still talking
    with pytest.raises(ValueError):
        AnsweredCalls(max_calls=0)


def test_the_hangup_record_never_has_a_negative_talk_time() -> None:
    assert call_hung_up(10.0, 9.0)["talk_s_if_none"] == 0.0
    [row] = rows_of("call", "1.1", call_hung_up(10.0, 12.0))
    assert row.columns == ("ended_at_if_none", "talk_s_if_none", "uniqueid")
    with pytest.raises(ValueError, match="a column twice"):
        upsert_sql("calls", ("talk_s", "talk_s_if_none", "uniqueid"))
