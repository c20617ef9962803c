"""The Redis client every part of the server uses: quick to fail, so that a Redis
that is away or slow never turns into silence on a citizen's line."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 2.0


def redis_client(url: str) -> Redis:
    """One immediate retry (a pooled connection left over from before a Redis
    restart fails once), no backoff, bounded connect and command times."""
    return Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=COMMAND_TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
    )
