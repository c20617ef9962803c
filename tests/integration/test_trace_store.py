"""Call traces on a real Redis; while Redis is away they wait in memory, none lost."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from ivr.store import keys
from ivr.store.client import redis_client
from ivr.store.traces import TraceStore
from ivr.trace import CallTrace

pytestmark = pytest.mark.redis


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


async def test_a_redis_that_is_away_is_tried_twice_then_given_up() -> None:
    """One immediate retry and no more: a call never waits through backoffs on a
    Redis that is away. A server that accepts and drops every connection counts
    the tries of one save."""
    tries = 0

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal tries
        tries += 1
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = redis_client(f"redis://127.0.0.1:{port}/0")
    try:
        assert await TraceStore(client, ttl_s=3600).save(trace(1)) is False
        assert tries == 2  # a Redis() with redis-py's defaults tried 11 times, with backoffs
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_a_batch_is_written_whole_with_its_expiry_and_index(redis_clean: Redis) -> None:
    store = TraceStore(redis_clean, ttl_s=3600)
    now = time.time()
    await redis_clean.zadd(keys.TRACES_BY_TIME, {"1795600000.1": now - 7200})  # expired
    batch = [trace(n) for n in range(2500)]  # more than one ZADD of the script
    batch[7].topic = "ร้องเรียน"
    assert await store.save_many([(t, t.to_json()) for t in batch]) is True
    assert await redis_clean.zcard(keys.TRACES_BY_TIME) == 2500  # the expired one dropped
    assert await redis_clean.zscore(keys.TRACES_BY_TIME, batch[2499].uniqueid) == (
        batch[2499].started_at
    )
    got = await store.get(batch[7].uniqueid)
    assert got is not None and got.to_dict() == batch[7].to_dict()
    assert 3590 < await redis_clean.ttl(keys.trace(batch[0].uniqueid)) <= 3600
