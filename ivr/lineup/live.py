"""Live queues: the AMI feeds the pure queue model; the state is shared through Redis.

Every instance consumes the AMI of its node and keeps the same model; each writes
the JSON of a queue it changed (:class:`ivr.store.queues.QueueStore`), so any
instance (and the API) sees it. After every AMI (re)connect the model is rebuilt
from ``QueueStatus``; callers keep the original arrival the ``queue-wait`` route
recorded (:class:`ivr.store.waiting.WaitingStore`).

A queue changed by an AMI event is shared at once (the events that arrive while
a write is under way join the next one; a new caller once the arrival its
``queue-wait`` turn recorded is back); every ``flush_s`` the model is also
refreshed for what time alone changes (a wrap-up ending, a caller expiring).
With an :class:`~ivr.store.events.EventStore`, each flush also publishes what
changed since the last one (:func:`ivr.lineup.changes.changes`) for the live
stream; every instance computes the changes, but only the holder of the
``queue-events`` lease publishes them, so one AMI event seen by two instances
is announced once (the reasons are in :mod:`ivr.store.events`). With a
:class:`~ivr.lineup.figure_feed.FigureFeed` the same flush publishes a ``figures``
change for each queue whose figures of today changed.

With several Asterisk nodes there is one :class:`LiveQueues` per node (``node``): its
model keeps the plain queue names its AMI gives, its Redis keys are the node's own
and its changes on the stream name the queue on the node (``complaint@a``,
:mod:`ivr.queues.nodes`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.ami.client import AmiClient, AmiError
from ivr.ami.events import AnyEvent, QueueCallerJoin
from ivr.lineup.changes import Change, changes
from ivr.lineup.figure_feed import FigureFeed
from ivr.log import ami_log, fields
from ivr.queues import model
from ivr.queues.nodes import node_queue
from ivr.queues.resync import resync
from ivr.queues.state import QueueState
from ivr.store.events import EventStore
from ivr.store.lease import LeaderLease
from ivr.store.queues import QueueStore
from ivr.store.waiting import WaitingStore
from ivr.tasks import cancel_and_wait, stop_if_cancelling

__all__ = ["LiveQueues"]


class LiveQueues:
    def __init__(
        self,
        ami: AmiClient,
        redis: Redis,
        *,
        wrapup_s: float = 5.0,
        announce_grace_s: float = 120.0,
        flush_s: float = 0.2,
        clock: Callable[[], float] = time.time,
        events: EventStore | None = None,
        lease: LeaderLease | None = None,
        figures: FigureFeed | None = None,
        node: str = "",
    ) -> None:
        self.ami = ami
        self.redis = redis
        self.node = node  # "": the one node
        self.store = QueueStore(redis, node)
        self.arrivals = WaitingStore(redis)
        self.wrapup_s = wrapup_s
        self.announce_grace_s = announce_grace_s
        self.flush_s = flush_s
        self.clock = clock
        self.states: dict[str, QueueState] = {}
        self._dirty: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.resyncs = 0
        self._tasks: set[asyncio.Future[None]] = set()
        self.events = events
        self.lease = lease  # None: this instance alone publishes
        self.figures = figures  # today's figures as `figures` changes, published with the rest
        self._published: dict[str, QueueState] = {}  # as of the last changes published
        self._hints: dict[str, str] = {}  # uniqueid -> why it left, when the event says
        self._lease_checked = -float("inf")
        self._wake = asyncio.Event()  # an AMI event changed a queue: flush now
        self._held: list[AnyEvent] | None = None  # events met while a QueueStatus is read

    async def start(self) -> None:
        self._unsubscribe = self.ami.subscribe_each(list(model.HANDLERS), self._on_event)
        self.ami.add_connect_hook(self.resync)
        self._task = asyncio.create_task(self._flush_loop())

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        tasks = [*self._tasks, *([self._task] if self._task is not None else [])]
        # nothing may touch Redis after the app closes it
        await cancel_and_wait(tasks, log=ami_log, what="live queue tasks")
        await self._flush()
        if self.lease is not None:
            await self.lease.release()

    # -- the model ------------------------------------------------------------------
    async def resync(self) -> None:
        """Rebuild every queue from ``QueueStatus`` (after each AMI login).

        The events that arrive while the reply is read are held, then applied in
        order on top of it: a pause made while the snapshot was on its way would
        otherwise be overwritten by the snapshot taken before it (an agent on a
        break seen as available). Applying an event the snapshot already holds
        changes nothing, so holding them all is safe.
        """
        self._held = []
        try:
            reply = await self.ami.action("QueueStatus", as_list=True)
        except AmiError as e:
            ami_log.warning("queue resync failed", extra=fields(error=str(e)))
            return
        finally:
            held, self._held = self._held, None
        rows = reply if isinstance(reply, list) else [reply]
        self.states = resync(rows, self.clock(), self.states)
        for event in held:
            self._on_event(event)
        for name, st in self.states.items():  # first sight (a start): a baseline, not news
            self._published.setdefault(name, st.snapshot())
        self.resyncs += 1
        if self.figures is not None:
            await self.figures.baseline(self.states)
        self._dirty.update(self.states)
        await self._restore_arrivals(
            [(q, uid) for q, st in self.states.items() for uid in st.callers]
        )
        ami_log.info(
            "queues resynchronised",
            extra=fields(queues={q: len(s.callers) for q, s in self.states.items()}),
        )

    def _on_event(self, event: AnyEvent) -> None:
        if event.name not in model.HANDLERS:
            return
        if self._held is not None:
            self._held.append(event)
            return
        if event.name == "UserEvent" and event.get("Uniqueid"):
            hint = {model.CALLBACK_BOOKED: "callback", model.RULE_LEFT: "rule"}  # rule: moved on
            if (why := hint.get(event.get("UserEvent"))) is not None:
                self._hints[event.get("Uniqueid")] = why
        now = self.clock()
        queue = model.queue_of(event)
        if queue == "*":
            targets = list(self.states.values())
        elif queue:
            targets = [self.states.setdefault(queue, QueueState(queue))]
        else:
            return
        # the one caller an event may add: a QueueCallerJoin's (ivr.queues.model)
        uid = event.uniqueid if isinstance(event, QueueCallerJoin) else ""
        for st in targets:
            known = not uid or uid in st.callers
            model.apply(st, event, now, self.wrapup_s)
            self._dirty.add(st.name)
            if not known and uid in st.callers:  # flushed once its arrival is back
                task = asyncio.ensure_future(self._restore_arrivals([(st.name, uid)]))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                self._wake.set()

    async def _restore_arrivals(self, callers: list[tuple[str, str]]) -> None:
        """Callers keep the arrival the queue-wait route recorded on their first turn."""
        if not callers:
            return
        try:
            found = await self.arrivals.arrivals([uid for _, uid in callers])
        except (RedisError, OSError):
            return
        finally:
            self._wake.set()  # the changed queues go out now, arrival restored or not
        for (queue, uid), arrival in zip(callers, found, strict=True):
            state = self.states.get(queue, QueueState(queue))
            if uid not in state.callers or arrival is None:
                continue
            kept = {"arrived_at": arrival.arrived_at, "topic": arrival.topic}
            state.change_caller(uid, **{k: v for k, v in kept.items() if v is not None})
            self._dirty.add(queue)

    # -- sharing ------------------------------------------------------------------------
    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_s):  # no task made for each wait
                    await self._wake.wait()
            self._wake.clear()
            now = self.clock()
            for st in self.states.values():
                before = [a.state for a in st.agents.values()]
                model.refresh(st, now, self.wrapup_s)
                gone = model.expire(st, now, self.announce_grace_s)
                self._hints.update((c.uniqueid, "expired") for c in gone)
                if gone or before != [a.state for a in st.agents.values()]:
                    self._dirty.add(st.name)
            await self._flush()
            if self.events is not None:
                await self._leading()  # held (and renewed) even while nothing changes
            stop_if_cancelling()  # redis-py may swallow a cancellation inside a command

    async def _flush(self) -> None:
        if not self._dirty:
            await self._publish([])  # today's figures may have changed all the same
            return
        dirty, self._dirty = self._dirty, set()
        try:
            shared = [st for st in (self.states.get(name) for name in dirty) if st is not None]
            await self.store.write(shared)
        except (RedisError, OSError) as e:
            self._dirty |= dirty
            ami_log.warning("queue state not shared", extra=fields(error=str(e)))
            return
        await self._publish(shared)

    async def _publish(self, states: list[QueueState]) -> None:
        """Publish what changed in ``states`` since the last flush, and today's figures
        that changed (lease holder only)."""
        if self.events is None:
            return
        hints: dict[str, str] = {}
        if states:
            hints, self._hints = self._hints, {}
        found: list[Change] = []
        for st in states:
            copy = st.snapshot()  # its callers shared: never changed in place
            found += self._named(changes(self._published.get(st.name), copy, hints))
            self._published[st.name] = copy
        if self.figures is not None:
            found += await self.figures.changes()
        if not found or not await self._leading():
            return
        try:
            await self.events.publish([c.to_dict() for c in found])
        except (RedisError, OSError) as e:
            ami_log.warning("queue changes not published", extra=fields(error=str(e)))

    def _named(self, found: list[Change]) -> list[Change]:
        """Changes of this node's queues, named as the stream shows them."""
        if not self.node:
            return found
        return [Change(c.kind, node_queue(c.queue, self.node), c.data) for c in found]

    async def _leading(self) -> bool:
        """Whether this instance publishes queue changes (renewing its lease now and then)."""
        if self.lease is None:
            return True
        now = time.monotonic()
        if now - self._lease_checked >= self.lease.ttl_s / 3:
            self._lease_checked = now
            await self.lease.acquire()
        return self.lease.is_leader

    async def from_redis(self) -> dict[str, QueueState]:
        """Every queue as shared in Redis (what another instance or the API sees)."""
        return await self.store.read_all()

    async def queues(self) -> dict[str, QueueState]:
        """The freshest view: this instance's own model when it has one."""
        return dict(self.states) if self.states else await self.from_redis()
