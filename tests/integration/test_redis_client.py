"""The server's Redis client under a burst: more commands at once than its pool holds."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import pytest
from redis.asyncio import Redis

from ivr.config import load_settings
from ivr.store.client import POOL_SIZE, redis_client

pytestmark = pytest.mark.redis


async def test_a_burst_beyond_the_pool_waits_for_connections(redis_clean: Redis) -> None:
    u = urlparse(load_settings().redis_url)
    r = redis_client(f"redis://{u.hostname}:{u.port}/15")
    try:
        # each BLPOP holds its connection a moment: the last ones find the pool full
        got = await asyncio.gather(
            *(r.blpop([f"burst:{i}"], timeout=0.3) for i in range(POOL_SIZE + 50))
        )
    finally:
        await r.aclose()
    assert got == [None] * (POOL_SIZE + 50)
