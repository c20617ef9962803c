"""``GET /api/stream``: the live queues as Server-Sent Events (``aiohttp-sse``).

SSE rather than a WebSocket: the stream only flows from server to browser, it is
plain HTTP through any proxy, and ``EventSource`` reconnects by itself sending
``Last-Event-ID``, which is exactly the resume this stream offers.

A client first gets a ``snapshot`` event (every queue as ``GET /api/queues``
shows it, with callers, agents and callbacks, and every hotline as
``GET /api/hotlines`` shows it), then each change as its own event
(``caller.joined``, ``agent.state``, ``callback.dialling``, ...; see
:mod:`ivr.lineup.changes`). Every event's SSE id is its Redis stream id
(:class:`ivr.store.events.EventStore`); the snapshot carries the id of the last
change it includes. A client reconnecting with ``Last-Event-ID`` gets the changes
after it, or a fresh snapshot when they are no longer all kept. A comment line
(``: ping``) every 15 s keeps proxies from closing an idle stream.

One :class:`StreamHub` per instance reads the Redis stream (``XREAD BLOCK``) and
hands each change to every client's bounded queue; a client whose queue is full
(it reads slower than changes come) is dropped, never buffered without end. It
reconnects and resumes from its last id. Phone numbers are always masked, and
absent (``null``) for a ``viewer`` token. A token limited to some hotlines or
queues (:mod:`ivr.api.scope`) gets a snapshot of its queues only, and only their
events (a hotline-level event, with ``data["hotline"]`` and no queue, only for its
hotlines).

A revoked or expired token's open stream is closed within a second, on every
instance: each hub re-checks its clients' tokens every ``recheck_s`` (0.5 s) in one
batched Redis round trip (``EXISTS`` per distinct token), and compares their expiry
with the clock. Chosen over a pub/sub channel of revocations: a message published
while an instance's subscription is reconnecting would be lost and the stream left
open; the re-check needs no extra connection, costs one pipeline per half second
per instance however many clients, and catches a token removed by any means.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response
from redis.exceptions import RedisError

from ivr.api.auth import TOKEN_INFO, bearer_token, require_role
from ivr.api.hotlines import HOTLINE_DEPS, hotlines_snapshot
from ivr.api.queues import QUEUE_DEPS, Number, number_view, queues_snapshot
from ivr.api.scope import event_visible, request_scope, visible_hotlines, visible_queues
from ivr.log import api_log, fields
from ivr.store.events import EventStore, StoredEvent, id_key
from ivr.store.tokens import TokenStore, token_hash
from ivr.tasks import cancel_and_wait, stop_if_cancelling

__all__ = ["STREAM_HUB", "StreamHub", "Subscriber", "add_stream"]

HEARTBEAT_S = 15.0
CLIENT_QUEUE_MAX = 1000
RECHECK_S = 0.5


class TokenCheck(Protocol):
    """What the hub needs of :class:`ivr.store.tokens.TokenStore`."""

    async def existing(self, digests: Collection[str]) -> set[str]: ...


def _everything(ev: StoredEvent) -> bool:
    del ev
    return True


@dataclass(eq=False)
class Subscriber:
    """One stream client as the hub sees it: its queue, how to drop it, which events
    it wants, and its token (sha256, expiry) for the re-check."""

    queue: asyncio.Queue[StoredEvent]
    on_drop: Callable[[], None]
    wants: Callable[[StoredEvent], bool] = _everything
    digest: str = ""
    expires_at: float | None = None
    dropped: bool = False


@dataclass(eq=False)
class StreamHub:
    """Reads the Redis stream once per instance and fans it out to every client."""

    events: EventStore
    queue_max: int = CLIENT_QUEUE_MAX
    heartbeat_s: float = HEARTBEAT_S
    block_ms: int = 1000
    tokens: TokenCheck | None = None  # None until add_stream gives the API's
    recheck_s: float = RECHECK_S
    subscribers: set[Subscriber] = field(default_factory=set)
    streams: weakref.WeakSet[EventSourceResponse] = field(default_factory=weakref.WeakSet)
    _after: str = "$"
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        try:
            self._after = await self.events.last_id()
        except (RedisError, OSError):
            self._after = "$"  # Redis away: start from whatever comes next
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._watch())]

    async def close(self) -> None:
        if self._tasks:
            await cancel_and_wait(self._tasks, log=api_log, what="stream reader")
        await close_streams(self)

    def subscribe(
        self,
        on_drop: Callable[[], None],
        wants: Callable[[StoredEvent], bool] = _everything,
        *,
        digest: str = "",
        expires_at: float | None = None,
    ) -> Subscriber:
        sub = Subscriber(asyncio.Queue(self.queue_max), on_drop, wants, digest, expires_at)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def _run(self) -> None:
        while True:
            try:
                got = await self.events.wait_raw(self._after, self.block_ms)
            except (RedisError, OSError) as e:
                api_log.warning("stream reader: Redis error", extra=fields(error=str(e)))
                await asyncio.sleep(1.0)
                continue
            for entry in got:
                self._after = entry.id
                if self.subscribers:  # decoded only for someone to hand it to
                    self.deliver(entry.decode())
            stop_if_cancelling()  # redis-py may swallow a cancellation inside a command

    def deliver(self, ev: StoredEvent) -> None:
        for sub in list(self.subscribers):
            if not sub.wants(ev):
                continue
            try:
                sub.queue.put_nowait(ev)
            except asyncio.QueueFull:
                api_log.warning(
                    "slow stream client dropped", extra=fields(queued=sub.queue.qsize())
                )
                self._drop(sub)

    def _drop(self, sub: Subscriber) -> None:
        sub.dropped = True
        self.subscribers.discard(sub)
        sub.on_drop()

    async def _watch(self) -> None:
        failing = False  # log once per Redis outage, not twice a second
        while True:
            await asyncio.sleep(self.recheck_s)
            try:
                await self.recheck()
                failing = False
            except (RedisError, OSError) as e:
                if not failing:
                    api_log.warning("stream token re-check failed", extra=fields(error=str(e)))
                failing = True
            stop_if_cancelling()

    async def recheck(self, now: float | None = None) -> None:
        """Close the streams of expired tokens, then of tokens no longer stored (revoked)."""
        now = time.time() if now is None else now
        subs = [s for s in self.subscribers if s.digest]
        expired = [s for s in subs if s.expires_at is not None and now >= s.expires_at]
        self._end(expired, "expired")
        subs = [s for s in subs if s not in expired]
        if subs and self.tokens is not None:
            alive = await self.tokens.existing({s.digest for s in subs})
            self._end([s for s in subs if s.digest not in alive], "revoked")

    def _end(self, subs: list[Subscriber], why: str) -> None:
        for sub in subs:
            if sub in self.subscribers:
                api_log.info(f"stream closed: token {why}", extra=fields(token_id=sub.digest[:8]))
                self._drop(sub)


STREAM_HUB = web.AppKey("stream_hub", StreamHub)
_CLOSED = StoredEvent("0-0", "", "", {})  # put in a client's queue when its stream ends
routes = web.RouteTableDef()


def _masked(ev: StoredEvent, number: Number) -> dict[str, Any]:
    body = ev.to_dict()
    data = dict(ev.data)
    if isinstance(data.get("number"), str):
        data["number"] = number(data["number"])
    body["data"] = data
    return body


async def _send(resp: EventSourceResponse, ev: StoredEvent, number: Number) -> None:
    await resp.send(json.dumps(_masked(ev, number), ensure_ascii=False), id=ev.id, event=ev.kind)


async def _start(
    request: web.Request, resp: EventSourceResponse, hub: StreamHub, sub: Subscriber
) -> str:
    """The changes missed since ``Last-Event-ID`` or a snapshot; the last id sent."""
    number = number_view(request[TOKEN_INFO].role)
    last = resp.last_event_id
    if last and await hub.events.can_resume(last):
        while batch := await hub.events.since(last):
            for ev in batch:
                if sub.wants(ev):
                    await _send(resp, ev, number)
            last = batch[-1].id
        return last
    sent = await hub.events.last_id()
    visible = functools.partial(visible_queues, request)
    snapshot = await queues_snapshot(request.app[QUEUE_DEPS], number, visible)
    snapshot["hotlines"] = await hotlines_snapshot(
        request.app[HOTLINE_DEPS], functools.partial(visible_hotlines, request)
    )
    await resp.send(json.dumps(snapshot, ensure_ascii=False), id=sent, event="snapshot")
    return sent


async def _follow(resp: EventSourceResponse, sub: Subscriber, sent: str, number: Number) -> None:
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
                await _send(resp, ev, number)
                sent = ev.id
    finally:
        closed.remove_done_callback(on_closed)
        closed.cancel()


@routes.get("/stream")
async def stream(request: web.Request) -> web.StreamResponse:
    info = require_role(request, "viewer", "supervisor", "admin")
    scope = request_scope(request)
    hub = request.app[STREAM_HUB]
    async with sse_response(request, ping_interval=hub.heartbeat_s) as resp:
        hub.streams.add(resp)

        def drop() -> None:
            resp.stop_streaming()
            if request.transport is not None:
                request.transport.abort()  # a stalled write must not hold the handler

        sub = hub.subscribe(
            drop,
            lambda ev: event_visible(scope, ev.queue, ev.data),
            digest=token_hash(bearer_token(request) or ""),
            expires_at=info.expires_at,
        )
        try:
            sent = await _start(request, resp, hub, sub)
            await _follow(resp, sub, sent, number_view(info.role))
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


def add_stream(api: web.Application, hub: StreamHub, tokens: TokenStore) -> None:
    """Serve ``GET /stream`` in ``api``; open streams end when the server shuts down,
    or when their token is revoked or expires (checked against ``tokens``)."""

    async def on_shutdown(_app: web.Application) -> None:
        await close_streams(hub)

    if hub.tokens is None:
        hub.tokens = tokens
    api[STREAM_HUB] = hub
    api.add_routes(routes)
    api.on_shutdown.append(on_shutdown)
