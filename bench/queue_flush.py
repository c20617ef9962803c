"""What the live queues do for one AMI event that changed a queue, by the callers waiting,
beside the same done on the whole state.

For each line length N, one caller changes (an AMI event) and the queue is shared as
:class:`ivr.lineup.live.LiveQueues` shares it: its JSON for Redis, the state kept
for the next comparison, and the changes for the stream since the last one. Done
two ways on the same line, turn about:

* **this server**: :class:`ivr.queues.state_text.QueueText`, :meth:`QueueState.snapshot`
  and :func:`ivr.lineup.changes.changes` on snapshots (callers shared, never changed
  in place: the work follows the callers that changed);
* **whole state** (the baseline): ``json.dumps(state.to_dict())``, :meth:`QueueState.copy`
  and the changes between copies that share nothing (the work follows the line).

Both give the same text and the same changes (checked). Median microseconds an event.

    .venv/bin/python -m bench.queue_flush [--callers 20,200,2000] [--events 300]

Needs nothing running.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from ivr.lineup.changes import Change, changes
from ivr.queues.state import Agent, Caller, CallerState, QueueState
from ivr.queues.state_text import QueueText

Share = Callable[[QueueState], tuple[str, list[Change]]]


def line(n: int) -> QueueState:
    state = QueueState("complaint", agents={"PJSIP/1": Agent("PJSIP/1", name="agent1")})
    for i in range(n):
        uid = f"1700000000.{i}"
        state.callers[uid] = Caller(
            uid, channel=f"PJSIP/anonymous-{i:08x}", arrived_at=1.7e9 + i, joined_at=1.7e9 + i,
            position=i + 1, caller_id="anonymous", last_seen=1.7e9 + i,
        )  # fmt: skip
    return state


def ours(first: QueueState) -> Share:
    text, kept = QueueText(), first.snapshot()

    def share(state: QueueState) -> tuple[str, list[Change]]:
        nonlocal kept
        out = text.text(state)
        now = state.snapshot()
        found = changes(kept, now)
        kept = now
        return out, found

    return share


def whole(first: QueueState) -> Share:
    kept = first.copy()

    def share(state: QueueState) -> tuple[str, list[Change]]:
        nonlocal kept
        out = json.dumps(state.to_dict(), ensure_ascii=False)
        now = state.copy()
        found = changes(kept, now)
        kept = now
        return out, found

    return share


def event(state: QueueState, k: int) -> None:
    """One caller out of ``Queue()`` for an announcement, or back in (as the model does)."""
    uid = f"1700000000.{(k * 7919) % len(state.callers)}"
    back = state.callers[uid].state is CallerState.ANNOUNCING
    new = CallerState.WAITING if back else CallerState.ANNOUNCING
    state.change_caller(uid, state=new, last_seen=1.8e9 + k)


def measure(n: int, events: int) -> tuple[float, float]:
    a, b = line(n), line(n)
    share_a, share_b = ours(a), whole(b)
    took: dict[str, list[float]] = {"ours": [], "whole": []}
    for k in range(events):
        event(a, k)
        event(b, k)
        t0 = time.perf_counter()
        got_a = share_a(a)
        t1 = time.perf_counter()
        got_b = share_b(b)
        t2 = time.perf_counter()
        if got_a != got_b:
            raise SystemExit(f"{n} callers, event {k}: the two ways differ")
        took["ours"].append(t1 - t0)
        took["whole"].append(t2 - t1)
    return statistics.median(took["ours"]) * 1e6, statistics.median(took["whole"]) * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--callers", default="20,200,2000", help="line lengths, comma-separated")
    p.add_argument("--events", type=int, default=300, help="events a line length")
    a = p.parse_args()
    print(f"{'callers waiting':>16}{'this server':>14}{'whole state':>14}{'ratio':>8}")
    for n in (int(x) for x in a.callers.split(",")):
        mine, base = measure(n, a.events)
        print(f"{n:>16,}{mine:>11.1f} µs{base:>11.1f} µs{base / max(mine, 1e-9):>7.1f}x")


if __name__ == "__main__":
    main()
