"""History's pure parts: records to rows and upserts, migration order, retention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from ivr.ami.events import AgentComplete, AgentConnect, QueueCallerAbandon
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.config import Settings
from ivr.history import retention, schema
from ivr.history.feed import HistoryFeed
from ivr.history.rows import (
    action_key,
    attempts_of,
    call_from_event,
    call_from_trace,
    callback_data,
    rows_of,
    upsert_sql,
)
from ivr.history.sink import HistorySink
from ivr.sandbox import postgres_server
from ivr.trace import CallTrace


def test_a_trace_gives_the_calls_hotline_path_queue_and_number() -> None:
    t = CallTrace(uniqueid="1.1", hotline="1111", started_at=1000.0, topic="tax")
    t.add("menu", "main")
    t.add("digit", "2")
    t.add("language", "en")
    t.finish("queue", "complaint")
    t.close()
    data = call_from_trace(t, "0812345678")
    assert data["menu_path"] == ["main", "2"]
    assert data["queue"] == "complaint"
    assert data["language"] == "en"
    assert data["number"] == "0812345678"
    assert "ended_at" not in data  # the queue's events end a queued call
    [row] = rows_of("call", "1.1", data)
    assert row.table == "calls"
    assert row.values["uniqueid"] == "1.1"
    assert row.values["arrived_at"] == datetime.fromtimestamp(1000.0, UTC)


def test_a_call_ended_in_the_menu_has_its_end() -> None:
    t = CallTrace(uniqueid="1.2", hotline="1111")
    t.finish("goodbye")
    t.close()
    assert call_from_trace(t)["ended_at"] == t.ended_at
    assert "number" not in call_from_trace(t)


def test_queue_events_give_answer_agent_wait_talk_and_abandon() -> None:
    connect = AgentConnect(uniqueid="1.1", queue="q", member_name="Somchai", hold_time=12)
    key, data = call_from_event(connect, 2000.0) or ("", {})
    assert key == "1.1"
    assert data == {"queue": "q", "answered_at": 2000.0, "agent": "Somchai", "wait_s": 12.0,
                    "outcome": "answered"}  # fmt: skip
    done = AgentComplete(uniqueid="1.1", queue="q", interface="PJSIP/a1", talk_time=90)
    assert (call_from_event(done, 2090.0) or ("", {}))[1]["talk_s"] == 90.0
    gone = QueueCallerAbandon(uniqueid="1.3", queue="q", hold_time=40)
    assert (call_from_event(gone, 3000.0) or ("", {}))[1]["outcome"] == "abandoned"


def test_a_callback_gives_its_attempts() -> None:
    req = CallbackRequest(
        id="cb1", queue="q", hotline="1111", number="0812345678", arrived_at=1.0,
        requested_at=10.0, status=CallbackStatus.CONNECTED, attempts=2,
        history=[
            {"at": 10.0, "event": "requested", "status": "pending"},
            {"at": 20.0, "event": "claimed", "attempt": 1, "status": "dialing"},
            {"at": 50.0, "event": "retry", "attempt": 1, "result": "no-answer"},
            {"at": 400.0, "event": "claimed", "attempt": 2, "status": "dialing"},
            {"at": 420.0, "event": "connected", "status": "connected", "result": ""},
        ],
    )  # fmt: skip
    assert attempts_of(req.history) == [
        {"attempt": 1, "at": 20.0, "result": "no-answer"},
        {"attempt": 2, "at": 400.0, "result": "connected"},
    ]
    data = callback_data(req)
    assert (data["first_attempt_at"], data["last_attempt_at"], data["connected_at"]) == (
        20.0,
        400.0,
        420.0,
    )
    rows = rows_of("callback", "cb1", data)
    assert [r.table for r in rows] == ["callbacks", "callback_attempts", "callback_attempts"]
    assert "attempt_rows" not in rows[0].values
    assert rows[2].values["callback_id"] == "cb1"


def test_an_upsert_sets_only_its_columns_and_keeps_a_final_outcome() -> None:
    sql = upsert_sql("calls", ("agent", "outcome", "uniqueid"))
    assert sql.startswith("INSERT INTO calls (agent, outcome, uniqueid) VALUES ($1, $2, $3)")
    assert "ON CONFLICT (uniqueid) DO UPDATE SET agent = EXCLUDED.agent" in sql
    assert "hotline" not in sql
    assert "CASE WHEN calls.outcome IN ('answered', 'abandoned')" in sql
    assert "DO NOTHING" in upsert_sql("callback_attempts", ("attempt", "callback_id"))
    with pytest.raises(ValueError, match="unknown columns"):
        upsert_sql("calls", ("uniqueid", "nonsense"))


def test_unknown_kinds_and_empty_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="use one of call"):
        rows_of("weather", "x", {})
    with pytest.raises(ValueError, match="without a key"):
        rows_of("call", "", {})
    assert rows_of("call", "1.1", {"nonsense": 1})[0].values == {"uniqueid": "1.1"}


def test_an_audit_entry_has_a_stable_key() -> None:
    entry = {"at": 1.0, "action": "pause", "agent": "a1"}
    assert action_key(entry) == action_key(dict(reversed(entry.items())))
    assert action_key(entry) != action_key({**entry, "at": 2.0})


def test_migrations_are_ordered_and_checked() -> None:
    found = schema.migrations([("002_b.sql", "B"), ("001_a.sql", "A")])
    assert [m.version for m in found] == [1, 2]
    assert [m.name for m in schema.pending(found, [1])] == ["002_b.sql"]
    with pytest.raises(ValueError, match=r"NNN_name\.sql"):
        schema.migrations([("1_a.sql", "")])
    with pytest.raises(ValueError, match="taken by"):
        schema.migrations([("001_a.sql", ""), ("001_b.sql", "")])
    with pytest.raises(ValueError, match="002 is missing"):
        schema.migrations([("001_a.sql", ""), ("003_c.sql", "")])
    shipped = schema.shipped()
    assert shipped[0].name == "001_history.sql"
    assert "CREATE TABLE calls" in shipped[0].sql


def test_retention_hashes_with_the_key_or_removes_without_one() -> None:
    h = retention.number_hash("secret", "0812345678")
    assert h is not None and len(h) == 64 and "0812345678" not in h
    assert h == retention.number_hash("secret", "0812345678")
    assert h != retention.number_hash("other", "0812345678")
    assert retention.number_hash("", "0812345678") is None
    now = datetime(2026, 11, 29, tzinfo=UTC).timestamp()
    assert retention.cutoff(now, 90) == datetime(2026, 8, 31, tzinfo=UTC)
    assert "< $1" in retention.select_old("calls") and "number IS NOT NULL" in (
        retention.select_old("callbacks")
    )


def test_the_sandbox_runs_postgres_only_for_a_loopback_dsn() -> None:
    assert postgres_server.address("postgresql://ivr@127.0.0.1:5433/ivr") == ("127.0.0.1", 5433)
    assert postgres_server.wanted("postgresql://ivr@127.0.0.1:5433/ivr")
    assert not postgres_server.wanted("")  # history off
    assert not postgres_server.wanted("postgresql://ivr@db.agency.go.th/ivr")


class RecordingSink:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def record(self, kind: str, key: str, data: dict[str, Any]) -> None:
        self.records.append((kind, key, data))


async def test_the_feed_records_traces_events_callbacks_and_actions() -> None:
    sink = RecordingSink()
    feed = HistoryFeed(cast(HistorySink, sink), Settings(), clock=lambda: 5.0)
    t = CallTrace(uniqueid="1.1", hotline="1111")
    t.finish("goodbye")
    feed.on_trace(t, "0812345678")
    feed.on_trace(CallTrace(uniqueid="", hotline="1111"), "")  # no uniqueid: no row
    feed.on_event(QueueCallerAbandon(uniqueid="1.1", queue="q", hold_time=3))
    feed.on_event(AgentConnect(uniqueid="", queue="q"))  # no caller channel: nothing
    req = CallbackRequest(id="cb1", queue="q", hotline="1111", number="0812345678",
                          arrived_at=1.0, requested_at=2.0)  # fmt: skip
    await feed.on_callback(req)
    feed.on_action({"at": 1.0, "action": "pause"})
    assert [(k, key) for k, key, _ in sink.records] == [
        ("call", "1.1"),
        ("call", "1.1"),
        ("callback", "cb1"),
        ("action", action_key({"at": 1.0, "action": "pause"})),
    ]
    assert sink.records[1][2]["ended_at"] == 5.0


def test_history_is_off_without_a_dsn() -> None:
    assert HistoryFeed.for_settings(Settings(), cast(Redis, None), "i1") is None


def test_a_probe_result_is_one_row_of_probes() -> None:
    from ivr.history.rows import probe_data
    from ivr.probes.model import ProbeResult

    result = ProbeResult(
        id="p1",
        hotline="1111",
        published="1111",
        outcome="fallback",
        answer_s=0.4,
        at=1_795_928_400.0,
        duration_s=10.5,
        detail="no greeting within 10 s",
    )
    [row] = rows_of("probe", "p1", probe_data(result.to_dict()))
    assert row.table == "probes"
    v = row.values
    assert (v["id"], v["hotline"], v["ok"], v["result"], v["answer_s"]) == (
        "p1",
        "1111",
        False,
        "fallback",
        0.4,
    )
    assert v["at"] == datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    assert '"detail": "no greeting within 10 s"' in v["detail"]
