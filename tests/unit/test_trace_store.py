"""Call traces on a real Redis; while Redis is away they wait in memory, none lost."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from ivr.store.client import redis_client
from ivr.store.traces import TraceStore
from ivr.trace import CallTrace


def trace(n: int) -> CallTrace:
    # started now: the store drops index entries older than its TTL
    t = CallTrace(uniqueid=f"1795690000.{n}", hotline="1111", started_at=time.time() + n)
    t.outcome, t.target = "queue", "complaint"
    return t


def nowhere() -> Redis:
    """The server's Redis client with nobody listening (port 1): every command fails."""
    return redis_client("redis://127.0.0.1:1/0")


async def test_traces_wait_in_memory_and_are_written_with_the_next_save(
    redis_clean: Redis,
) -> None:
    down = nowhere()
    store = TraceStore(down, ttl_s=3600)
    for n in range(3):
        assert await store.save(trace(n)) is False
    assert store.pending == 3
    await down.aclose()
    store.redis = redis_clean  # Redis is back
    assert await store.save(trace(3)) is True
    assert store.pending == 0
    got = await TraceStore(redis_clean, 3600).recent(10)
    assert sorted(t.uniqueid for t in got) == [f"1795690000.{n}" for n in range(4)]
    assert all(t.target == "complaint" for t in got)


async def test_flush_pending_writes_them_without_a_new_call(redis_clean: Redis) -> None:
    down = nowhere()
    store = TraceStore(down, ttl_s=3600)
    await store.save(trace(1))
    await store.save(trace(2))
    assert await store.flush_pending() == 0  # still away: kept
    assert store.pending == 2
    await down.aclose()
    store.redis = redis_clean
    assert await store.flush_pending() == 2
    assert store.pending == 0
    assert await store.get("1795690000.2") is not None


async def test_a_full_backlog_drops_the_oldest_and_counts_it() -> None:
    down = nowhere()
    store = TraceStore(down, ttl_s=3600, backlog_max=2)
    for n in range(3):
        await store.save(trace(n))
    assert (store.pending, store.dropped) == (2, 1)
    await down.aclose()


async def test_a_redis_that_is_away_fails_at_once() -> None:
    """No retries with backoff: a call never waits seconds on a Redis that is away."""
    down = nowhere()
    store = TraceStore(down, ttl_s=3600)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(5):
        await store.save(trace(n))
    assert loop.time() - started < 2.0  # five failed saves: well under a second each
    await down.aclose()
