"""``GET /api/stream`` against a real Redis: snapshot, changes, resume, slow clients,
two instances sharing one stream of changes, and access: viewers without numbers,
scoped tokens, revoked and expired tokens' streams closed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.api.app import API_PREFIX, build_api
from ivr.api.stream import StreamHub, close_streams
from ivr.callbacks.model import CallbackRequest
from ivr.lineup.changes import Change
from ivr.lineup.live import LiveQueues
from ivr.lineup.publish import callback_publisher
from ivr.queues.state import Caller, QueueState
from ivr.store import keys
from ivr.store.callbacks import CallbackStore
from ivr.store.events import EventStore
from ivr.store.lease import LeaderLease
from ivr.store.tokens import TokenStore
from tests.until import until

pytestmark = pytest.mark.redis

NUMBER = "0811111111"
MASKED = "081*****11"


@dataclass
class Sse:
    """What one client read from the stream: events and heartbeat comments."""

    events: list[dict[str, Any]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    ended: bool = False

    def kinds(self) -> list[str]:
        return [e["event"] for e in self.events]


async def read_sse(resp: aiohttp.ClientResponse, out: Sse) -> None:
    current: dict[str, Any] = {}
    try:
        async for raw in resp.content:
            line = raw.decode().rstrip("\r\n")
            if not line:
                if current:
                    current["json"] = json.loads(current.get("data", "null"))
                    out.events.append(current)
                current = {}
            elif line.startswith(":"):
                out.comments.append(line[1:].strip())
            else:
                name, _, value = line.partition(":")
                current[name] = value[1:] if value.startswith(" ") else value
    except (aiohttp.ClientError, asyncio.CancelledError):
        pass
    finally:
        out.ended = True


@dataclass
class Instance:
    """One server instance: its own Redis client, events, callbacks (and maybe an API)."""

    redis: Redis
    events: EventStore
    callbacks: CallbackStore


@dataclass
class Served:
    client: TestClient[web.Request, web.Application]
    hub: StreamHub
    token: str
    tokens: TokenStore
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def connect(self, last_id: str | None = None, token: str | None = None) -> Sse:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        resp = await self.client.get("/api/stream", headers=headers)
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        out = Sse()
        self.readers.append(asyncio.create_task(read_sse(resp, out)))
        return out


async def instance(redis_clean: Redis) -> Instance:
    kw = redis_clean.connection_pool.connection_kwargs
    r = Redis(host=kw["host"], port=kw["port"], db=kw["db"])
    events = EventStore(r)
    return Instance(r, events, CallbackStore(r, on_change=callback_publisher(events)))


@pytest.fixture
async def a(redis_clean: Redis) -> AsyncIterator[Instance]:
    inst = await instance(redis_clean)
    yield inst
    await inst.redis.aclose()


@pytest.fixture
async def b(redis_clean: Redis) -> AsyncIterator[Instance]:
    inst = await instance(redis_clean)
    yield inst
    await inst.redis.aclose()


def states() -> dict[str, QueueState]:
    caller = Caller(uniqueid="c1", arrived_at=1.0, caller_id=NUMBER, topic="complaint")
    return {"complaint": QueueState(name="complaint", callers={"c1": caller})}


async def serve(
    inst: Instance,
    the_states: dict[str, QueueState] | None = None,
    hotline_queues: dict[str, list[str]] | None = None,
    **hub_kw: Any,
) -> Served:
    """Instance ``inst``'s API with the stream, started like the server starts it."""
    hub = StreamHub(inst.events, **hub_kw)
    await hub.start()
    tokens = TokenStore(inst.redis)
    token, _ = await tokens.create("supervisor", "wallboard")
    model = the_states if the_states is not None else states()

    async def provider() -> dict[str, QueueState]:
        return model

    root = web.Application()
    api = build_api(
        tokens=tokens,
        callbacks=inst.callbacks,
        queues=provider,
        stream=hub,
        hotline_queues=lambda: hotline_queues or {},
    )
    root.add_subapp(API_PREFIX, api)
    client = TestClient(TestServer(root))
    await client.start_server()
    return Served(client, hub, token, tokens)


async def stop(s: Served) -> None:
    await s.client.close()
    await s.hub.close()
    for task in s.readers:
        task.cancel()
    await asyncio.gather(*s.readers, return_exceptions=True)


@pytest.fixture
async def served(b: Instance) -> AsyncIterator[Served]:
    s = await serve(b)
    yield s
    await stop(s)


def joined(uid: str) -> dict[str, Any]:
    return Change("caller.joined", "complaint", {"uniqueid": uid, "number": NUMBER}).to_dict()


async def test_snapshot_then_changes_from_another_instance(served: Served, a: Instance) -> None:
    sse = await served.connect()
    await until(lambda: sse.events, what="the snapshot")
    snap = sse.events[0]
    assert snap["event"] == "snapshot"
    (queue,) = snap["json"]["queues"]
    assert queue["name"] == "complaint" and queue["callers_waiting"] == 1
    assert queue["callers"][0]["number"] == MASKED
    assert queue["members"] == [] and queue["callbacks"] == []
    assert snap["id"] == "0-0"  # nothing published yet

    (new_id,) = await a.events.publish([joined("c2")])  # instance A, its own client
    await until(lambda: len(sse.events) >= 2, what="the change on instance B's stream")
    change = sse.events[1]
    assert (change["event"], change["id"]) == ("caller.joined", new_id)
    assert change["json"]["data"] == {"uniqueid": "c2", "number": MASKED}


async def test_callback_transitions_reach_the_stream(served: Served, a: Instance) -> None:
    sse = await served.connect()
    await until(lambda: sse.events, what="the snapshot")
    req = CallbackRequest(
        id="cb1", queue="complaint", hotline="1111", number="0899999999",
        arrived_at=1.0, requested_at=2.0,
    )  # fmt: skip
    assert (await a.callbacks.create(req)).created
    assert await a.callbacks.cancel("cb1", by="test") is not None
    await until(lambda: len(sse.events) >= 3, what="requested and cancelled")
    assert sse.kinds()[1:] == ["callback.requested", "callback.cancelled"]
    assert sse.events[1]["json"]["data"]["number"] == "089*****99"


async def test_resume_with_last_event_id(served: Served, a: Instance) -> None:
    first = await served.connect()
    await until(lambda: first.events, what="the snapshot")
    (seen,) = await a.events.publish([joined("c2")])
    await until(lambda: len(first.events) >= 2, what="the first change")
    missed = await a.events.publish([joined("c3"), joined("c4")])
    again = await served.connect(last_id=seen)
    await until(lambda: len(again.events) >= 2, what="the missed changes")
    assert [e["id"] for e in again.events] == missed
    assert "snapshot" not in again.kinds()


async def test_too_old_or_bad_id_gets_a_snapshot(
    served: Served, a: Instance, redis_clean: Redis
) -> None:
    ids = await a.events.publish([joined("c2"), joined("c3"), joined("c4")])
    await redis_clean.xtrim(keys.EVENTS, maxlen=1, approximate=False)
    for last in (ids[0], "not-an-id"):
        sse = await served.connect(last_id=last)
        await until(lambda sse=sse: sse.events, what=f"a snapshot for {last}")
        assert sse.events[0]["event"] == "snapshot"
        assert sse.events[0]["id"] == ids[-1]


async def test_slow_client_is_dropped(b: Instance, a: Instance) -> None:
    hub = StreamHub(b.events, queue_max=2)
    await hub.start()
    dropped: list[bool] = []
    try:
        slow = hub.subscribe(lambda: dropped.append(True))
        fast = hub.subscribe(lambda: None)
        for i in range(3):
            await a.events.publish([joined(f"c{i}")])
            await until(lambda: fast.queue.qsize() or dropped, what="an event delivered")
            if not dropped:
                fast.queue.get_nowait()
        await until(lambda: dropped, what="the slow client dropped")
        assert slow.dropped and slow not in hub.subscribers
        assert fast in hub.subscribers and slow.queue.qsize() == 2
    finally:
        await hub.close()


async def test_heartbeat_and_shutdown(b: Instance) -> None:
    s = await serve(b, heartbeat_s=0.1)
    try:
        sse = await s.connect()
        await until(lambda: "ping" in sse.comments, what="a heartbeat comment")
        await close_streams(s.hub)
        await until(lambda: sse.ended, what="the stream closed by the server")
    finally:
        await s.client.close()
        await s.hub.close()
        await asyncio.gather(*s.readers, return_exceptions=True)


async def test_token_required(served: Served) -> None:
    r = await served.client.get("/api/stream")
    assert r.status == 401


async def test_queue_changes_published_once_by_the_lease_holder(a: Instance, b: Instance) -> None:
    """Two instances see the same AMI event; only the lease holder publishes it."""
    lives = [
        LiveQueues(
            cast(AmiClient, object()),
            inst.redis,
            events=inst.events,
            lease=LeaderLease(inst.redis, "queue-events", name, ttl_s=5.0),
        )
        for inst, name in ((a, "A"), (b, "B"))
    ]
    for live in lives:
        live.states = states()
        live._dirty.add("complaint")
        await live._flush()
    got = await a.events.since("0-0")
    assert [(e.kind, e.data["uniqueid"]) for e in got] == [("caller.joined", "c1")]
    for live in lives:
        with contextlib.suppress(Exception):
            await live.close()


async def test_client_that_stops_reading_is_disconnected(b: Instance, a: Instance) -> None:
    """Over HTTP: a client that stops reading fills the socket, then its queue, and
    is disconnected; the server's memory does not grow with what it did not read."""
    s = await serve(b, queue_max=2)
    try:
        headers = {"Authorization": f"Bearer {s.token}"}
        resp = await s.client.get("/api/stream", headers=headers)
        assert resp.status == 200
        await until(lambda: s.hub.subscribers, what="the client subscribed")
        big = Change("caller.joined", "complaint", {"pad": "x" * 512_000}).to_dict()
        for _ in range(40):
            await a.events.publish([big])
            if not s.hub.subscribers:
                break
        await until(lambda: not s.hub.subscribers, what="the stalled client dropped")
        resp.close()
    finally:
        await s.client.close()
        await s.hub.close()


# -- roles, scopes, revocation and expiry ---------------------------------------------
def two_queues() -> dict[str, QueueState]:
    health = Caller(uniqueid="h1", arrived_at=1.0, caller_id="0822222222", topic="health")
    return {**states(), "health": QueueState(name="health", callers={"h1": health})}


def change(kind: str, queue: str, data: dict[str, Any]) -> dict[str, Any]:
    return Change(kind, queue, data).to_dict()


async def test_viewer_stream_has_no_number_at_all(served: Served, a: Instance) -> None:
    token, _ = await served.tokens.create("viewer", "wall screen")
    sse = await served.connect(token=token)
    await until(lambda: sse.events, what="the snapshot")
    (queue,) = sse.events[0]["json"]["queues"]
    assert queue["callers"][0]["number"] is None
    await a.events.publish([joined("c2")])
    await until(lambda: len(sse.events) >= 2, what="the change")
    assert sse.events[1]["json"]["data"] == {"uniqueid": "c2", "number": None}
    assert "081" not in json.dumps([e["json"] for e in sse.events])


async def test_scoped_stream_sees_only_its_queues_and_hotlines(b: Instance, a: Instance) -> None:
    s = await serve(b, two_queues(), {"1111": ["complaint"], "1555": ["health"]})
    try:
        token, _ = await s.tokens.create("supervisor", "agency", hotlines=["1111"])
        sse = await s.connect(token=token)
        await until(lambda: sse.events, what="the snapshot")
        assert [q["name"] for q in sse.events[0]["json"]["queues"]] == ["complaint"]
        ids = await a.events.publish(
            [
                change("caller.joined", "health", {"uniqueid": "h2"}),
                change("hotline.closed", "", {"hotline": "1555"}),
                change("hotline.closed", "", {"hotline": "1111"}),
                change("caller.joined", "complaint", {"uniqueid": "c2"}),
            ]
        )
        await until(lambda: len(sse.events) >= 3, what="the changes in scope")
        got = [(e["json"]["queue"], e["json"]["data"]) for e in sse.events[1:]]
        assert got == [("", {"hotline": "1111"}), ("complaint", {"uniqueid": "c2"})]
        assert [e["id"] for e in sse.events[1:]] == ids[2:]
        # resuming skips the others' changes too
        again = await s.connect(last_id=ids[0], token=token)
        await until(lambda: len(again.events) >= 2, what="the missed changes in scope")
        assert [e["id"] for e in again.events] == ids[2:]
    finally:
        await stop(s)


async def test_revoked_token_stream_closes_within_a_second_on_every_instance(
    b: Instance, a: Instance
) -> None:
    """Behaviour bound: the hubs re-check every 0.5 s, so a stream ends within about
    0.5 s of the revocation plus a round trip; 1.5 s is asserted for slow machines."""
    on_b, on_a = await serve(b), await serve(a)
    try:
        token, info = await on_b.tokens.create("supervisor", "lost laptop")
        streams = [await on_b.connect(token=token), await on_a.connect(token=token)]
        other = await on_b.connect()  # another token's stream stays open
        await until(lambda: all(s.events for s in [*streams, other]), what="the snapshots")
        revoker = TokenStore(a.redis)  # revoked from anywhere, e.g. `ivr tokens revoke`
        started = time.monotonic()
        assert await revoker.revoke(info.id)
        await until(lambda: all(s.ended for s in streams), within=5, what="both streams closed")
        assert time.monotonic() - started < 1.5
        assert not other.ended
        r = await on_b.client.get("/api/stream", headers={"Authorization": f"Bearer {token}"})
        assert r.status == 401 and (await r.json())["error"]["id"] == "invalid-token"
    finally:
        await stop(on_b)
        await stop(on_a)


async def test_expired_token_stream_closes_at_expiry(served: Served) -> None:
    token, info = await served.tokens.create("supervisor", "short", lifetime_s=1.0)
    sse = await served.connect(token=token)
    await until(lambda: sse.events, what="the snapshot")
    assert info.expires_at is not None
    await until(lambda: sse.ended, within=5, what="the stream closed at expiry")
    assert time.time() - info.expires_at < 1.5  # re-checked every 0.5 s; slack for slow machines
    r = await served.client.get("/api/stream", headers={"Authorization": f"Bearer {token}"})
    assert r.status == 401 and (await r.json())["error"]["id"] == "expired-token"
