"""Today's figures in a real Redis: counters raised, each event counted once by two
instances fed the same AMI events, kept across a restart, and shown by the API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.ami.events import (
    AgentComplete,
    AgentConnect,
    AnyEvent,
    QueueCallerAbandon,
    QueueCallerJoin,
)
from ivr.api.app import API_PREFIX, build_api
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.lineup.figures import FigureRecorder
from ivr.lineup.publish import callback_watchers
from ivr.queues.figures import Figures, Targets, day_of
from ivr.queues.state import QueueState
from ivr.store import keys
from ivr.store.callbacks import CallbackStore
from ivr.store.figures import FigureStore
from ivr.store.tokens import TokenStore
from ivr.store.waiting import WaitingStore
from tests.until import until

pytestmark = pytest.mark.redis

Q = "complaint"
# a fixed Bangkok noon: a run near midnight cannot split the test's events over two days
NOON = 1_795_928_400.0  # 2026-11-29 12:00 in Bangkok


def targets(queue: str) -> Targets:
    return Targets(service_level_s=30, service_level_target=0.8, short_abandon_s=5)


def recorder(redis: Redis) -> FigureRecorder:
    """One server instance's recorder (its own objects, the shared Redis)."""
    return FigureRecorder(
        AmiClient(), FigureStore(redis), WaitingStore(redis), targets, clock=lambda: NOON + 300
    )


def a_morning(now: float) -> list[AnyEvent]:
    """Four callers: one answered in 10 s (talked 120 s), one answered in 50 s (talked
    60 s), one abandoned after 40 s, one hung up after 2 s; the first joined twice
    (two turns of the waiting loop)."""
    return [
        QueueCallerJoin(queue=Q, uniqueid="1.1", timestamp=now),
        QueueCallerJoin(queue=Q, uniqueid="1.1", timestamp=now + 5),
        QueueCallerJoin(queue=Q, uniqueid="1.2", timestamp=now),
        QueueCallerJoin(queue=Q, uniqueid="1.3", timestamp=now),
        QueueCallerJoin(queue=Q, uniqueid="1.4", timestamp=now),
        AgentConnect(queue=Q, uniqueid="1.1", hold_time=10, timestamp=now + 10),
        AgentConnect(queue=Q, uniqueid="1.2", hold_time=50, timestamp=now + 50),
        QueueCallerAbandon(queue=Q, uniqueid="1.3", hold_time=40, timestamp=now + 40),
        QueueCallerAbandon(queue=Q, uniqueid="1.4", hold_time=2, timestamp=now + 2),
        AgentComplete(queue=Q, uniqueid="1.1", talk_time=120, timestamp=now + 130),
        AgentComplete(queue=Q, uniqueid="1.2", talk_time=60, timestamp=now + 110),
    ]


EXPECTED = Figures(
    offered=4,
    answered=2,
    answered_within_sl=1,
    abandoned=1,
    short_abandoned=1,
    hold_s=60,
    handled=2,
    talk_s=180,
)


async def test_events_raise_the_day_counters(redis_clean: Redis) -> None:
    now = NOON
    rec = recorder(redis_clean)
    for ev in a_morning(now):
        await rec.record(ev)
    day = day_of(now)
    got = await FigureStore(redis_clean).day(day, [Q, "operator"])
    assert got[Q] == EXPECTED
    assert got["operator"] == Figures()
    ttl = await redis_clean.ttl(keys.figures(day, Q))
    assert 39 * 24 * 3600 < ttl <= 40 * 24 * 3600


async def test_two_instances_count_each_event_once(redis_clean: Redis) -> None:
    now = NOON
    a, b = recorder(redis_clean), recorder(redis_clean)
    for ev in a_morning(now):  # both consume the same AMI, through their subscription
        a._on_event(ev)
        b._on_event(ev)

    async def counted() -> bool:
        return (await FigureStore(redis_clean).day(day_of(now), [Q]))[Q] == EXPECTED

    await until(counted, what="the morning counted")
    await a.close()
    await b.close()
    assert (await FigureStore(redis_clean).day(day_of(now), [Q]))[Q] == EXPECTED


async def test_whole_wait_from_the_recorded_arrival(redis_clean: Redis) -> None:
    now = NOON
    await WaitingStore(redis_clean).remember_arrival("2.1", Q, now - 45, "complaint")
    rec = recorder(redis_clean)
    assert await rec.record(AgentConnect(queue=Q, uniqueid="2.1", hold_time=15, timestamp=now))
    f = (await FigureStore(redis_clean).day(day_of(now), [Q]))[Q]
    assert (f.answered, f.answered_within_sl) == (1, 0)
    assert f.hold_s == pytest.approx(45, abs=1)


async def test_figures_survive_a_restart(redis_clean: Redis) -> None:
    now = NOON
    events = a_morning(now)
    first = recorder(redis_clean)
    for ev in events[:6]:
        await first.record(ev)
    await first.close()
    again = recorder(redis_clean)  # a new process: nothing kept in memory
    for ev in events:  # the AMI replaying what the first already counted changes nothing
        await again.record(ev)
    assert (await FigureStore(redis_clean).day(day_of(now), [Q]))[Q] == EXPECTED


@pytest.fixture
async def client(redis_clean: Redis) -> AsyncIterator[tuple[TestClient[Any, Any], str]]:
    tokens = TokenStore(redis_clean)
    rec = recorder(redis_clean)
    states = {Q: QueueState(name=Q), "operator": QueueState(name="operator")}

    async def provider() -> dict[str, QueueState]:
        return states

    for ev in a_morning(NOON):
        await rec.record(ev)
    root = web.Application()
    root.add_subapp(
        API_PREFIX,
        build_api(
            tokens=tokens, callbacks=CallbackStore(redis_clean), queues=provider, today=rec.today
        ),
    )
    c: TestClient[Any, Any] = TestClient(TestServer(root))
    await c.start_server()
    token, _ = await tokens.create("supervisor", "wallboard")
    try:
        yield c, token
    finally:
        await c.close()


async def test_api_shows_today(client: tuple[TestClient[Any, Any], str]) -> None:
    c, token = client
    auth = {"Authorization": f"Bearer {token}"}
    resp = await c.get(f"{API_PREFIX}/queues", headers=auth)
    assert resp.status == 200
    body = await resp.json()
    by_name = {q["name"]: q["today"] for q in body["queues"]}
    today = by_name[Q]
    assert today["day"] == day_of(NOON)
    assert (today["offered"], today["answered"], today["abandoned"]) == (4, 2, 1)
    assert today["short_abandoned"] == 1
    assert today["service_level"] == pytest.approx(1 / 3, abs=0.001)
    assert (today["asa_s"], today["aht_s"]) == (30.0, 90.0)
    assert today["service_level_target"] == 0.8
    assert by_name["operator"]["offered"] == 0 and by_name["operator"]["service_level"] is None
    resp = await c.get(f"{API_PREFIX}/queues/{Q}", headers=auth)
    assert resp.status == 200
    assert (await resp.json())["today"] == today


async def test_a_failed_callback_counts_once_in_its_queue(redis_clean: Redis) -> None:
    rec = recorder(redis_clean)  # today is NOON's day, whatever the wall clock says
    store = CallbackStore(redis_clean, on_change=callback_watchers(rec.record_callback))
    now = time.time()
    await store.create(
        CallbackRequest(
            id="cb1",
            queue=Q,
            hotline="1111",
            number="0812345678",
            arrived_at=now - 60,
            requested_at=now - 30,
        )
    )
    assert await store.claim("cb1", "i1", now + 60, now=now) is not None
    failed = await store.release("cb1", "i1", "no-answer", None, 1, now=now + 30)
    assert failed is not None and failed.status is CallbackStatus.FAILED
    assert await rec.record_callback(failed) is False  # told again (another instance): once
    got = await FigureStore(redis_clean).day(day_of(NOON), [Q, "operator"])
    assert (got[Q].callbacks_failed, got["operator"].callbacks_failed) == (1, 0)
    assert (await rec.today([Q]))[Q]["callbacks_failed"] == 1
