"""Wait estimates and the Thai phrases that announce them.

Pure functions, no I/O.

The estimate (:func:`estimate_wait`)
------------------------------------
A caller at place ``p`` has ``p - 1`` callers ahead (live callers and pending
callbacks, see :mod:`ivr.lineup.places`). With ``f`` agents free right now, the
first ``f`` of those ahead are served at once; if ``f > p - 1`` the caller is
served at once too, and the wait is 0. Otherwise ``p - f`` calls must end before
an agent is free for this caller (the ``p - 1 - f`` ahead that find no free
agent, plus the one the caller takes over from). The ``s`` staffed agents (free,
ringing, talking or in wrap-up; not paused, not logged out) work in parallel,
each freeing itself once per handle time ``h`` (talk time + wrap-up), so calls
end at a rate of ``s / h`` and::

    wait ≈ (p - f) / s × h

``h`` is the mean of the queue's recent handle times, or a configured default
while there is no data yet. The estimate leans to the long side: a busy agent
is on average part-way through its call, so the first release usually comes
sooner than ``h / s``. A promise that is kept ("within 10 minutes") is worth
more to a caller than an exact figure that is often wrong, and the phrases
round up again for the same reason. With no agent staffed there is nothing to
base an estimate on: the wait is unknown (``None``) and no figure is announced.

app_queue's own figure (:func:`asterisk_baseline`)
--------------------------------------------------
``say_position`` in ``apps/app_queue.c`` announces the queue's average hold time
(an exponential average of the waits of answered callers, ``Holdtime`` in
``QueueParams``) minus the time this caller has already waited, rounded to the
nearest minute. It ignores the caller's place and the number of agents, so the
fifth caller in line hears the same figure as the first; it is kept here as a
baseline to compare with.

The phrases (:func:`phrase_for`)
--------------------------------
Rounded to ranges a person trusts:

==================  ==========================================
estimate            said
==================  ==========================================
under 1 minute      ไม่เกิน 1 นาที (within 1 minute)
1 to 5 minutes      ประมาณ N นาที, N whole minutes rounded up
5 to 15 minutes     ประมาณ N นาที, N rounded up to 5 (10, 15)
15 to 60 minutes    ไม่เกิน N นาที, N rounded up to 10 (20 … 60)
1 to 2 hours        ไม่เกิน N นาที, N rounded up to 30 (90, 120)
beyond              ไม่เกิน N นาที, N rounded up to 60
==================  ==========================================

A caller further back than ``max_place`` is not told an exact place but
"มีผู้รอสายก่อนท่านมากกว่า N สาย" with ``N = max_place - 1`` (that many callers
ahead, strictly more: true for every place beyond ``max_place``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ivr.queues.state import AgentState, QueueState
from ivr.speech.thai_numbers import number_prompts

__all__ = [
    "Phrase",
    "WaitKind",
    "WaitPhrase",
    "asterisk_baseline",
    "estimate_wait",
    "mean_handle_time",
    "phrase_for",
    "position_prompts",
    "round_minutes",
    "staffing",
    "wait_prompts",
]

#: Agent states that count as staffed (at work in this queue).
STAFFED: Final = frozenset(
    {AgentState.AVAILABLE, AgentState.RINGING, AgentState.IN_CALL, AgentState.WRAPUP}
)

# Prompt ids (prompts/catalogue.yaml).
P_POSITION: Final = "queue-position"  # ขณะนี้ท่านอยู่ในลำดับที่
P_POSITION_END: Final = "queue-position-end"  # ในการรอสายค่ะ
P_WAIT_ABOUT: Final = "queue-wait-estimate"  # เวลารอโดยประมาณ
P_WAIT_WITHIN: Final = "queue-wait-within"  # เวลารอไม่เกิน
P_MINUTES: Final = "queue-minutes"  # นาทีค่ะ
P_MANY_AHEAD: Final = "queue-many-ahead"  # มีผู้รอสายก่อนท่านมากกว่า
P_CALLERS: Final = "queue-callers"  # สายค่ะ


class WaitKind(StrEnum):
    NONE = "none"  # no estimate announced (unknown)
    WITHIN = "within"  # ไม่เกิน N นาที
    ABOUT = "about"  # ประมาณ N นาที


@dataclass(frozen=True)
class Phrase:
    """One announcement: the prompts to play, in order, and what they say in Thai.

    ``text`` is the written Thai (numbers in digits) for traces and the
    dashboard: ``position_text`` then ``wait_text``, separated by a space.
    """

    prompts: tuple[str, ...]
    position_text: str
    wait_text: str
    kind: WaitKind
    minutes: int | None  # the figure said, or None
    many_ahead: bool  # the place was beyond max_place

    @property
    def text(self) -> str:
        return " ".join(t for t in (self.position_text, self.wait_text) if t)


#: The name the announcement code uses for a :class:`Phrase`.
WaitPhrase = Phrase


# --------------------------------------------------------------------------- estimate


def staffing(state: QueueState) -> tuple[int, int]:
    """``(staffed, free)`` agents of a queue: at work, and free to take a call now."""
    staffed = sum(1 for a in state.agents.values() if a.state in STAFFED)
    free = sum(1 for a in state.agents.values() if a.state is AgentState.AVAILABLE)
    return staffed, free


def mean_handle_time(handle_times: Sequence[float]) -> float | None:
    """Mean of recent handle times (seconds), or None without data."""
    values = [v for v in handle_times if math.isfinite(v) and v >= 0]
    return sum(values) / len(values) if values else None


def estimate_wait(
    place: int,
    agents_staffed: int,
    agents_free: int,
    handle_time_s: float | None,
    default_handle_s: float,
) -> float | None:
    """Expected wait in seconds of the caller at ``place``; None when unknown.

    See the module documentation for the reasoning. ``handle_time_s`` is the
    mean recent handle time (None without data: ``default_handle_s`` is used).
    """
    if agents_staffed <= 0:
        return None
    place = max(1, place)
    free = max(0, agents_free)
    if free > place - 1:
        return 0.0
    handle = handle_time_s
    if handle is None or not math.isfinite(handle) or handle <= 0:
        handle = default_handle_s
    return (place - free) / max(1, agents_staffed) * max(0.0, handle)


def asterisk_baseline(state: QueueState, waited_s: float) -> float:
    """What app_queue itself would announce: its average hold time minus the time waited."""
    return max(0.0, (state.asterisk_holdtime or 0.0) - waited_s)


# --------------------------------------------------------------------------- phrases


def round_minutes(seconds: float) -> tuple[WaitKind, int]:
    """The kind of phrase and the minutes said for an estimate (see the table above)."""
    s = max(0.0, seconds)
    if s < 60:
        return WaitKind.WITHIN, 1
    minutes = math.ceil(s / 60)
    if minutes <= 5:
        return WaitKind.ABOUT, minutes
    if minutes <= 15:
        return WaitKind.ABOUT, _round_up(minutes, 5)
    if minutes <= 60:
        return WaitKind.WITHIN, _round_up(minutes, 10)
    if minutes <= 120:
        return WaitKind.WITHIN, _round_up(minutes, 30)
    return WaitKind.WITHIN, _round_up(minutes, 60)


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def position_prompts(place: int, max_place: int) -> tuple[list[str], str]:
    """Prompts and Thai text telling the caller's place (or that many are ahead)."""
    if place > max_place:
        n = max(0, max_place - 1)
        return (
            [P_MANY_AHEAD, *number_prompts(n), P_CALLERS],
            f"มีผู้รอสายก่อนท่านมากกว่า {n} สาย",
        )
    place = max(1, place)
    return [P_POSITION, *number_prompts(place), P_POSITION_END], f"ท่านอยู่ในลำดับที่ {place}"


def wait_prompts(seconds: float | None) -> tuple[list[str], str, WaitKind, int | None]:
    """Prompts, Thai text, kind and minutes of the wait part; nothing when unknown."""
    if seconds is None or math.isnan(seconds) or math.isinf(seconds):
        return [], "", WaitKind.NONE, None
    kind, minutes = round_minutes(seconds)
    if kind is WaitKind.ABOUT:
        return (
            [P_WAIT_ABOUT, *number_prompts(minutes), P_MINUTES],
            f"ประมาณ {minutes} นาที",
            kind,
            minutes,
        )
    return (
        [P_WAIT_WITHIN, *number_prompts(minutes), P_MINUTES],
        f"ไม่เกิน {minutes} นาที",
        kind,
        minutes,
    )


def phrase_for(seconds: float | None, place: int, max_place: int) -> Phrase:
    """The announcement for a caller at ``place`` with an estimated wait of ``seconds``.

    Beyond ``max_place`` the place is replaced by "more than N callers ahead";
    an unknown estimate (None) announces the place only.
    """
    pos, pos_text = position_prompts(place, max_place)
    wait, wait_text, kind, minutes = wait_prompts(seconds)
    return Phrase(
        prompts=(*pos, *wait),
        position_text=pos_text,
        wait_text=wait_text,
        kind=kind,
        minutes=minutes,
        many_ahead=place > max_place,
    )
