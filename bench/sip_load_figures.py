"""The figures of ``bench.sip_load`` from what it recorded (pure).

- DTMF -> next prompt: the AMI events of the run, each with Asterisk's own
  ``Timestamp`` (``timestampevents = yes``). On each citizen's channel a
  ``DTMFEnd`` received from the caller is paired with the next start of a prompt
  on that channel: ``AGIExecStart`` of ``STREAM FILE`` for this server,
  ``Newexten`` of ``Background`` or ``Playback`` for the dialplan twin (not
  the ``Newexten`` at priority 0 Asterisk sends when a key ends a ``Background``:
  it still names the prompt that was interrupted). A key
  pressed before the channel's first prompt started is not a menu choice (it
  counts apart); a second key before the prompt pairs with nothing (the first
  one is the citizen's wait); a key with no prompt after it counts as unanswered.
- Callers who reached the queue: channels with a ``QueueCallerJoin``; the turns in
  the queue: every ``QueueCallerJoin`` (a caller waiting longer than the loop's
  interval goes through the waiting route again: CPU per call grows with it).
- Failed calls and the peak of concurrent calls: SIPp's statistics file
  (``-trace_stat``, ``;``-separated, one row a period, counters cumulative).
- CPU seconds of a process: ``utime + stime`` of ``/proc/<pid>/stat``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: The AMI events the bench needs (its AMI session filters out the others).
EVENTS = ("DTMFEnd", "AGIExecStart", "Newexten", "QueueCallerJoin")
#: Dialplan applications that start a prompt in the twin.
PROMPT_APPS = frozenset({"background", "playback"})


def is_prompt_start(event: Mapping[str, str]) -> bool:
    """The start of a prompt: the server's ``STREAM FILE`` or the twin's
    ``Background``/``Playback``."""
    name = event.get("Event", "")
    if name == "AGIExecStart":
        return event.get("Command", "").lstrip().upper().startswith("STREAM FILE")
    if name == "Newexten":
        # priority 0: the key was taken (the channel's new extension, its old
        # application still named); the prompt starts at priority 1 or later
        started = event.get("Priority", "1") != "0"
        return started and event.get("Application", "").lower() in PROMPT_APPS
    return False


def is_key_press(event: Mapping[str, str]) -> bool:
    """The end of a key the caller pressed (not one Asterisk sent)."""
    return event.get("Event") == "DTMFEnd" and event.get("Direction", "") == "Received"


@dataclass(frozen=True)
class Presses:
    """The key presses of one run and what followed them."""

    latencies: tuple[float, ...]  # seconds from each key to the next prompt's start
    before_first_prompt: int = 0  # keys pressed before the channel's first prompt
    unanswered: int = 0  # keys with no prompt after them on their channel


def pair_presses(events: Iterable[Mapping[str, str]]) -> Presses:
    """Pair each key with the next prompt start of its channel (module docstring)."""
    by_channel: dict[str, list[tuple[float, int, bool]]] = defaultdict(list)
    for order, e in enumerate(events):
        press, prompt = is_key_press(e), is_prompt_start(e)
        raw = e.get("Timestamp", "")
        if (press or prompt) and raw:
            by_channel[e.get("Channel", "")].append((float(raw), order, press))
    latencies: list[float] = []
    early = unanswered = 0
    for marks in by_channel.values():
        marks.sort()  # by Asterisk's time; arrival order breaks ties
        prompted = False
        pressed_at: float | None = None
        for stamp, _, press in marks:
            if not press:
                if pressed_at is not None:
                    latencies.append(stamp - pressed_at)
                    pressed_at = None
                prompted = True
            elif not prompted:
                early += 1
            elif pressed_at is None:
                pressed_at = stamp
        unanswered += pressed_at is not None
    return Presses(tuple(latencies), early, unanswered)


def reached_queue(events: Iterable[Mapping[str, str]], queue: str) -> int:
    """How many channels joined ``queue`` (each counted once)."""
    return len(
        {
            e.get("Channel", "")
            for e in events
            if e.get("Event") == "QueueCallerJoin" and e.get("Queue") == queue
        }
    )


def queue_turns(events: Iterable[Mapping[str, str]], queue: str) -> int:
    """How many times callers joined ``queue``: each turn of the waiting loop is one
    (``Queue()`` left after its timeout for an announcement, then joined again)."""
    return sum(1 for e in events if e.get("Event") == "QueueCallerJoin" and e.get("Queue") == queue)


def percentile(xs: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 < q <= 1) of ``xs`` (not empty)."""
    if not xs:
        raise ValueError("percentile of no values")
    ordered = sorted(xs)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class Spread:
    """Median, p95, p99 and the largest value, in milliseconds."""

    n: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Spread:
        if not seconds:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        ms = [s * 1000 for s in seconds]
        return cls(len(ms), statistics.median(ms), percentile(ms, 0.95),
                   percentile(ms, 0.99), max(ms))  # fmt: skip


@dataclass(frozen=True)
class SippCounts:
    """What SIPp's statistics file says about a run."""

    created: int
    successful: int
    failed: int
    peak: int  # the most calls in progress at one period's end


def sipp_counts(csv_text: str) -> SippCounts:
    """Read SIPp's ``-trace_stat`` file: the last row's cumulative counters and the
    highest ``CurrentCall`` of all rows."""
    lines = [line for line in csv_text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError("SIPp's statistics file has no data row")
    header = lines[0].rstrip(";").split(";")
    rows = [dict(zip(header, line.rstrip(";").split(";"), strict=False)) for line in lines[1:]]
    last = rows[-1]
    return SippCounts(
        created=int(last["TotalCallCreated"]),
        successful=int(last["SuccessfulCall(C)"]),
        failed=int(last["FailedCall(C)"]),
        peak=max(int(r.get("CurrentCall") or 0) for r in rows),
    )


def cpu_ticks(stat_text: str) -> int:
    """``utime + stime`` (clock ticks) from the text of ``/proc/<pid>/stat``; the
    command name in parentheses may hold spaces and parentheses."""
    fields = stat_text.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return int(fields[11]) + int(fields[12])


def cpu_per_call(before: str, after: str, calls: int, ticks_per_s: int) -> float:
    """CPU seconds a call between two readings of ``/proc/<pid>/stat``."""
    if calls <= 0:
        return math.nan
    return (cpu_ticks(after) - cpu_ticks(before)) / ticks_per_s / calls
