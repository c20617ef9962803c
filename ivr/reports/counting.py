"""The figures of a set of calls (``FIG`` in the reports), counted in one pass (pure).

Each definition is written once, here and in the README ("Reports: definitions"):

- **offered** (ผู้โทรเข้าคิว): callers who joined the queue (calls with a queue,
  probe calls never count), in the slot of their arrival (Bangkok half hour).
- **answered** (รับสาย): offered callers an agent answered.
- **answered_within_sl**: answered after waiting at most the queue's
  ``service_level_s``.
- **short_abandoned** (วางสายเร็ว): callers who hung up in the queue after waiting
  less than the queue's ``short_abandon_s`` (not in abandoned).
- **abandoned** (วางสายระหว่างรอ): callers who hung up in the queue after waiting
  at least ``short_abandon_s``.
- **service_level** (ระดับการให้บริการ): answered_within_sl ÷ (offered −
  short_abandoned); null without such callers.
- **abandon_rate** (อัตราการวางสาย): abandoned ÷ (offered − short_abandoned).
- **asa_s** (เวลารอเฉลี่ยก่อนรับสาย): mean wait of the answered.
- **longest_wait_s** (รอนานที่สุด): the longest wait of the answered and the abandoned.
- **aht_s** (เวลาสนทนาเฉลี่ย): mean talk time of the answered whose talk time is known.
- **callbacks_requested / connected / failed** (โทรกลับ): callbacks booked in the
  period (by the time they were booked), and of these the ones whose call reached
  the caller and the ones given up after their last attempt.
- **callback_time_s** (เวลาจนโทรกลับได้): median time from booking to the call
  reaching the caller, over the connected callbacks.
- **no_agent** (ไม่มีเจ้าหน้าที่): offered callers the no-agent rule acted on
  (nobody staffed); **max_wait** (รอเกินกำหนด): those the maximum-wait rule acted on
  (the first rule that acted counts).

Seconds are rounded to 0.1 s, shares to 4 decimals.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ivr.queues.figures import Targets
from ivr.reports.rows import CallbackRow, CallRow

__all__ = ["FIG_KEYS", "Fig", "Seen", "seen"]

FIG_KEYS = (
    "offered", "answered", "answered_within_sl", "abandoned", "short_abandoned",
    "service_level", "abandon_rate", "asa_s", "longest_wait_s", "aht_s",
    "callbacks_requested", "callbacks_connected", "callbacks_failed", "callback_time_s",
    "no_agent", "max_wait",
)  # fmt: skip


_SUMMED = (
    "offered", "answered", "within", "abandoned", "short", "answered_waits", "talk_n",
    "wait_total", "talk_total", "callbacks_requested", "callbacks_connected",
    "callbacks_failed", "no_agent", "max_wait",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Seen:
    """What one offered call adds to the figures (worked out once per call)."""

    answered: bool
    within_sl: bool
    abandoned: bool
    short: bool
    wait_s: float | None  # of the answered and the abandoned
    talk_s: float | None
    no_agent: bool
    max_wait: bool


def seen(call: CallRow, targets: Targets) -> Seen:
    """One offered call, against its queue's targets."""
    wait = call.wait_s
    answered = call.outcome == "answered"
    gone = call.outcome == "abandoned"
    short = gone and wait is not None and wait < targets.short_abandon_s
    return Seen(
        answered=answered,
        within_sl=answered and (wait or 0.0) <= targets.service_level_s,
        abandoned=gone and not short,
        short=short,
        wait_s=wait if answered or gone else None,
        talk_s=call.talk_s if answered else None,
        no_agent=call.rule == "no-agent",
        max_wait=call.rule == "max-wait",
    )


def _mean(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


class Fig:
    """The running figures of some calls and callbacks."""

    __slots__ = (
        "abandoned", "answered", "answered_waits", "callback_times", "callbacks_connected",
        "callbacks_failed", "callbacks_requested", "longest", "max_wait", "no_agent",
        "offered", "short", "talk_n", "talk_total", "wait_total", "within",
    )  # fmt: skip

    def __init__(self) -> None:
        self.offered = self.answered = self.within = self.abandoned = self.short = 0
        self.answered_waits = self.talk_n = 0
        self.wait_total = self.talk_total = 0.0
        self.longest: float | None = None
        self.callbacks_requested = self.callbacks_connected = self.callbacks_failed = 0
        self.callback_times: list[float] = []
        self.no_agent = self.max_wait = 0

    def add(self, s: Seen) -> None:
        self.offered += 1
        self.abandoned += s.abandoned
        self.short += s.short
        self.no_agent += s.no_agent
        self.max_wait += s.max_wait
        if s.answered:
            self.answered += 1
            self.within += s.within_sl
            if s.wait_s is not None:
                self.answered_waits += 1
                self.wait_total += s.wait_s
            if s.talk_s is not None:
                self.talk_n += 1
                self.talk_total += s.talk_s
        if s.wait_s is not None and (self.longest is None or s.wait_s > self.longest):
            self.longest = s.wait_s

    def merge(self, other: Fig) -> Fig:
        """Add ``other``'s figures to these (a day from its half hours); self."""
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.callback_times.extend(other.callback_times)
        if other.longest is not None and (self.longest is None or other.longest > self.longest):
            self.longest = other.longest
        return self

    @classmethod
    def total(cls, figs: Iterable[Fig]) -> Fig:
        out = cls()
        for fig in figs:
            out.merge(fig)
        return out

    def add_callback(self, cb: CallbackRow) -> None:
        self.callbacks_requested += 1
        if cb.status == "connected":
            self.callbacks_connected += 1
            if cb.connected_at is not None and cb.requested_at is not None:
                self.callback_times.append((cb.connected_at - cb.requested_at).total_seconds())
        elif cb.status == "failed":
            self.callbacks_failed += 1

    @property
    def arrivals(self) -> int:
        return self.offered

    @property
    def aht_s(self) -> float | None:
        return _mean(self.talk_total, self.talk_n)

    def to_dict(self) -> dict[str, Any]:
        counted = self.offered - self.short
        times = self.callback_times
        return {
            "offered": self.offered,
            "answered": self.answered,
            "answered_within_sl": self.within,
            "abandoned": self.abandoned,
            "short_abandoned": self.short,
            "service_level": _share(self.within, counted),
            "abandon_rate": _share(self.abandoned, counted),
            "asa_s": _mean(self.wait_total, self.answered_waits),
            "longest_wait_s": None if self.longest is None else round(self.longest, 1),
            "aht_s": self.aht_s,
            "callbacks_requested": self.callbacks_requested,
            "callbacks_connected": self.callbacks_connected,
            "callbacks_failed": self.callbacks_failed,
            "callback_time_s": round(statistics.median(times), 1) if times else None,
            "no_agent": self.no_agent,
            "max_wait": self.max_wait,
        }
