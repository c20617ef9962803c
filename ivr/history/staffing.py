"""The staffing samples: once a minute, each queue's members as the live queue model
holds them, kept in the history's ``staffing`` table for the reports' "staffed"
beside "needed" (:mod:`ivr.reports.figures`).

Only the instance holding the history lease samples (the one writing to
PostgreSQL); a sample is keyed by queue and minute, so two instances sampling the
same minute write one row. :func:`counts` is the pure part.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from ivr.history.rows import staffing_data
from ivr.log import fields, store_log
from ivr.queues.no_agent import TAKING_CALLS
from ivr.queues.state import AgentState, QueueState

__all__ = ["SAMPLE_S", "counts", "sample_forever", "sample_once"]

SAMPLE_S = 60.0

QueuesNow = Callable[[], Awaitable[Mapping[str, QueueState]]]


class Recorder(Protocol):
    def record(self, kind: str, key: str, data: dict[str, object]) -> None: ...


class Lease(Protocol):
    async def acquire(self) -> bool: ...


def counts(state: QueueState) -> dict[str, int]:
    """``staffed`` (members taking calls: available, ringing, in a call, in wrap-up,
    as :func:`ivr.queues.no_agent.staffed` counts them), ``available`` and ``paused``."""
    states = [a.state for a in state.agents.values()]
    return {
        "staffed": sum(1 for s in states if s in TAKING_CALLS),
        "available": sum(1 for s in states if s is AgentState.AVAILABLE),
        "paused": sum(1 for s in states if s is AgentState.PAUSED),
    }


async def sample_once(sink: Recorder, queues: QueuesNow, now: float) -> int:
    """Record one sample of every queue at the minute of ``now``; how many."""
    at = now - now % SAMPLE_S
    states = await queues()
    for name, state in sorted(states.items()):
        key, data = staffing_data(name, at, counts(state))
        sink.record("staffing", key, dict(data))
    return len(states)


async def sample_forever(
    sink: Recorder,
    lease: Lease,
    queues: QueuesNow,
    clock: Callable[[], float] = time.time,
) -> None:
    """A sample at each minute while this instance holds the history lease."""
    while True:
        now = clock()
        await asyncio.sleep(SAMPLE_S - now % SAMPLE_S)
        try:
            if await lease.acquire():
                await sample_once(sink, queues, clock())
        except Exception as e:  # Redis away: the next minute tries again
            store_log.warning("staffing not sampled", extra=fields(error=str(e)))
