"""What a waiting caller is told: place in line, estimated wait, position for ``Queue()``.

Pure functions over a queue's live state and its pending callbacks, the one
place where a wait estimate is made from both (the ``queue-wait`` route and the
live-queue API ask the same question).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ivr.callbacks.model import CallbackRequest
from ivr.lineup.places import place_of, queue_position
from ivr.queues.estimate import estimate_wait, mean_handle_time, staffing
from ivr.queues.state import Caller, CallerState, QueueState

__all__ = ["WaitView", "new_caller_estimate", "view_of"]


@dataclass(frozen=True)
class WaitView:
    place: int
    estimate_s: float | None
    position: int  # for Queue()
    ringing: bool


def _estimate(state: QueueState, place: int, default_handle_s: float) -> float | None:
    staffed, free = staffing(state)
    return estimate_wait(
        place, staffed, free, mean_handle_time(state.handle_times), default_handle_s
    )


def view_of(
    state: QueueState,
    uniqueid: str,
    arrived_at: float,
    callbacks: Sequence[CallbackRequest],
    default_handle_s: float,
) -> WaitView:
    """Place, estimate and queue position of a caller (pure)."""
    me = state.callers.get(uniqueid)
    if me is None:  # not seen joining yet (first round): place it by its arrival
        me = Caller(uniqueid, arrived_at=arrived_at, state=CallerState.ANNOUNCING)
        state = replace(state, callers={**state.callers, uniqueid: me})
    place = place_of(state, uniqueid, callbacks)
    return WaitView(
        place=place,
        estimate_s=_estimate(state, place, default_handle_s),
        position=queue_position(state, me.arrived_at, uniqueid),
        ringing=me.state is CallerState.RINGING,
    )


def new_caller_estimate(
    state: QueueState, callbacks: Sequence[CallbackRequest], default_handle_s: float
) -> float | None:
    """The wait a caller joining ``state`` now would be told: behind every caller
    and every pending callback."""
    place = len(state.callers) + len(callbacks) + 1
    return _estimate(state, place, default_handle_s)
