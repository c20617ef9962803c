"""``GET /api/stream``: the live queues as Server-Sent Events (``aiohttp-sse``).

SSE rather than a WebSocket: the stream only flows from server to browser, it is
plain HTTP through any proxy, and ``EventSource`` reconnects by itself sending
``Last-Event-ID``, which is exactly the resume this stream offers.

A client first gets a ``snapshot`` event (every queue as ``GET /api/queues``
shows it, with callers, agents and callbacks), then each change as its own event
(``caller.joined``, ``agent.state``, ``callback.dialling``, ...; see
:mod:`ivr.lineup.changes`). Every event's SSE id is its Redis stream id
(:class:`ivr.store.events.EventStore`); the snapshot carries the id of the last
change it includes. A client reconnecting with ``Last-Event-ID`` gets the changes
after it, or a fresh snapshot when they are no longer all kept. A comment line
(``: ping``) every 15 s keeps proxies from closing an idle stream.

One :class:`StreamHub` per instance reads the Redis stream (``XREAD BLOCK``) and
hands each change to every client's bounded queue; a client whose queue is full
(it reads slower than changes come) is dropped, never buffered without end. It
reconnects and resumes from its last id. Phone numbers are always masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response
from redis.exceptions import RedisError

from ivr.api.auth import require_role
from ivr.api.queues import QUEUE_DEPS, queues_snapshot
from ivr.log import api_log, fields
from ivr.privacy import mask_phone
from ivr.store.events import EventStore, StoredEvent, id_key
from ivr.tasks import cancel_and_wait, stop_if_cancelling

__all__ = ["STREAM_HUB", "StreamHub", "Subscriber", "add_stream"]

HEARTBEAT_S = 15.0
CLIENT_QUEUE_MAX = 1000


@dataclass(eq=False)
class Subscriber:
    """One stream client as the hub sees it: its queue, and how to drop it."""

    queue: asyncio.Queue[StoredEvent]
    on_drop: Callable[[], None]
    dropped: bool = False


@dataclass(eq=False)
class StreamHub:
    """Reads the Redis stream once per instance and fans it out to every client."""

    events: EventStore
    queue_max: int = CLIENT_QUEUE_MAX
    heartbeat_s: float = HEARTBEAT_S
    block_ms: int = 1000
    subscribers: set[Subscriber] = field(default_factory=set)
    streams: weakref.WeakSet[EventSourceResponse] = field(default_factory=weakref.WeakSet)
    _after: str = "$"
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            self._after = await self.events.last_id()
        except (RedisError, OSError):
            self._after = "$"  # Redis away: start from whatever comes next
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], log=api_log, what="stream reader")
        await close_streams(self)

    def subscribe(self, on_drop: Callable[[], None]) -> Subscriber:
        sub = Subscriber(asyncio.Queue(self.queue_max), on_drop)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def _run(self) -> None:
        while True:
            try:
                got = await self.events.wait(self._after, self.block_ms)
            except (RedisError, OSError) as e:
                api_log.warning("stream reader: Redis error", extra=fields(error=str(e)))
                await asyncio.sleep(1.0)
                continue
            for ev in got:
                self._after = ev.id
                self.deliver(ev)
            stop_if_cancelling()  # redis-py may swallow a cancellation inside a command

    def deliver(self, ev: StoredEvent) -> None:
        for sub in list(self.subscribers):
            try:
                sub.queue.put_nowait(ev)
            except asyncio.QueueFull:
                self._drop(sub)

    def _drop(self, sub: Subscriber) -> None:
        sub.dropped = True
        self.subscribers.discard(sub)
        api_log.warning("slow stream client dropped", extra=fields(queued=sub.queue.qsize()))
        sub.on_drop()


STREAM_HUB = web.AppKey("stream_hub", StreamHub)
_CLOSED = StoredEvent("0-0", "", "", {})  # put in a client's queue when its stream ends
routes = web.RouteTableDef()


def _masked(ev: StoredEvent) -> dict[str, Any]:
    body = ev.to_dict()
    data = dict(ev.data)
    if isinstance(data.get("number"), str):
        data["number"] = mask_phone(data["number"])
    body["data"] = data
    return body


async def _send(resp: EventSourceResponse, ev: StoredEvent) -> None:
    await resp.send(json.dumps(_masked(ev), ensure_ascii=False), id=ev.id, event=ev.kind)


async def _start(request: web.Request, resp: EventSourceResponse, hub: StreamHub) -> str:
    """The changes missed since ``Last-Event-ID`` or a snapshot; the last id sent."""
    last = resp.last_event_id
    if last and await hub.events.can_resume(last):
        while batch := await hub.events.since(last):
            for ev in batch:
                await _send(resp, ev)
            last = batch[-1].id
        return last
    sent = await hub.events.last_id()
    snapshot = await queues_snapshot(request.app[QUEUE_DEPS], mask_phone)
    await resp.send(json.dumps(snapshot, ensure_ascii=False), id=sent, event="snapshot")
    return sent


async def _follow(resp: EventSourceResponse, sub: Subscriber, sent: str) -> None:
    """Send each change from the hub until the client goes, is dropped or the server stops.

    The end of the stream comes through the client's own queue (``_CLOSED``, or the
    next change when the queue is full), so each change costs one ``get`` and no
    wait on two futures: with hundreds of clients, that is most of the fan-out."""
    closed = asyncio.ensure_future(resp.wait())

    def on_closed(_: object) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            sub.queue.put_nowait(_CLOSED)

    closed.add_done_callback(on_closed)
    try:
        while not closed.done():
            ev = await sub.queue.get()
            if ev is _CLOSED or closed.done():
                return
            if id_key(ev.id) > id_key(sent):  # not already sent while catching up
                await _send(resp, ev)
                sent = ev.id
    finally:
        closed.remove_done_callback(on_closed)
        closed.cancel()


@routes.get("/stream")
async def stream(request: web.Request) -> web.StreamResponse:
    require_role(request, "supervisor", "admin")
    hub = request.app[STREAM_HUB]
    async with sse_response(request, ping_interval=hub.heartbeat_s) as resp:
        hub.streams.add(resp)

        def drop() -> None:
            resp.stop_streaming()
            if request.transport is not None:
                request.transport.abort()  # a stalled write must not hold the handler

        sub = hub.subscribe(drop)
        try:
            sent = await _start(request, resp, hub)
            await _follow(resp, sub, sent)
        except (ConnectionResetError, TimeoutError):
            pass  # the client went away
        finally:
            hub.unsubscribe(sub)
    return resp


async def close_streams(hub: StreamHub) -> None:
    """End every open stream (server shutdown), as aiohttp-sse's graceful shutdown does."""
    waiters = []
    for resp in list(hub.streams):
        if resp.prepared:
            resp.stop_streaming()
            waiters.append(resp.wait())
    await asyncio.gather(*waiters, return_exceptions=True)
    hub.streams.clear()


def add_stream(api: web.Application, hub: StreamHub) -> None:
    """Serve ``GET /stream`` in ``api``; open streams end when the server shuts down."""

    async def on_shutdown(_app: web.Application) -> None:
        await close_streams(hub)

    api[STREAM_HUB] = hub
    api.add_routes(routes)
    api.on_shutdown.append(on_shutdown)
