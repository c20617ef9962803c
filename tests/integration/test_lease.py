"""Leader lease on a real Redis: one leader, renew and release only by the holder, expiry."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ivr.store import keys
from ivr.store.lease import LeaderLease
from tests.until import until

pytestmark = pytest.mark.redis


def pair(redis: Redis, ttl_s: float = 5.0) -> tuple[LeaderLease, LeaderLease]:
    return (
        LeaderLease(redis, "callbacks", "instance-a", ttl_s),
        LeaderLease(redis, "callbacks", "instance-b", ttl_s),
    )


async def test_only_one_of_two_leads(redis_clean: Redis) -> None:
    a, b = pair(redis_clean)
    assert not a.is_leader
    assert await a.acquire()
    assert not await b.acquire()
    assert a.is_leader and not b.is_leader
    assert await redis_clean.get(keys.lease("callbacks")) == b"instance-a"
    assert await b.holder() == "instance-a"
    assert 0 < await redis_clean.pttl(keys.lease("callbacks")) <= 5000


async def test_concurrent_acquires_elect_one(redis_clean: Redis) -> None:
    leases = [LeaderLease(redis_clean, "callbacks", f"i{n}", 5.0) for n in range(10)]
    won = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sum(won) == 1


async def test_acquire_again_renews_our_own_lease(redis_clean: Redis) -> None:
    a, _ = pair(redis_clean)
    assert await a.acquire()
    await redis_clean.pexpire(keys.lease("callbacks"), 1000)
    assert await a.acquire()
    assert await redis_clean.pttl(keys.lease("callbacks")) > 1000


async def test_renew_extends_only_while_ours(redis_clean: Redis) -> None:
    a, b = pair(redis_clean, ttl_s=0.2)
    assert await a.acquire()
    assert await a.renew()
    await until(lambda: b.acquire())  # once expired, b takes over
    assert b.is_leader
    assert not await a.renew()
    assert not a.is_leader
    assert await b.holder() == "instance-b"
    assert await b.renew()


async def test_renew_without_the_lease_fails(redis_clean: Redis) -> None:
    a, _ = pair(redis_clean)
    assert not await a.renew()
    assert not a.is_leader
    assert await a.holder() is None


async def test_release_only_by_the_holder(redis_clean: Redis) -> None:
    a, b = pair(redis_clean)
    assert await a.acquire()
    await b.release()  # not b's: nothing happens
    assert await a.holder() == "instance-a"
    assert await a.renew()
    await a.release()
    assert not a.is_leader
    assert await a.holder() is None
    assert await b.acquire()


async def test_expiry_frees_the_lease(redis_clean: Redis) -> None:
    a, b = pair(redis_clean, ttl_s=0.15)
    assert await a.acquire()
    assert not await b.acquire()
    # our own view expires with the TTL, even without Redis
    await until(lambda: not a.is_leader)
    await until(lambda: b.acquire())
    assert not await a.acquire()


async def test_leases_of_different_names_are_independent(redis_clean: Redis) -> None:
    a = LeaderLease(redis_clean, "callbacks", "instance-a", 5.0)
    b = LeaderLease(redis_clean, "prober", "instance-b", 5.0)
    assert await a.acquire()
    assert await b.acquire()


async def test_redis_failure_means_not_leader(redis_clean: Redis) -> None:
    a, _ = pair(redis_clean)
    assert await a.acquire()
    broken = Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    lost = LeaderLease(broken, "callbacks", "instance-a", 5.0)
    assert not await lost.acquire()
    assert not await lost.renew()
    await lost.release()  # logged, not raised
    assert not lost.is_leader
    await broken.aclose()


def test_bad_arguments() -> None:
    redis = Redis()
    with pytest.raises(ValueError, match="ttl_s"):
        LeaderLease(redis, "callbacks", "a", 0)
    with pytest.raises(ValueError, match="instance_id"):
        LeaderLease(redis, "callbacks", "", 1.0)
