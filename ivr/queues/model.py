"""The queue model: AMI events in, :class:`~ivr.queues.state.QueueState` changes out.

Pure functions, no I/O. One small handler per AMI event name, looked up in
:data:`HANDLERS`; :func:`apply` mutates the state of one queue. Which queue an
event belongs to is decided by :func:`queue_of` (its ``Queue`` header; a
``Hangup`` belongs to every queue).

What the model keeps that Asterisk forgets: a caller's **original arrival**.
The dialplan loops ``Queue(q,,,,<timeout>,,,,${POS})`` through an announcement,
so one call leaves and rejoins Asterisk's queue many times. A caller that leaves
without being answered is kept as ANNOUNCING (it is expected back), and rejoins
with its first ``arrived_at``. It is removed only when

* its channel hangs up (``Hangup``): an abandon, counted in ``abandoned``,
* an agent answers it (``AgentConnect``; Asterisk sends the caller's
  ``QueueCallerLeave`` just before it),
* or :func:`expire` finds it ANNOUNCING for longer than a grace period.

``QueueCallerAbandon`` is **not** the end of a call. Asterisk 22 sends it (then
``QueueCallerLeave``) whenever a caller leaves ``Queue()`` unanswered: on a hang
up, but also on the ``timeout`` argument expiring (``EXITWITHTIMEOUT`` calls
``record_abandoned()`` in ``apps/app_queue.c``), on leave-when-empty and when the
channel is redirected out. With the announcement loop every lap ends with one,
so it is handled like a leave, and only the ``Hangup`` of a caller still holding
a place counts as abandoned. For the same reason ``HoldTime`` in Asterisk's
events (and its ``Holdtime`` average) covers one lap only; the model measures
an answered caller's wait from its original arrival.

Agent states follow the device state codes app_queue reports in ``Status``
(``AST_DEVICE_*`` of ``include/asterisk/devicestate.h``), a pause overriding
them, and a wrap-up after each call (``AgentComplete``) that :func:`refresh`
ends after the queue's ``wrapuptime``.

The rebuild of every queue from an AMI ``QueueStatus`` reply (after a
(re)connect) is :func:`ivr.queues.resync.resync`. A caller is never changed in
place: each change puts a new one in its place (:meth:`QueueState.change_caller`,
see :mod:`ivr.queues.state`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from ivr.ami.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AmiEvent,
    Hangup,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
    UnknownEvent,
    parse_int,
)
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState

__all__ = [
    "HANDLERS",
    "ROLLING",
    "agent_state_for",
    "apply",
    "expire",
    "parse_flag",
    "queue_of",
    "refresh",
]

Event = AmiEvent | UnknownEvent
Handler = Callable[[QueueState, Event, float, float], None]

#: How many recent hold and handle times a queue keeps.
ROLLING: Final = 50

# AST_DEVICE_* (include/asterisk/devicestate.h) -> agent state, when not paused.
# 0 UNKNOWN is counted as available by app_queue (num_available_members).
_DEVICE_STATES: Final[Mapping[int, AgentState]] = {
    0: AgentState.AVAILABLE,  # UNKNOWN
    1: AgentState.AVAILABLE,  # NOT_INUSE
    2: AgentState.IN_CALL,  # INUSE
    3: AgentState.IN_CALL,  # BUSY
    4: AgentState.UNAVAILABLE,  # INVALID
    5: AgentState.UNAVAILABLE,  # UNAVAILABLE
    6: AgentState.RINGING,  # RINGING
    7: AgentState.IN_CALL,  # RINGINUSE: busy and rung again
    8: AgentState.IN_CALL,  # ONHOLD
}


# --------------------------------------------------------------------------- helpers


def queue_of(event: Event) -> str | None:
    """The queue an event belongs to; ``"*"`` for a ``Hangup`` (every queue), else None."""
    if event.name == "Hangup":
        return "*"
    queue = event.get("Queue")
    return queue or None


def agent_state_for(status: int | None, paused: bool | None, current: AgentState) -> AgentState:
    """Agent state from a member's device ``Status`` and ``Paused`` flag.

    A paused member stays PAUSED whatever its device does. A member in WRAPUP that
    reports its device free stays in wrap-up (app_queue will not ring it yet).
    """
    if paused:
        return AgentState.PAUSED
    if status is None:
        return AgentState.AVAILABLE if current is AgentState.PAUSED else current
    state = _DEVICE_STATES.get(status, AgentState.UNAVAILABLE)
    if state is AgentState.AVAILABLE and current is AgentState.WRAPUP:
        return AgentState.WRAPUP
    return state


def _push(values: list[float], value: float) -> None:
    values.append(value)
    del values[:-ROLLING]


def _set_agent(agent: Agent, state: AgentState, now: float) -> None:
    if agent.state is not state:
        agent.state = state
        agent.since = now


def _agent(state: QueueState, interface: str, name: str, now: float) -> Agent:
    agent = state.agents.get(interface)
    if agent is None:
        agent = Agent(interface=interface, name=name or interface, since=now)
        state.agents[interface] = agent
    elif name:
        agent.name = name
    return agent


def _interface(event: Event) -> str:
    return event.get("Interface") or event.get("Location") or event.get("StateInterface")


def _remove_caller(state: QueueState, uniqueid: str) -> Caller | None:
    return state.callers.pop(uniqueid, None) if uniqueid else None


# --------------------------------------------------------------------------- handlers


def _release_ringing(state: QueueState, uniqueid: str, now: float) -> None:
    """Agents rung for this caller are free again (the caller left or hung up)."""
    for agent in state.agents.values():
        if agent.caller_uniqueid == uniqueid and agent.state is AgentState.RINGING:
            agent.caller_uniqueid = ""
            _set_agent(agent, AgentState.AVAILABLE, now)


def _caller_join(state: QueueState, event: Event, now: float, _wrapup: float) -> None:
    if not isinstance(event, QueueCallerJoin) or not event.uniqueid:
        return
    caller = state.callers.get(event.uniqueid)
    if caller is None:
        caller = Caller(uniqueid=event.uniqueid, arrived_at=now)
        state.callers[event.uniqueid] = caller
    state.change_caller(
        event.uniqueid,
        channel=event.channel or caller.channel,
        joined_at=now,
        position=event.position,
        caller_id=event.caller_id_num or caller.caller_id,
        state=CallerState.WAITING,
        last_seen=now,
    )
    _release_ringing(state, event.uniqueid, now)


def _caller_leave(state: QueueState, event: Event, now: float, _wrapup: float) -> None:
    """QueueCallerLeave and QueueCallerAbandon: out of Asterisk's queue, place kept."""
    if not isinstance(event, QueueCallerLeave | QueueCallerAbandon):
        return
    if event.uniqueid not in state.callers:
        return  # already answered or hung up
    state.change_caller(event.uniqueid, state=CallerState.ANNOUNCING, position=None, last_seen=now)


def _agent_called(state: QueueState, event: Event, now: float, _wrapup: float) -> None:
    if not isinstance(event, AgentCalled):
        return
    if event.uniqueid in state.callers:
        state.change_caller(event.uniqueid, state=CallerState.RINGING, last_seen=now)
    if event.interface:
        agent = _agent(state, event.interface, event.member_name, now)
        if agent.state is not AgentState.PAUSED:
            _set_agent(agent, AgentState.RINGING, now)
        agent.caller_uniqueid = event.uniqueid


def _agent_ring_no_answer(state: QueueState, event: Event, now: float, _wrapup: float) -> None:
    uid = event.get("Uniqueid")
    caller = state.callers.get(uid)
    if caller is not None and caller.state is CallerState.RINGING:
        state.change_caller(uid, state=CallerState.WAITING, last_seen=now)
    agent = state.agents.get(event.get("Interface"))
    if agent is not None:
        agent.caller_uniqueid = ""
        if agent.state is AgentState.RINGING:
            _set_agent(agent, AgentState.AVAILABLE, now)


def _agent_connect(state: QueueState, event: Event, now: float, _wrapup: float) -> None:
    if not isinstance(event, AgentConnect):
        return
    state.answered += 1
    caller = _remove_caller(state, event.uniqueid)
    if caller is not None and caller.arrived_at > 0:
        _push(state.hold_times, max(0.0, now - caller.arrived_at))
    elif event.hold_time is not None:
        _push(state.hold_times, float(event.hold_time))
    if event.interface:
        agent = _agent(state, event.interface, event.member_name, now)
        _set_agent(agent, AgentState.IN_CALL, now)
        agent.caller_uniqueid = event.uniqueid
        agent.channel = event.dest_channel


def _agent_complete(state: QueueState, event: Event, now: float, wrapup_s: float) -> None:
    if not isinstance(event, AgentComplete):
        return
    if event.talk_time is not None:
        _push(state.handle_times, float(event.talk_time) + wrapup_s)
    # a member removed during the call is gone: its call ending does not bring it back
    agent = state.agents.get(event.interface) if event.interface else None
    if agent is None:
        return
    agent.calls_taken += 1
    agent.caller_uniqueid = ""
    agent.channel = ""
    if agent.state is not AgentState.PAUSED:
        _set_agent(agent, AgentState.WRAPUP if wrapup_s > 0 else AgentState.AVAILABLE, now)


def _member(state: QueueState, event: Event, now: float, _wrapup: float) -> None:
    interface = _interface(event)
    if not interface:
        return
    agent = _agent(state, interface, event.get("MemberName") or event.get("Name"), now)
    status = parse_int(event.get("Status"))
    paused = parse_flag(event.get("Paused"))
    _set_agent(agent, agent_state_for(status, paused, agent.state), now)
    if paused is not None:
        agent.paused_reason = event.get("PausedReason") if paused else ""
    calls = parse_int(event.get("CallsTaken"))
    if calls is not None:
        agent.calls_taken = calls


def _member_removed(state: QueueState, event: Event, _now: float, _wrapup: float) -> None:
    state.agents.pop(_interface(event), None)


def _hangup(state: QueueState, event: Event, now: float, _wrapup: float) -> None:
    """The caller's channel is gone while it still held a place: an abandon."""
    if not isinstance(event, Hangup):
        return
    caller = _remove_caller(state, event.uniqueid)
    if caller is None and event.channel:
        for uid, other in list(state.callers.items()):
            if other.channel == event.channel:
                caller = state.callers.pop(uid)
                break
    if caller is None:
        return
    state.abandoned += 1
    _release_ringing(state, caller.uniqueid, now)


#: The UserEvent the dialplan sends when a waiting caller leaves with a callback booked.
CALLBACK_BOOKED = "IvrCallbackBooked"
#: The UserEvent the dialplan sends when a rule moved a caller on (overflow, message).
RULE_LEFT = "IvrRuleLeft"


def _user_event(state: QueueState, event: Event, now: float, _wrapup: float) -> None:
    """A caller who left the line with a callback booked is not an abandon: the
    callback now holds the place; nor one that a rule moved on (ivr.queues.no_agent)."""
    if event.get("UserEvent") not in (CALLBACK_BOOKED, RULE_LEFT):
        return
    caller = _remove_caller(state, event.get("Uniqueid"))
    if caller is not None:
        _release_ringing(state, caller.uniqueid, now)


def parse_flag(value: str) -> bool | None:
    """A member's ``Paused`` header: ``1/true/yes`` or ``0/false/no``, else None."""
    text = value.strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no"):
        return False
    return None


#: AMI event name -> handler(state, event, now, wrapup_s).
HANDLERS: Final[Mapping[str, Handler]] = {
    "QueueCallerJoin": _caller_join,
    "QueueCallerLeave": _caller_leave,
    "QueueCallerAbandon": _caller_leave,
    "AgentCalled": _agent_called,
    "AgentRingNoAnswer": _agent_ring_no_answer,
    "AgentConnect": _agent_connect,
    "AgentComplete": _agent_complete,
    "QueueMemberStatus": _member,
    "QueueMemberPause": _member,
    "QueueMemberAdded": _member,
    "QueueMemberPenalty": _member,
    "QueueMemberRinginuse": _member,
    "QueueMemberRemoved": _member_removed,
    "Hangup": _hangup,
    "UserEvent": _user_event,
}


# --------------------------------------------------------------------------- public


def apply(state: QueueState, event: Event, now: float, wrapup_s: float = 0.0) -> None:
    """Change ``state`` (one queue) by one AMI event seen at ``now`` (epoch seconds).

    ``wrapup_s`` is the queue's ``wrapuptime``: it is added to each talk time to
    make a handle time, and an agent is in WRAPUP that long after a call. Events
    for another queue are ignored, and so are events the model does not use.
    """
    handler = HANDLERS.get(event.name)
    if handler is None:
        return
    queue = queue_of(event)
    if queue not in ("*", state.name):
        return
    handler(state, event, now, wrapup_s)
    state.updated_at = now


def refresh(state: QueueState, now: float, wrapup_s: float) -> None:
    """End wrap-ups: an agent in WRAPUP for ``wrapup_s`` seconds becomes AVAILABLE."""
    for agent in state.agents.values():
        if agent.state is AgentState.WRAPUP and now - agent.since >= wrapup_s:
            _set_agent(agent, AgentState.AVAILABLE, now)


def expire(state: QueueState, now: float, grace_s: float) -> list[Caller]:
    """Forget callers out for an announcement longer than ``grace_s``; returns them."""
    gone = [
        c
        for c in state.callers.values()
        if c.state is CallerState.ANNOUNCING and now - c.last_seen > grace_s
    ]
    for caller in gone:
        del state.callers[caller.uniqueid]
    if gone:
        state.updated_at = now
    return gone
