"""Today's figures per queue: the AMI events counted in Redis, read for the API.

:class:`FigureRecorder` subscribes to the AMI beside the live queues; each queue
event that counts (:func:`ivr.queues.figures.increment`) is added to the day's
counters in Redis (:class:`ivr.store.figures.FigureStore`), counted once however
many instances see it; ``on_recorded`` is then told the queue (the stream's
``figures`` events, :mod:`ivr.lineup.figure_feed`). The caller's original arrival, recorded by the
``queue-wait`` route, gives the whole wait of a caller answered or abandoned
after several turns of the waiting loop. Redis being away loses the increment
(logged), never the call. A callback that fails for good counts in its queue's
``callbacks_failed`` (:meth:`FigureRecorder.record_callback`, told each callback
transition beside the stream).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from redis.exceptions import RedisError

from ivr.ami.client import AmiClient
from ivr.ami.events import AgentConnect, AnyEvent, QueueCallerAbandon
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.log import ami_log, fields
from ivr.queues.figures import COUNTED, Increment, Targets, day_of, increment
from ivr.store.figures import FigureStore
from ivr.store.waiting import WaitingStore
from ivr.tasks import cancel_and_wait

__all__ = ["FigureRecorder", "callback_increment"]


def callback_increment(req: CallbackRequest, now: float) -> Increment | None:
    """What a callback's transition adds to its queue's figures: one failed callback
    on the day it failed, once per callback; nothing for any other transition."""
    if req.status is not CallbackStatus.FAILED or not req.queue:
        return None
    return Increment(
        queue=req.queue,
        day=day_of(now),
        event_id=f"{req.id}:callback-failed",
        counts={"callbacks_failed": 1},
    )


class FigureRecorder:
    def __init__(
        self,
        ami: AmiClient,
        store: FigureStore,
        arrivals: WaitingStore,
        targets: Callable[[str], Targets],
        clock: Callable[[], float] = time.time,
        on_recorded: Callable[[str], None] | None = None,
    ) -> None:
        self.ami = ami
        self.on_recorded = on_recorded  # told the queue once an event is in Redis
        self.store = store
        self.arrivals = arrivals
        self.targets = targets
        self.clock = clock
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Future[bool]] = set()

    async def start(self) -> None:
        self._unsubscribe = self.ami.subscribe_each(COUNTED, self._on_event)

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        await cancel_and_wait(list(self._tasks), log=ami_log, what="figure recording")

    def _on_event(self, event: AnyEvent) -> None:
        if increment(event, Targets(), self.clock()) is None:  # cheap filter
            return
        task = asyncio.ensure_future(self.record(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def record(self, event: AnyEvent) -> bool:
        """Count ``event`` in today's figures; whether it was counted now."""
        queue = getattr(event, "queue", "")
        arrived_at = None
        try:
            if isinstance(event, AgentConnect | QueueCallerAbandon):
                found = await self.arrivals.arrivals([event.uniqueid])
                arrived_at = found[0].arrived_at if found and found[0] else None
            inc = increment(event, self.targets(queue), self.clock(), arrived_at)
            if inc is None:
                return False
            counted = await self.store.record(inc)
        except (RedisError, OSError) as e:
            ami_log.warning(
                "queue figure not counted", extra=fields(event=event.name, error=str(e))
            )
            return False
        if self.on_recorded is not None:  # counted now or by another instance: in Redis
            self.on_recorded(inc.queue)
        return counted

    async def record_callback(self, req: CallbackRequest) -> bool:
        """Count a callback that failed for good; whether it was counted now."""
        inc = callback_increment(req, self.clock())
        if inc is None:
            return False
        try:
            counted = await self.store.record(inc)
        except (RedisError, OSError) as e:
            ami_log.warning("failed callback not counted", extra=fields(error=str(e)))
            return False
        if self.on_recorded is not None:
            self.on_recorded(inc.queue)
        return counted

    async def today(self, queues: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each queue's figures since midnight Bangkok time, as the API shows them."""
        day = day_of(self.clock())
        counted = await self.store.day(day, queues)
        return {q: f.to_dict(day, self.targets(q)) for q, f in counted.items()}
