"""The rebuild of every queue from an AMI ``QueueStatus`` reply, after a (re)connect.

Pure functions, no I/O, beside :mod:`ivr.queues.model` (which follows the events
between two rebuilds). :func:`resync` keeps what only the model knows: original
arrivals, callers out for an announcement, rolling statistics, counters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ivr.ami.events import parse_float, parse_int
from ivr.queues.model import agent_state_for, parse_flag
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState

__all__ = ["resync"]


def resync(
    reply: Iterable[Mapping[str, str]],
    now: float,
    previous: Mapping[str, QueueState],
) -> dict[str, QueueState]:
    """Every queue rebuilt from an AMI ``QueueStatus`` reply.

    ``QueueParams`` gives the queue, app_queue's averages and its ``Completed``
    count; ``QueueMember`` its agents; ``QueueEntry`` the callers in Asterisk's
    queue (``Wait`` seconds in this lap: ``joined_at = now - Wait``).

    From ``previous``, for the same queue: a known caller keeps its original
    arrival; callers not in Asterisk's queue now (out for an announcement, or
    gone while the AMI was down) are kept as ANNOUNCING for :func:`expire` to
    drop if they do not come back; the rolling hold and handle times, the
    counters and an agent's WRAPUP are kept. A caller unknown before arrived
    when it joined. Without a previous state, ``answered`` starts from
    ``Completed``; ``abandoned`` starts from 0, because Asterisk's ``Abandoned``
    also counts every announcement lap (see :mod:`ivr.queues.model`).
    """
    out: dict[str, QueueState] = {}
    entries: list[Mapping[str, str]] = []
    members: list[Mapping[str, str]] = []
    for item in reply:
        kind = item.get("Event", "")
        name = item.get("Queue", "")
        if not name:
            continue
        if kind == "QueueParams":
            out[name] = _from_params(item, now, previous.get(name))
        elif kind == "QueueMember":
            members.append(item)
        elif kind == "QueueEntry":
            entries.append(item)
    for item in members:
        name = item["Queue"]
        _resync_member(_queue(out, name, now, previous), item, now, previous.get(name))
    for item in entries:
        name = item["Queue"]
        _resync_entry(_queue(out, name, now, previous), item, now, previous.get(name))
    for name, state in out.items():
        old = previous.get(name)
        if old is None:
            continue
        for uid, caller in old.callers.items():
            if uid in state.callers:
                continue
            kept = Caller(**vars(caller))
            if kept.state is not CallerState.ANNOUNCING:
                kept.state = CallerState.ANNOUNCING
                kept.position = None
                kept.last_seen = now
            state.callers[uid] = kept
    return out


def _queue(
    out: dict[str, QueueState], name: str, now: float, previous: Mapping[str, QueueState]
) -> QueueState:
    state = out.get(name)
    if state is None:  # a member or entry without its QueueParams
        state = out[name] = _from_params({"Queue": name}, now, previous.get(name))
    return state


def _from_params(item: Mapping[str, str], now: float, old: QueueState | None) -> QueueState:
    state = QueueState(name=item["Queue"], updated_at=now)
    state.asterisk_holdtime = parse_float(item.get("Holdtime"))
    state.asterisk_talktime = parse_float(item.get("TalkTime"))
    if old is None:
        state.answered = parse_int(item.get("Completed")) or 0
        return state
    state.answered = old.answered
    state.abandoned = old.abandoned
    state.handle_times = list(old.handle_times)
    state.hold_times = list(old.hold_times)
    return state


def _resync_member(
    state: QueueState, item: Mapping[str, str], now: float, previous: QueueState | None
) -> None:
    interface = item.get("Location") or item.get("Interface") or item.get("StateInterface", "")
    if not interface:
        return
    old = previous.agents.get(interface) if previous is not None else None
    current = old.state if old is not None else AgentState.AVAILABLE
    paused = parse_flag(item.get("Paused", ""))
    agent = Agent(
        interface=interface,
        name=item.get("Name") or item.get("MemberName") or interface,
        state=agent_state_for(parse_int(item.get("Status")), paused, current),
        since=old.since if old is not None else now,
        paused_reason=item.get("PausedReason", "") if paused else "",
        calls_taken=parse_int(item.get("CallsTaken")) or 0,
        caller_uniqueid=old.caller_uniqueid if old is not None else "",
        channel=old.channel if old is not None else "",
    )
    if old is not None and old.state is not agent.state:
        agent.since = now
    if agent.state not in (AgentState.RINGING, AgentState.IN_CALL):
        agent.caller_uniqueid = ""
    if agent.state not in (AgentState.IN_CALL, AgentState.PAUSED):  # paused while talking
        agent.channel = ""
    state.agents[interface] = agent


def _resync_entry(
    state: QueueState, item: Mapping[str, str], now: float, previous: QueueState | None
) -> None:
    uid = item.get("Uniqueid", "")
    if not uid:
        return
    wait = parse_float(item.get("Wait")) or 0.0
    joined = now - wait
    old = previous.callers.get(uid) if previous is not None else None
    ringing = any(
        a.caller_uniqueid == uid and a.state is AgentState.RINGING for a in state.agents.values()
    )
    state.callers[uid] = Caller(
        uniqueid=uid,
        channel=item.get("Channel", ""),
        arrived_at=min(old.arrived_at, joined) if old is not None else joined,
        joined_at=joined,
        position=parse_int(item.get("Position")),
        caller_id=item.get("CallerIDNum", ""),
        topic=old.topic if old is not None else "",
        # A caller being rung is still a QueueEntry.
        state=CallerState.RINGING if ringing else CallerState.WAITING,
        last_seen=now,
    )
