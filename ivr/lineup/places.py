"""Places in line, by original arrival: live callers and pending callbacks together.

Pure functions, no I/O.

Two different numbers:

* :func:`place_of` is the place a caller is told ("ท่านอยู่ในลำดับที่ …"): everyone
  who arrived earlier and still holds a place is ahead, whether they are in
  Asterisk's queue, out of it for an announcement, being rung, or waiting for a
  callback. A live caller behind three pending callbacks hears place 4.
  :func:`places` gives every live caller's place at once (one sort instead of a
  scan per caller: the API lists thousands).
* :func:`queue_position` is the ``position`` argument given back to Asterisk's
  ``Queue()`` when a caller re-enters after an announcement: only callers inside
  Asterisk's queue count there (callbacks and announcing callers are not in it).

Equal arrival times are ordered by uniqueid (callback requests by their id), so
every instance computes the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.queues.state import CallerState, QueueState

__all__ = [
    "HOLDS_PLACE",
    "IN_ASTERISK_QUEUE",
    "PENDING_CALLBACK",
    "place_of",
    "places",
    "queue_position",
]

#: Caller states that hold a place in line.
HOLDS_PLACE: Final = frozenset({CallerState.WAITING, CallerState.ANNOUNCING, CallerState.RINGING})
#: Caller states inside Asterisk's own queue.
IN_ASTERISK_QUEUE: Final = frozenset({CallerState.WAITING, CallerState.RINGING})
#: Callback states that hold a place in line.
PENDING_CALLBACK: Final = frozenset({CallbackStatus.PENDING, CallbackStatus.DIALING})


def place_of(state: QueueState, uniqueid: str, callbacks: Sequence[CallbackRequest]) -> int:
    """The caller's place in line (1 = next), counting pending callbacks of this queue.

    A caller the model does not know (not yet seen joining) is placed after
    everyone who holds a place now.
    """
    me = state.callers.get(uniqueid)
    if me is None:
        key: tuple[float, str] = (float("inf"), uniqueid)
    else:
        key = (me.arrived_at, me.uniqueid)
    ahead = sum(
        1
        for c in state.callers.values()
        if c.uniqueid != uniqueid and c.state in HOLDS_PLACE and (c.arrived_at, c.uniqueid) < key
    )
    ahead += sum(
        1
        for cb in callbacks
        if cb.queue == state.name
        and cb.status in PENDING_CALLBACK
        and cb.call_uniqueid != uniqueid
        and (cb.arrived_at, cb.call_uniqueid or cb.id) < key
    )
    return 1 + ahead


def places(state: QueueState, callbacks: Sequence[CallbackRequest]) -> dict[str, int]:
    """The place of every live caller of ``state`` (by uniqueid), each as :func:`place_of`
    gives it: one walk through the callers in order, rather than a scan per caller."""
    pending = [
        ((cb.arrived_at, cb.call_uniqueid or cb.id), cb.call_uniqueid)
        for cb in callbacks
        if cb.queue == state.name and cb.status in PENDING_CALLBACK
    ]
    booked = sorted(key for key, _ in pending)
    own: dict[str, list[tuple[float, str]]] = {}  # a caller's own callbacks never count
    for key, uid in pending:
        if uid:
            own.setdefault(uid, []).append(key)
    out: dict[str, int] = {}
    held = before = 0  # callers holding a place, callbacks: both ahead of this caller
    for c in state.callers_in_order():
        key = (c.arrived_at, c.uniqueid)
        while before < len(booked) and booked[before] < key:
            before += 1
        mine = own.get(c.uniqueid)
        out[c.uniqueid] = 1 + held + before - (sum(k < key for k in mine) if mine else 0)
        if c.state in HOLDS_PLACE:
            held += 1
    return out


def queue_position(state: QueueState, arrived_at: float, uniqueid: str = "") -> int:
    """``position`` for ``Queue()``: 1 + callers in Asterisk's queue who arrived earlier."""
    key = (arrived_at, uniqueid)
    return 1 + sum(
        1
        for c in state.callers.values()
        if c.uniqueid != uniqueid
        and c.state in IN_ASTERISK_QUEUE
        and (c.arrived_at, c.uniqueid) < key
    )
