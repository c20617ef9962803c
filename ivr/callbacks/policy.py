"""When a callback may be placed and tried again: the callback-only rules (pure, no I/O).

The rules that also need the live queue (whether a callback's place has come
up, which agent is free, agents held for a callback) are in
:mod:`ivr.lineup.dispatch_policy`, which sees live callers and callbacks together.

* :func:`due`: PENDING and its ``next_attempt_at`` (retry delay, next opening) passed;
* :func:`is_open`, :func:`next_open_at`: business hours (never dialled while closed);
* :func:`retry_at`: when to try again after a failed attempt;
* :func:`reservation_reason`, :func:`stale_reservation`: an agent held (paused) for a
  callback carries the pause reason ``ivr-callback:<id>``; the hold is stale once
  that callback is no longer being dialled, so a crash never leaves an agent paused;
* once the citizen pressed 1 (``accepted_at``) a request is never :func:`due` again;
  its claim then ends :data:`CONNECT_JOIN_GRACE_S` after the 1 at the latest and
  only waits for the "connected" reported after "connecting you": when none comes
  (its instance died), the leader closes it as connected when the claim expires
  (ACCEPT and RECLAIM in :mod:`ivr.store.callback_scripts`).

Times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.menus.hours import BusinessHours

__all__ = [
    "CONNECT_JOIN_GRACE_S",
    "NEVER_OPEN_RECHECK_S",
    "RESERVATION_PREFIX",
    "HoursFor",
    "due",
    "is_open",
    "next_open_at",
    "reservation_reason",
    "retry_at",
    "stale_reservation",
]

#: When a queue never opens in the hours' search range, look again this much later.
NEVER_OPEN_RECHECK_S = 24 * 3600.0

HoursFor = Callable[[str], BusinessHours | None]
#: Pause reason of an agent held for a callback being dialled: the prefix and its id.
RESERVATION_PREFIX = "ivr-callback:"
#: A CONNECTED callback's agent is released at the latest this long after it was
#: reported connected (after "connecting you"): the citizen joins the queue at once,
#: where the agent is released on sight; the grace is for a join event missed. It is
#: also how long after the 1 the claim of an accepted request runs: "connecting you"
#: (about 7 s of speech, 15 s on a machine whose timers run at half speed) and the
#: report fit well inside it, and when no report comes (the instance died during the
#: prompt; the dialplan queues the citizen all the same) the request is closed as
#: connected when it ends and its held agent let go.
CONNECT_JOIN_GRACE_S = 30.0


def reservation_reason(callback_id: str) -> str:
    return f"{RESERVATION_PREFIX}{callback_id}"


def stale_reservation(
    req: CallbackRequest | None, now: float, join_grace_s: float = CONNECT_JOIN_GRACE_S
) -> bool:
    """An agent held for ``req`` may go back to work.

    Held while the callback is DIALING under a live claim (once the citizen pressed
    1, that claim ends :data:`CONNECT_JOIN_GRACE_S` after the 1 at the latest),
    and for ``join_grace_s`` after it was reported connected (the citizen joins the
    queue at the head, where the dialer releases the agent on sight); stale in every
    other case: the request is gone, finished, back to PENDING, its claim expired,
    or it was closed as connected without a report (its accepted claim had expired).
    """
    if req is None:
        return True
    if req.status is CallbackStatus.DIALING:
        return req.dialing_until <= now
    if req.status is CallbackStatus.CONNECTED:
        connected = [h for h in req.history if h.get("event") == "connected"]
        if not connected or connected[-1].get("unreported"):
            return True
        return now - float(connected[-1].get("at", 0.0)) >= join_grace_s
    return True


def due(req: CallbackRequest, now: float) -> bool:
    """PENDING and its ``next_attempt_at`` (retry delay, next opening) has passed; never
    a request the citizen already accepted (pressed 1 on)."""
    pending = req.status is CallbackStatus.PENDING
    return pending and req.next_attempt_at <= now and not req.accepted_at


def is_open(hours: BusinessHours | None, t: float) -> bool:
    """Open at epoch ``t`` (always, without hours)."""
    return hours is None or hours.is_open(datetime.fromtimestamp(t, UTC))


def next_open_at(t: float, hours: BusinessHours | None) -> float:
    """``t`` when open then, else the next opening after it (epoch seconds).

    When the hours do not open in their whole search range, a day later: the
    request is looked at again then (an admin may have fixed the hours).
    """
    if hours is None:
        return t
    opening = hours.next_opening(datetime.fromtimestamp(t, UTC))
    if opening is None:
        return t + NEVER_OPEN_RECHECK_S
    return max(t, opening.timestamp())


def retry_at(
    req: CallbackRequest, now: float, delay_s: float, hours: BusinessHours | None
) -> float:
    """When to try ``req`` again after a failed attempt at ``now``: ``delay_s`` later,
    or the next opening when the queue is closed then. The original arrival (its
    place in line) is unchanged."""
    del req  # same delay for every attempt; the request is passed for future policies
    return next_open_at(now + max(0.0, delay_s), hours)
