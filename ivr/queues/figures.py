"""Today's figures of a queue, from its AMI events: pure functions, no I/O.

:func:`increment` turns one typed AMI event into what it adds to a day's counters
of one queue (an :class:`Increment`); :class:`Figures` holds a day's counters and
derives the figures a supervisor reads. The day is the calendar day in Bangkok
(Asia/Bangkok) of the event's AMI ``Timestamp`` (the clock when it has none), so
the counters start again at midnight Bangkok time.

Counters (per queue and day):

- ``offered``: callers who joined the queue (``QueueCallerJoin``). A caller goes
  round the dialplan's waiting loop and joins again at each turn; the event id
  (:attr:`Increment.event_id`) is the same at every turn, so a store that counts
  each id once counts the caller once.
- ``answered``: callers connected to an agent (``AgentConnect``).
- ``answered_within_sl``: answered after waiting at most the queue's
  ``service_level_s``.
- ``abandoned``: callers who hung up while waiting (``QueueCallerAbandon``) after
  ``short_abandon_s`` or more; ``short_abandoned``: those who hung up sooner,
  counted apart and left out of ``abandoned`` (a misdial, not a lost citizen).
- ``hold_s``: the waits of the answered callers, summed; ``handled`` and
  ``talk_s``: calls an agent finished (``AgentComplete``) and their talk time.
- ``callbacks_failed``: callbacks that used their last attempt without reaching
  the citizen (counted once per callback, on the day it failed; see
  :func:`ivr.lineup.figures.callback_increment`).

The wait is the caller's whole wait since the original arrival when it is known
(the waiting loop's ``Queue()`` turns each report only their own ``HoldTime``).

Figures derived (``None`` while their denominator is 0):

- service level = answered_within_sl / (answered + abandoned);
- abandon rate = abandoned / (answered + abandoned);
- average speed of answer (ASA) = hold_s / answered, in seconds;
- average handle time (AHT) = talk_s / handled, in seconds (talk time only: the
  agents' wrap-up is not in the AMI events).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ivr.ami.events import (
    AgentComplete,
    AgentConnect,
    AnyEvent,
    QueueCallerAbandon,
    QueueCallerJoin,
)
from ivr.menus.hours import BANGKOK

__all__ = ["COUNTED", "COUNTERS", "Figures", "Increment", "Targets", "day_of", "increment"]

#: the events that count in the figures (what :func:`increment` reads)
COUNTED = (QueueCallerJoin, AgentConnect, QueueCallerAbandon, AgentComplete)

_ZONE = ZoneInfo(BANGKOK)


@dataclass(frozen=True)
class Targets:
    """A queue's service-level target (``service_level_target`` of the calls answered
    within ``service_level_s``) and its short-abandon limit."""

    service_level_s: float = 30.0
    service_level_target: float = 0.8
    short_abandon_s: float = 5.0


@dataclass(frozen=True)
class Increment:
    """What one event adds to the counters of ``queue`` on ``day`` (``YYYY-MM-DD``).

    ``event_id`` names the event deterministically (the caller's uniqueid, the
    event and the queue), so that it can be counted once however often it is seen."""

    queue: str
    day: str
    event_id: str
    counts: Mapping[str, int]


def day_of(timestamp: float) -> str:
    """The calendar day in Bangkok of a Unix time, as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(timestamp, _ZONE).date().isoformat()


def _wait(reported: int | None, at: float, arrived_at: float | None) -> float | None:
    """The caller's wait: since the original arrival when known, else as reported."""
    whole = at - arrived_at if arrived_at is not None else None
    known = [w for w in (reported, whole) if w is not None]
    return max(0.0, float(max(known))) if known else None


def _counts(event: AnyEvent, targets: Targets, wait: float | None) -> dict[str, int] | None:
    if isinstance(event, QueueCallerJoin):
        return {"offered": 1}
    if isinstance(event, AgentConnect):
        within = wait is not None and wait <= targets.service_level_s
        return {
            "answered": 1,
            "answered_within_sl": int(within),
            "hold_s": round(wait or 0.0),
        }
    if isinstance(event, QueueCallerAbandon):
        short = wait is not None and wait < targets.short_abandon_s
        return {"short_abandoned": 1} if short else {"abandoned": 1}
    if isinstance(event, AgentComplete):
        return {"handled": 1, "talk_s": max(0, event.talk_time or 0)}
    return None


def is_probe(event: AnyEvent) -> bool:
    """A reachability probe's call (``IVR_PROBE=1``, shown in every channel event by
    ``channelvars = IVR_PROBE`` in manager.conf): it never counts."""
    return event.get("ChanVariable").replace(" ", "") == "IVR_PROBE=1"


def increment(
    event: AnyEvent, targets: Targets, now: float, arrived_at: float | None = None
) -> Increment | None:
    """What ``event`` adds to its queue's counters, or None when it counts for nothing.

    ``now`` stands in for an event without a ``Timestamp``; ``arrived_at`` is the
    caller's original arrival in the line, when known."""
    if not isinstance(event, COUNTED):
        return None
    if not event.queue or not event.uniqueid or is_probe(event):
        return None
    at = event.timestamp if event.timestamp is not None else now
    reported = event.hold_time if isinstance(event, AgentConnect | QueueCallerAbandon) else None
    counts = _counts(event, targets, _wait(reported, at, arrived_at))
    if counts is None:  # pragma: no cover - every type above has counts
        return None
    return Increment(
        queue=event.queue,
        day=day_of(at),
        event_id=f"{event.uniqueid}:{event.EVENT}:{event.queue}",
        counts=counts,
    )


def _ratio(part: float, whole: float, digits: int = 3) -> float | None:
    return round(part / whole, digits) if whole else None


@dataclass(frozen=True)
class Figures:
    """One queue's counters on one day, and the figures derived from them."""

    offered: int = 0
    answered: int = 0
    answered_within_sl: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    hold_s: int = 0
    handled: int = 0
    talk_s: int = 0
    callbacks_failed: int = 0

    @classmethod
    def from_counts(cls, counts: Mapping[str, Any]) -> Figures:
        """From stored counters (names as the fields; missing or unreadable: 0)."""
        values: dict[str, int] = {}
        for f in fields(cls):
            try:
                values[f.name] = int(float(counts.get(f.name, 0) or 0))
            except (TypeError, ValueError):
                values[f.name] = 0
        return cls(**values)

    @property
    def service_level(self) -> float | None:
        return _ratio(self.answered_within_sl, self.answered + self.abandoned)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.answered + self.abandoned)

    @property
    def asa_s(self) -> float | None:
        return _ratio(self.hold_s, self.answered, 1)

    @property
    def aht_s(self) -> float | None:
        return _ratio(self.talk_s, self.handled, 1)

    def to_dict(self, day: str, targets: Targets) -> dict[str, Any]:
        """The counters, the derived figures and the queue's targets (for the API)."""
        return {
            "day": day,
            **asdict(self),
            "service_level": self.service_level,
            "abandon_rate": self.abandon_rate,
            "asa_s": self.asa_s,
            "aht_s": self.aht_s,
            "service_level_s": targets.service_level_s,
            "service_level_target": targets.service_level_target,
            "short_abandon_s": targets.short_abandon_s,
        }


#: The counter names, as stored.
COUNTERS = tuple(f.name for f in fields(Figures))
