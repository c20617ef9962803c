"""When a callback's place comes up and which agent takes it: pure functions, no I/O.

The callback-only rules (due, business hours, retry timing) are in
:mod:`ivr.callbacks.policy`; these need the live queue as well.

A callback request keeps a virtual place in line: the original arrival of the
citizen's call. Its place **comes up** when nobody who holds a place in the
queue arrived before it: no live caller waiting (in Asterisk's queue or out
for an announcement) and no earlier callback that is due. A caller being rung
for an agent is already being served and no longer counts, nor does a callback
already being dialled, nor one waiting for its retry time (it keeps its
arrival and gets its place back once due).

A callback is dialled when its place is up, it is due, the queue is open
(its :class:`~ivr.menus.hours.BusinessHours`), and an agent is free or about
to be: AVAILABLE and not paused, or in wrap-up that ends within a grace period
(the citizen needs a few seconds to answer anyway). Each free agent is given to
at most one callback, counting the callbacks already ringing, and an agent in
several queues is counted once.

**Holding the agent.** Between the Originate and the citizen pressing 1 (ring,
who-is-calling, the key press) a live caller who came later would take the free
agent. The dispatcher therefore pauses the agent it counted for the callback,
in every queue it serves, with the reason ``ivr-callback:<id>``
(:func:`ivr.callbacks.policy.reservation_reason`), and unpauses it when the citizen has joined the
queue at the head, or as soon as the attempt ends otherwise. A reservation
whose callback is no longer being dialled is stale (:func:`ivr.callbacks.policy.stale_reservation`)
and released by the leader, so a crash never leaves an agent paused. An agent
held this way is not counted again for its callback.

Times are epoch seconds; ties in arrival are ordered by request id, so every
instance computes the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.callbacks.policy import (
    RESERVATION_PREFIX,
    HoursFor,
    due,
    is_open,
)
from ivr.queues.state import AgentState, Caller, CallerState, QueueState

__all__ = [
    "AHEAD_STATES",
    "agent_ready",
    "choose",
    "pick_agent",
    "place_is_up",
    "ready_agents",
    "reservations",
]

#: Live caller states that are ahead of a later callback (RINGING is being served).
AHEAD_STATES = frozenset({CallerState.WAITING, CallerState.ANNOUNCING})


def reservations(states: Mapping[str, QueueState]) -> list[tuple[str, str, str]]:
    """(queue, interface, callback id) of every agent paused for a callback."""
    out = []
    for name, state in states.items():
        for agent in state.agents.values():
            reason = agent.paused_reason or ""
            if agent.state is AgentState.PAUSED and reason.startswith(RESERVATION_PREFIX):
                out.append((name, agent.interface, reason.removeprefix(RESERVATION_PREFIX)))
    return sorted(out)


def pick_agent(
    state: QueueState,
    now: float,
    wrapup_grace_s: float,
    wrapup_s: float | None = None,
    exclude: Iterable[str] = (),
) -> str | None:
    """The agent to hold for a callback: a ready one, AVAILABLE before WRAPUP."""
    skip = set(exclude)
    ready = [i for i in ready_agents(state, now, wrapup_grace_s, wrapup_s) if i not in skip]
    if not ready:
        return None
    return min(ready, key=lambda i: (state.agents[i].state is not AgentState.AVAILABLE, i))


def _key(req: CallbackRequest) -> tuple[float, str]:
    return (req.arrived_at, req.id)


def _caller_arrival(caller: Caller) -> float:
    """A caller's original arrival; this spell's join if the arrival is unknown."""
    return caller.arrived_at or caller.joined_at


def place_is_up(
    req: CallbackRequest,
    state: QueueState,
    pending: Sequence[CallbackRequest],
    now: float | None = None,
) -> bool:
    """Nobody holding a place in ``state``'s queue is ahead of ``req``.

    Ahead means: a live caller WAITING or ANNOUNCING who arrived earlier, or an
    earlier PENDING callback of the same queue in ``pending``. With ``now``, an
    earlier callback counts only when it is due (one waiting for its retry time
    does not block the line); without it, every earlier PENDING one counts.
    Callbacks being dialled (DIALING) are already served and do not count.
    """
    key = _key(req)
    for caller in state.callers.values():
        if caller.state in AHEAD_STATES and (_caller_arrival(caller), caller.uniqueid) < key:
            return False
    for other in pending:
        if other.id == req.id or other.queue != req.queue:
            continue
        if other.status is not CallbackStatus.PENDING:
            continue
        if now is not None and not due(other, now):
            continue
        if _key(other) < key:
            return False
    return True


def _agent_ready(
    state: AgentState,
    since: float,
    paused: bool,
    now: float,
    grace_s: float,
    wrapup_s: float | None,
) -> bool:
    if paused:
        return False
    if state is AgentState.AVAILABLE:
        return True
    if state is AgentState.WRAPUP and wrapup_s is not None:
        return since + wrapup_s <= now + grace_s
    return False


def ready_agents(
    state: QueueState, now: float, wrapup_grace_s: float, wrapup_s: float | None = None
) -> list[str]:
    """Interfaces of the agents free now or about to be (see :func:`agent_ready`)."""
    return sorted(
        a.interface
        for a in state.agents.values()
        if _agent_ready(a.state, a.since, bool(a.paused_reason), now, wrapup_grace_s, wrapup_s)
    )


def agent_ready(
    state: QueueState, now: float, wrapup_grace_s: float, wrapup_s: float | None = None
) -> bool:
    """An agent of the queue is free: AVAILABLE and not paused, or in WRAPUP ending
    within ``wrapup_grace_s`` seconds.

    ``wrapup_s`` is the queue's ``wrapuptime`` (a wrap-up started at the agent's
    ``since`` ends ``wrapup_s`` later); when it is unknown (None), agents in
    wrap-up are not counted.
    """
    return bool(ready_agents(state, now, wrapup_grace_s, wrapup_s))


def _agent_taker(ready: Mapping[str, list[str]]) -> Callable[[str], bool]:
    """``take(queue)`` gives one ready agent of ``queue`` to a callback (False: none
    left); an agent in several queues is given once."""
    memberships: dict[str, int] = {}
    for interfaces in ready.values():
        for interface in interfaces:
            memberships[interface] = memberships.get(interface, 0) + 1
    used: set[str] = set()

    def take_agent(queue: str) -> bool:
        # prefer the agent in the fewest queues: leave shared agents to the other queues
        free = [i for i in ready.get(queue, ()) if i not in used]
        if not free:
            return False
        used.add(min(free, key=lambda i: (memberships[i], i)))
        return True

    return take_agent


def choose(
    queue_states: Mapping[str, QueueState],
    pending_by_queue: Mapping[str, Sequence[CallbackRequest]],
    now: float,
    *,
    wrapup_grace_s: float = 5.0,
    wrapup_s: float | None = None,
    hours_for_queue: HoursFor | None = None,
    closed: Collection[str] = (),
) -> list[CallbackRequest]:
    """The callbacks to dial now, earliest arrival first.

    ``pending_by_queue`` holds each queue's live requests (PENDING and DIALING).
    A queue without a known state is skipped (no agent is known to be free).
    Each ready agent serves one callback: first the callbacks already DIALING,
    then due ones in order of arrival while their place is up and the queue is
    open (its hours, and not in ``closed``: closed by a supervisor). A queue stops
    at the first due callback that cannot be dialled, so no later callback jumps
    ahead of it. An agent in several queues counts once.
    """
    ready: dict[str, list[str]] = {}
    for queue in pending_by_queue:
        state = queue_states.get(queue)
        if state is not None:
            ready[queue] = ready_agents(state, now, wrapup_grace_s, wrapup_s)
    take_agent = _agent_taker(ready)

    live = {
        q: sorted((r for r in reqs if r.queue == q), key=_key)
        for q, reqs in pending_by_queue.items()
        if q in ready
    }
    held = {(q, cb_id) for q, _interface, cb_id in reservations(queue_states)}
    for reqs in live.values():
        for r in reqs:
            if r.status is CallbackStatus.DIALING and (r.queue, r.id) not in held:
                take_agent(r.queue)  # an agent held (paused) for it is not ready anyway

    candidates = sorted(
        (r for reqs in live.values() for r in reqs if due(r, now)),
        key=_key,
    )

    def can_dial(req: CallbackRequest, before: list[CallbackRequest]) -> bool:
        queue = req.queue
        hours = hours_for_queue(queue) if hours_for_queue is not None else None
        return (
            queue not in closed
            and is_open(hours, now)
            and place_is_up(req, queue_states[queue], before, now)
            and take_agent(queue)
        )

    return _in_order(candidates, live, can_dial)


def _in_order(
    candidates: Sequence[CallbackRequest],
    live: Mapping[str, Sequence[CallbackRequest]],
    can_dial: Callable[[CallbackRequest, list[CallbackRequest]], bool],
) -> list[CallbackRequest]:
    """The candidates that ``can_dial`` (given the queue's others not chosen yet),
    in order; a queue stops at its first candidate that cannot be dialled."""
    chosen: list[CallbackRequest] = []
    chosen_ids: set[str] = set()
    blocked: set[str] = set()
    for req in candidates:
        if req.queue in blocked:
            continue
        others = [r for r in live[req.queue] if r.id not in chosen_ids]
        if not can_dial(req, others):
            blocked.add(req.queue)
            continue
        chosen.append(req)
        chosen_ids.add(req.id)
    return chosen
