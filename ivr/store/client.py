"""The Redis client every part of the server uses: quick to fail, so that a Redis
that is away or slow never turns into silence on a citizen's line.

Its pool holds at most :data:`POOL_SIZE` connections; a command that finds them
all busy waits for one (up to a command's time) instead of failing at once, as
redis-py's default pool does: a burst of requests (two hundred wallboards
reconnecting their streams after a restart) is served, not answered 503.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 2.0
POOL_SIZE = 100


def redis_client(url: str) -> Redis:
    """One immediate retry (a pooled connection left over from before a Redis
    restart fails once), no backoff, bounded connect and command times, and a
    bounded wait for a free connection."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=COMMAND_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=COMMAND_TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
    )
    return Redis.from_pool(pool)
