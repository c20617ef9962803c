"""What each history record becomes in PostgreSQL: rows, and the upserts that write
them once however many times they are sent (pure: no database here).

A record is ``(kind, key, data)`` (:class:`ivr.history.sink.HistorySink`). Several
records may fill the same row: a call's trace gives its hotline, path and outcome,
the queue's AMI events its answer, agent, wait and talk time. Each upsert sets only
the columns its record carries (``ON CONFLICT (key) DO UPDATE`` over those columns),
so the parts meet in one row whichever arrives first, and a record written twice
leaves the row as once.

The builders (:func:`call_from_trace`, :func:`call_from_event`, :func:`callback_data`,
:func:`action_data`) turn what the server holds into a record's ``data``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ivr.ami.events import AgentComplete, AgentConnect, AnyEvent, QueueCallerAbandon
from ivr.callbacks.model import CallbackRequest
from ivr.trace import CallTrace

__all__ = [
    "KINDS",
    "Row",
    "action_data",
    "action_key",
    "attempts_of",
    "call_from_event",
    "call_from_trace",
    "call_hung_up",
    "callback_data",
    "menu_events",
    "probe_data",
    "rows_of",
    "rule_data",
    "self_service",
    "staffing_data",
    "upsert_sql",
]


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: frozenset[str]
    times: frozenset[str]  # epoch seconds in the record, timestamptz in the table


def _table(name: str, key: str, columns: str, times: str) -> Table:
    return Table(name, tuple(key.split()), frozenset(columns.split()), frozenset(times.split()))


_CALLS = _table(
    "calls",
    "uniqueid",
    "uniqueid hotline menu_path queue topic arrived_at answered_at ended_at outcome agent "
    "wait_s talk_s number language probe rule rule_action self_service menu_events "
    "ended_at_if_none talk_s_if_none",
    "arrived_at answered_at ended_at ended_at_if_none",
)
#: record fields that fill a column only while it is empty (NULL): an answered call's
#: end and talk time from the caller's hang-up, which Asterisk's ``AgentComplete``
#: (``ended_at``, ``talk_s``) replaces whether it is written before or after
_SOFT = {"ended_at_if_none": "ended_at", "talk_s_if_none": "talk_s"}
_CALLBACKS = _table(
    "callbacks",
    "id",
    "id queue hotline call_uniqueid requested_at status attempts first_attempt_at "
    "last_attempt_at connected_at last_result number",
    "requested_at first_attempt_at last_attempt_at connected_at",
)
_ATTEMPTS = _table(
    "callback_attempts", "callback_id attempt", "callback_id attempt at result", "at"
)
_PROBES = _table("probes", "id", "id hotline at ok result answer_s detail", "at")
_ACTIONS = _table(
    "actions",
    "id",
    "id at token_id token_name action queue agent callback result detail",
    "at",
)
_STAFFING = _table("staffing", "queue at", "queue at staffed available paused", "at")
_TABLES = {t.name: t for t in (_CALLS, _CALLBACKS, _ATTEMPTS, _PROBES, _ACTIONS, _STAFFING)}
_JSON = {"probes": "detail", "calls": "menu_events"}

#: record kind -> its table (a callback also fills callback_attempts)
KINDS: Mapping[str, Table] = {
    "call": _CALLS,
    "callback": _CALLBACKS,
    "probe": _PROBES,
    "action": _ACTIONS,
    "staffing": _STAFFING,  # key "<queue>@<at>"; the row's key is the data's queue and at
}


@dataclass(frozen=True)
class Row:
    """One row to upsert: its table and the columns this record sets."""

    table: str
    values: Mapping[str, Any]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(sorted(self.values))


def _when(value: Any) -> datetime | None:
    if value is None or value == "" or value == 0:
        return None
    return datetime.fromtimestamp(float(value), UTC)


def _row(table: Table, key_values: Mapping[str, Any], data: Mapping[str, Any]) -> Row:
    values: dict[str, Any] = {k: v for k, v in data.items() if k in table.columns}
    values.update(key_values)
    for name in table.times & values.keys():
        values[name] = _when(values[name])
    as_json = _JSON.get(table.name)
    if as_json in values and values[as_json] is not None:
        values[as_json] = json.dumps(values[as_json], ensure_ascii=False, default=str)
    return Row(table.name, values)


def rows_of(kind: str, key: str, data: Mapping[str, Any]) -> list[Row]:
    """The rows one record writes; ValueError for an unknown kind or an empty key."""
    table = KINDS.get(kind)
    if table is None:
        raise ValueError(f"unknown history kind {kind!r}: use one of {', '.join(KINDS)}")
    if not key:
        raise ValueError(f"history record {kind!r} without a key")
    key_values = {table.key[0]: key} if len(table.key) == 1 else {}
    missing = [k for k in table.key if k not in key_values and data.get(k) in (None, "")]
    if missing:
        raise ValueError(f"history record {kind!r} {key!r} without {', '.join(missing)}")
    rows = [_row(table, key_values, data)]
    if kind == "callback":
        for a in data.get("attempt_rows", ()):
            rows.append(_row(_ATTEMPTS, {"callback_id": key, "attempt": int(a["attempt"])}, a))
    return rows


def upsert_sql(table_name: str, columns: Sequence[str]) -> str:
    """``INSERT … ON CONFLICT (key) DO UPDATE`` setting only ``columns`` (sorted names)."""
    table = _TABLES[table_name]
    unknown = set(columns) - table.columns
    if unknown:
        raise ValueError(f"{table_name}: unknown columns {sorted(unknown)}")
    names = [_SOFT.get(c, c) for c in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"{table_name}: a column twice in {sorted(columns)}")
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    updates = [_set(table_name, c) for c in columns if c not in table.key]
    if table_name not in ("callback_attempts", "staffing"):
        updates.append("updated_at = now()")
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {table_name} ({', '.join(names)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(table.key)}) {action}"
    )


_FINAL = "('answered', 'abandoned')"


def _set(table_name: str, column: str) -> str:
    soft = _SOFT.get(column)
    if soft is not None:  # Asterisk's value, when the row has it, stays
        return f"{soft} = COALESCE({table_name}.{soft}, EXCLUDED.{soft})"
    if table_name == "calls" and column == "outcome":
        # the queue's answer or abandon is the call's outcome, whatever arrives after it
        return (
            f"outcome = CASE WHEN calls.outcome IN {_FINAL} AND EXCLUDED.outcome NOT IN "
            f"{_FINAL} THEN calls.outcome ELSE EXCLUDED.outcome END"
        )
    if table_name == "calls" and column == "rule":
        return "rule = COALESCE(calls.rule, EXCLUDED.rule)"  # the first rule that acted
    if table_name == "calls" and column == "rule_action":
        return (
            "rule_action = CASE WHEN calls.rule IS NULL THEN EXCLUDED.rule_action "
            "ELSE calls.rule_action END"
        )
    return f"{column} = EXCLUDED.{column}"


# -- builders: what the server holds -> a record's data ---------------------------------


def call_from_trace(trace: CallTrace, number: str = "") -> dict[str, Any]:
    """A call's record from its trace: hotline, menu path, queue, times and outcome."""
    data: dict[str, Any] = {
        "hotline": trace.hotline,
        "menu_path": trace.path,
        "arrived_at": trace.started_at,
        "outcome": trace.outcome or "hangup",
        "topic": trace.topic,
    }
    if trace.ended_at is not None and trace.outcome != "queue":
        data["ended_at"] = trace.ended_at  # in a queue, the call ends later (AMI events)
    if trace.outcome == "queue" and trace.target:
        data["queue"] = trace.target
    data["self_service"] = self_service(trace)
    data["menu_events"] = menu_events(trace)
    language = next((s.detail for s in reversed(trace.steps) if s.kind == "language"), "")
    if language:
        data["language"] = language
    if number:
        data["number"] = number
    return data


def self_service(trace: CallTrace) -> bool:
    """IVR self-service: the caller heard an information page and the call ended in
    the menus (goodbye or hang-up), without a queue or a transfer."""
    heard = any(s.kind == "info" for s in trace.steps)
    return heard and (trace.outcome or "hangup") in ("goodbye", "hangup")


def menu_events(trace: CallTrace) -> dict[str, dict[str, int]]:
    """Per menu: how often it was entered (``visits``), left without a key
    (``timeouts``) and answered with a key it does not know (``invalid``)."""
    out: dict[str, dict[str, int]] = {"visits": {}, "timeouts": {}, "invalid": {}}
    names = {"menu": "visits", "timeout": "timeouts", "invalid": "invalid"}
    for step in trace.steps:
        name = names.get(step.kind)
        if name is None or not step.detail:
            continue
        menu = step.detail.split(" ", 1)[0]  # an invalid step is "<menu> <digit>"
        out[name][menu] = out[name].get(menu, 0) + 1
    return out


def rule_data(rule: str, action: str) -> dict[str, Any]:
    """A call's record of a rule that acted (the first one stays: see :func:`upsert_sql`)."""
    return {"rule": rule, "rule_action": action}


def call_from_event(event: AnyEvent, now: float) -> tuple[str, dict[str, Any]] | None:
    """A call's record (uniqueid, data) from a queue event: answered with its agent
    and wait, completed with its talk time, or abandoned; None for other events."""
    if isinstance(event, AgentConnect):
        return event.uniqueid, {
            "queue": event.queue,
            "answered_at": now,
            "agent": event.member_name or event.interface,
            "wait_s": float(event.hold_time or 0),
            "outcome": "answered",
        }
    if isinstance(event, AgentComplete):
        return event.uniqueid, {
            "queue": event.queue,
            "agent": event.member_name or event.interface,
            "talk_s": float(event.talk_time or 0),
            "ended_at": now,
            "outcome": "answered",
        }
    if isinstance(event, QueueCallerAbandon):
        return event.uniqueid, {
            "queue": event.queue,
            "wait_s": float(event.hold_time or 0),
            "ended_at": now,
            "outcome": "abandoned",
        }
    return None


def call_hung_up(answered_at: float, now: float) -> dict[str, Any]:
    """An answered caller's record from its own ``Hangup``: its end and talk time
    (hang-up − answered), kept only where ``AgentComplete`` gave none."""
    return {"ended_at_if_none": now, "talk_s_if_none": round(max(0.0, now - answered_at), 3)}


def staffing_data(queue: str, at: float, counts: Mapping[str, int]) -> tuple[str, dict[str, Any]]:
    """A staffing sample's record (key, data): the queue's members at ``at``."""
    data: dict[str, Any] = {"queue": queue, "at": at, **counts}
    return f"{queue}@{at:.0f}", data


def attempts_of(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each attempt of a callback (number, start, result) from its history entries."""
    attempts: list[dict[str, Any]] = []
    for entry in history:
        if entry.get("event") == "claimed" and "attempt" in entry:
            attempts.append({"attempt": int(entry["attempt"]), "at": entry.get("at"), "result": ""})
        elif attempts and entry.get("result") and not attempts[-1]["result"]:
            attempts[-1]["result"] = str(entry["result"])
        elif attempts and entry.get("event") == "connected" and not attempts[-1]["result"]:
            attempts[-1]["result"] = "connected"
    return attempts


def callback_data(req: CallbackRequest) -> dict[str, Any]:
    """A callback's record: its state now, with its attempts."""
    attempts = attempts_of(req.history)
    connected = [h.get("at") for h in req.history if h.get("event") == "connected"]
    return {
        "queue": req.queue,
        "hotline": req.hotline,
        "call_uniqueid": req.call_uniqueid,
        "requested_at": req.requested_at,
        "status": str(req.status),
        "attempts": req.attempts,
        "first_attempt_at": attempts[0]["at"] if attempts else None,
        "last_attempt_at": attempts[-1]["at"] if attempts else None,
        "connected_at": connected[-1] if connected else None,
        "last_result": req.last_result,
        "number": req.number,
        "attempt_rows": attempts,
    }


def probe_data(result: Mapping[str, Any]) -> dict[str, Any]:
    """A probe's record from its result as the API shows it (``ProbeResult.to_dict``):
    when, which hotline, ok or not, the outcome, the time to answer, and the rest."""
    return {
        "hotline": result.get("hotline", ""),
        "at": result.get("at"),
        "ok": bool(result.get("ok")),
        "result": result.get("outcome", ""),
        "answer_s": result.get("answer_s"),
        "detail": dict(result),
    }


def action_data(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A supervisor action's record from its audit entry (already masked)."""
    return dict(entry)


def action_key(entry: Mapping[str, Any]) -> str:
    """A stable id of an audit entry (entries have none): a hash of its content."""
    body = json.dumps(dict(entry), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:32]
