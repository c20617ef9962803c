"""What feeds history, wired by the app when ``[history] dsn`` is set: each call's
trace as it is saved, the queues' AMI events (answered, abandoned, agent, wait and
talk time), each callback transition and each supervisor action; and the parts of
the server's life it adds (the writer, the AMI subscription, the daily purge).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.ami.events import AgentComplete, AgentConnect, AnyEvent, Hangup, QueueCallerAbandon
from ivr.callbacks.model import CallbackRequest
from ivr.config import Settings
from ivr.history.answered import AnsweredCalls
from ivr.history.jobs import purge_daily
from ivr.history.rows import (
    action_data,
    action_key,
    call_from_event,
    call_from_trace,
    call_hung_up,
    callback_data,
    probe_data,
    rule_data,
)
from ivr.history.sink import HistorySink
from ivr.history.staffing import QueuesNow, sample_forever
from ivr.log import store_log
from ivr.store.lease import LeaderLease
from ivr.tasks import cancel_and_wait
from ivr.trace import CallTrace

__all__ = ["HistoryFeed"]

#: the AMI events :meth:`HistoryFeed.on_event` reads (ivr.history.rows.call_from_event)
EVENTS = (Hangup, AgentConnect, AgentComplete, QueueCallerAbandon)


class HistoryFeed:
    def __init__(
        self, sink: HistorySink, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.sink = sink
        self.settings = settings
        self.clock = clock
        self.answered = AnsweredCalls()  # ends a call Asterisk sends no AgentComplete for

    @classmethod
    def for_settings(cls, s: Settings, redis: Redis, instance_id: str) -> HistoryFeed | None:
        """The feed of ``s``, or None when history is off (no ``[history] dsn``)."""
        if not s.history_dsn:
            return None
        lease = LeaderLease(redis, "history", instance_id, ttl_s=10.0)
        return cls(HistorySink(redis, s.history_dsn, lease, s.history_outbox_max), s)

    # -- the hooks ------------------------------------------------------------------
    def on_trace(self, trace: CallTrace, number: str) -> None:
        if trace.uniqueid:
            self.sink.record("call", trace.uniqueid, call_from_trace(trace, number))

    def on_event(self, event: AnyEvent) -> None:
        now = self.clock()
        if isinstance(event, Hangup):
            call = self.answered.hung_up(event.uniqueid)
            if call is not None:  # an answered caller (see ivr.history.answered)
                self.sink.record("call", call.uniqueid, call_hung_up(call.at, now))
            return
        found = call_from_event(event, now)
        if isinstance(event, AgentConnect):
            self.answered.connected(event.uniqueid, now, event.dest_uniqueid)
        elif isinstance(event, AgentComplete):
            caller = self.answered.caller_of(event.uniqueid, event.dest_uniqueid)
            self.answered.completed(caller, event.dest_uniqueid)
            if found is not None and caller:
                found = caller, found[1]
        if found is not None and found[0]:
            self.sink.record("call", found[0], found[1])

    async def on_callback(self, req: CallbackRequest) -> None:
        self.sink.record("callback", req.id, callback_data(req))

    async def on_probe(self, result: Mapping[str, Any]) -> None:
        """A probe's result (``ProbeResult.to_dict()``), kept with the calls."""
        self.sink.record("probe", str(result.get("id", "")), probe_data(result))

    def on_rule(self, uniqueid: str, rule: str, action: str) -> None:
        """A rule acted for a waiting caller (no-agent, max-wait); the first one stays."""
        if uniqueid:
            self.sink.record("call", uniqueid, rule_data(rule, action))

    def on_action(self, entry: dict[str, Any]) -> None:
        self.sink.record("action", action_key(entry), action_data(entry))

    # -- the server's life --------------------------------------------------------------
    def parts(
        self, ami: AmiClient | Sequence[AmiClient], queues: QueuesNow | None = None
    ) -> list[AbstractAsyncContextManager[None]]:
        """The writer, the daily purge, the AMI subscription (to each Asterisk node's
        AMI) and, given the live queues, the staffing samples (by the history lease
        holder; with several nodes, each queue over every node)."""
        s = self.settings
        sampling: list[AbstractAsyncContextManager[None]] = []
        if queues is not None:
            sampling.append(
                self._running(
                    lambda: sample_forever(self.sink, self.sink.lease, queues, self.clock),
                    "staffing samples",
                )
            )
        return [
            self._running(self.sink.run, "history writer", self.sink.close),
            self._running(
                lambda: purge_daily(
                    s.history_dsn, s.history_number_key, s.history_keep_numbers_days
                ),
                "history purge",
            ),
            *(self._subscribed(a) for a in ([ami] if isinstance(ami, AmiClient) else ami)),
            *sampling,  # stops first
        ]

    @contextlib.asynccontextmanager
    async def _subscribed(self, ami: AmiClient) -> AsyncIterator[None]:
        unsubscribe = ami.subscribe_each(EVENTS, self.on_event)
        try:
            yield
        finally:
            unsubscribe()

    @staticmethod
    @contextlib.asynccontextmanager
    async def _running(
        run: Callable[[], Coroutine[Any, Any, None]],
        what: str,
        after: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> AsyncIterator[None]:
        task: asyncio.Task[None] = asyncio.create_task(run())
        try:
            yield
        finally:
            await cancel_and_wait([task], log=store_log, what=what)
            if after is not None:
                await after()
