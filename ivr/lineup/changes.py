"""What changed in the line, as events for the supervisors' stream. Pure, no I/O.

:func:`changes` compares two states of one queue (the last one published and the
current one) and :func:`callback_change` names one callback transition. Each
:class:`Change` has a ``kind``:

* ``caller.joined``, ``caller.place`` (one per queue and diff, listing in
  ``moved`` every caller whose place by original arrival changed: one caller
  leaving the head of a long line moves everyone behind, and one event keeps
  that burst from filling the clients' queues), ``caller.state`` (waiting,
  announcing, ringing), ``caller.left`` with a
  ``reason``: ``answered`` (an agent took it), ``abandoned`` (it hung up while
  holding a place), ``callback`` (it left with a callback booked), ``rule`` (a
  rule of :mod:`ivr.queues.no_agent` moved it on: overflow or goodbye), ``expired``
  (out for an announcement too long) or ``left`` when the states alone cannot say;
* ``caller.rule`` (``rule``: ``no-agent`` or ``max-wait``, ``action``: ``callback``,
  ``overflow`` or ``message``, ``target``: the queue of an overflow): a rule of
  :mod:`ivr.queues.no_agent` acted for a waiting caller (published by
  :func:`ivr.lineup.publish.rule_watcher`);
* ``agent.state`` (with ``paused_reason``) and ``agent.removed``;
* ``callback.requested``, ``callback.dialling``, ``callback.retry`` (back to
  pending after an attempt), ``callback.connected``, ``callback.failed``,
  ``callback.cancelled``, ``callback.moved`` (a supervisor moved a pending one);
* ``hotline.closed``/``hotline.opened``, ``queue.closed``/``queue.opened`` and
  ``emergency.set``/``emergency.cleared``: a supervisor's override
  (:func:`hotline_override_change`, :func:`queue_override_change`,
  :func:`emergency_change`); hotline-level ones have ``queue`` "", and every one
  names its ``hotline`` in ``data`` (a queue's: the first hotline handing calls to it).

Phone numbers travel raw in ``data["number"]``; every reader masks them (the API).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.queues.state import Agent, AgentState, Caller, QueueState

__all__ = [
    "Change",
    "callback_change",
    "changes",
    "emergency_change",
    "hotline_override_change",
    "queue_override_change",
]


@dataclass(frozen=True)
class Change:
    kind: str
    queue: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "queue": self.queue, "data": self.data}


def _places(state: QueueState) -> dict[str, int]:
    return {c.uniqueid: i for i, c in enumerate(state.callers_in_order(), start=1)}


def _caller(c: Caller, place: int) -> dict[str, Any]:
    return {
        "uniqueid": c.uniqueid,
        "place": place,
        "state": c.state.value,
        "arrived_at": c.arrived_at,
        "topic": c.topic,
        "number": c.caller_id,
    }


def _agent(a: Agent) -> dict[str, Any]:
    return {
        "interface": a.interface,
        "name": a.name,
        "state": a.state.value,
        "since": a.since,
        "paused_reason": a.paused_reason,
    }


def _left_reasons(
    before: QueueState, after: QueueState, gone: list[str], hints: Mapping[str, str]
) -> dict[str, str]:
    """Why each departed caller left: the hint the caller of :func:`changes` had
    (callback booked, expired), else an agent talking to it (answered), else the
    counters that moved (answered, then abandoned), else ``left``."""
    talking = {
        a.caller_uniqueid
        for a in after.agents.values()
        if a.state is AgentState.IN_CALL and a.caller_uniqueid
    }
    answered = max(0, after.answered - before.answered)
    abandoned = max(0, after.abandoned - before.abandoned)
    out: dict[str, str] = {}
    for uid in gone:
        if uid in hints:
            out[uid] = hints[uid]
        elif uid in talking:
            out[uid] = "answered"
            answered = max(0, answered - 1)
    for uid in gone:
        if uid in out:
            continue
        if answered:
            out[uid], answered = "answered", answered - 1
        elif abandoned:
            out[uid], abandoned = "abandoned", abandoned - 1
        else:
            out[uid] = "left"
    return out


def _states_only(before: QueueState, after: QueueState) -> list[Change] | None:
    """The changes when the same callers are there, arriving as before: only states
    may have changed, and only in the callers that are not the very objects they
    were (a caller is never changed in place, :mod:`ivr.queues.state`); None when
    callers came, went or moved (:func:`_caller_changes` compares everyone)."""
    olds, news = before.callers, after.callers
    if olds.keys() != news.keys():
        return None
    changed = [(olds[uid], c) for uid, c in news.items() if olds[uid] is not c]
    if any(old.arrived_at != c.arrived_at for old, c in changed):
        return None  # places may have moved
    if not any(old.state is not c.state for old, c in changed):
        return []
    place = {c.uniqueid: i for i, c in enumerate(after.callers_in_order(), start=1)}
    return [
        Change("caller.state", after.name, _caller(c, place[c.uniqueid]) | {"was": old.state.value})
        for old, c in sorted(changed, key=lambda pair: place[pair[1].uniqueid])
        if old.state is not c.state
    ]


def _caller_changes(
    before: QueueState, after: QueueState, hints: Mapping[str, str]
) -> list[Change]:
    q = after.name
    quick = _states_only(before, after)
    if quick is not None:
        return quick
    was, order = _places(before), after.callers_in_order()
    out: list[Change] = []
    now = after.callers
    gone = [uid for uid in was if uid not in now]
    reasons = _left_reasons(before, after, gone, hints)
    for uid in gone:
        data = {"uniqueid": uid, "reason": reasons[uid], "number": before.callers[uid].caller_id}
        out.append(Change("caller.left", q, data))
    moved: list[dict[str, Any]] = []
    olds = before.callers
    for place, c in enumerate(order, start=1):  # each caller's place now
        old = olds.get(c.uniqueid)
        if old is None:
            out.append(Change("caller.joined", q, _caller(c, place)))
            continue
        if (place_was := was[c.uniqueid]) != place:
            moved.append({"uniqueid": c.uniqueid, "place": place, "was": place_was})
        if old.state is not c.state:
            out.append(Change("caller.state", q, _caller(c, place) | {"was": old.state.value}))
    if moved:
        out.append(Change("caller.place", q, {"moved": moved}))
    return out


def _agent_changes(before: QueueState, after: QueueState) -> list[Change]:
    q = after.name
    out: list[Change] = []
    for iface in sorted(set(before.agents) - set(after.agents)):
        out.append(Change("agent.removed", q, {"interface": iface}))
    for iface in sorted(after.agents):
        a, old = after.agents[iface], before.agents.get(iface)
        if old is None or (old.state, old.paused_reason) != (a.state, a.paused_reason):
            was = None if old is None else old.state.value
            out.append(Change("agent.state", q, _agent(a) | {"was": was}))
    return out


def changes(
    before: QueueState | None, after: QueueState, hints: Mapping[str, str] | None = None
) -> list[Change]:
    """The changes from ``before`` (None: nothing known yet) to ``after`` of one queue:
    callers who left, then callers joined or moved in order, then agents.

    ``hints`` maps a departed caller's uniqueid to the reason its remover knew
    (``callback``, ``expired``); other reasons are read from the states.
    """
    base = before if before is not None else QueueState(after.name)
    return _caller_changes(base, after, hints or {}) + _agent_changes(base, after)


_CALLBACK_KINDS: Mapping[CallbackStatus, str] = {
    CallbackStatus.PENDING: "callback.requested",
    CallbackStatus.DIALING: "callback.dialling",
    CallbackStatus.CONNECTED: "callback.connected",
    CallbackStatus.FAILED: "callback.failed",
    CallbackStatus.CANCELLED: "callback.cancelled",
}


def callback_change(req: CallbackRequest) -> Change:
    """The change a callback request's latest transition makes (its status now,
    and its last history entry: a request back to pending is a ``callback.retry``)."""
    last = req.history[-1] if req.history else {}
    kind = _CALLBACK_KINDS[req.status]
    if req.status is CallbackStatus.PENDING and last.get("event") not in (None, "requested"):
        kind = "callback.moved" if last.get("event") == "moved" else "callback.retry"
    data = {
        "id": req.id,
        "status": req.status.value,
        "attempts": req.attempts,
        "number": req.number,
        "topic": req.topic,
        "arrived_at": req.arrived_at,
        "requested_at": req.requested_at,
        "next_attempt_at": req.next_attempt_at,
        "last_result": req.last_result,
        "event": str(last.get("event", "")),
    }
    return Change(kind, req.queue, data)


def hotline_override_change(hotline: str, mode: str, is_open: bool, by: str) -> Change:
    """A hotline closed or opened by a supervisor (``mode``: closed, open, none)."""
    kind = "hotline.closed" if mode == "closed" else "hotline.opened"
    data = {"hotline": hotline, "override": mode, "open": is_open, "by": by}
    return Change(kind, "", data)


def queue_override_change(queue: str, hotline: str, mode: str, is_open: bool, by: str) -> Change:
    """A queue closed or opened by a supervisor."""
    kind = "queue.closed" if mode == "closed" else "queue.opened"
    data = {"hotline": hotline, "queue": queue, "override": mode, "open": is_open, "by": by}
    return Change(kind, queue, data)


def emergency_change(hotline: str, prompt: str | None, text: str, by: str) -> Change:
    """An emergency announcement set (``prompt``) or cleared (None) on a hotline."""
    if prompt is None:
        return Change("emergency.cleared", "", {"hotline": hotline, "by": by})
    return Change(
        "emergency.set", "", {"hotline": hotline, "prompt": prompt, "text": text, "by": by}
    )
