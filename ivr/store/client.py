"""The Redis client every part of the server uses: quick to fail, so that a Redis
that is away or slow never turns into silence on a citizen's line.

Its pool holds at most :data:`POOL_SIZE` connections; a command that finds them
all busy waits for one (up to a command's time) instead of failing at once, as
redis-py's default pool does: a burst of requests (two hundred wallboards
reconnecting their streams after a restart) is served, not answered 503.

Every command that fails after its retry is counted in :class:`RedisErrors` (by
kind: ``connection``, ``timeout``, ``response``) for ``/metrics``; the count is
kept by the connections' retry policy, so a command that succeeds costs nothing more.

With ``[redis] sentinels`` (:mod:`ivr.config_redis`) the same client goes to the
primary the sentinels name and follows their fail-over (:mod:`ivr.store.sentinel`):
every part of the server makes its client here, so every part follows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ivr.config import Settings
from ivr.config_redis import RedisTarget, redis_target
from ivr.store.replication import Replication
from ivr.store.sentinel import PrimaryWatch, sentinel_client

__all__ = [
    "COMMAND_TIMEOUT_S",
    "CONNECT_TIMEOUT_S",
    "POOL_SIZE",
    "PrimaryWatch",
    "RedisErrors",
    "redis_client",
    "server_redis",
]

CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 2.0
POOL_SIZE = 100

T = TypeVar("T")


class RedisErrors:
    """Redis commands that failed, by kind (read by ``/metrics``)."""

    KINDS = ("connection", "timeout", "response")

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(self.KINDS, 0)

    def count(self, error: BaseException) -> None:
        if isinstance(error, RedisTimeoutError | TimeoutError):
            self.counts["timeout"] += 1
        elif isinstance(error, RedisConnectionError | OSError):
            self.counts["connection"] += 1
        else:
            self.counts["response"] += 1


class _CountingRetry(Retry):
    """redis-py's retry, counting the commands that fail after it in ``errors``.

    Each connection deep-copies its retry policy: the copy shares the count."""

    def __init__(self, errors: RedisErrors) -> None:
        super().__init__(NoBackoff(), 1)
        self.errors = errors

    def __deepcopy__(self, memo: dict[int, Any]) -> _CountingRetry:
        return _CountingRetry(self.errors)

    async def call_with_retry(
        self, do: Callable[[], Awaitable[T]], fail: Any, *args: Any, **kwargs: Any
    ) -> T:
        try:
            return await super().call_with_retry(do, fail, *args, **kwargs)
        except (RedisError, OSError) as e:  # TimeoutError is an OSError
            self.errors.count(e)
            raise


def redis_client(
    where: str | RedisTarget, errors: RedisErrors | None = None, watch: PrimaryWatch | None = None
) -> Redis:
    """One immediate retry (a pooled connection left over from before a Redis
    restart fails once), no backoff, bounded connect and command times, and a
    bounded wait for a free connection; failed commands counted in ``errors``.

    ``where`` is a URL, or a :class:`RedisTarget` from the settings
    (:func:`ivr.config_redis.redis_target`); with sentinels, ``watch`` is told
    each primary the connections are sent to."""
    target = RedisTarget(url=where) if isinstance(where, str) else where
    options: dict[str, Any] = {
        "max_connections": POOL_SIZE,
        "timeout": COMMAND_TIMEOUT_S,
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "socket_timeout": COMMAND_TIMEOUT_S,
        "retry": _CountingRetry(errors) if errors is not None else Retry(NoBackoff(), 1),
    }
    if target.password:
        options["password"] = target.password
    if target.sentinels:
        return sentinel_client(
            target.sentinels,
            target.service,
            sentinel_password=target.sentinel_password,
            watch=watch,
            db=target.db,
            **options,
        )
    return Redis.from_pool(BlockingConnectionPool.from_url(target.url, **options))


def server_redis(settings: Settings, errors: RedisErrors) -> tuple[Redis, Replication | None]:
    """The server's client (a mistake in ``[redis]`` raises ConfigError, naming it),
    and with Sentinel the replication guard of the callbacks
    (:mod:`ivr.store.replication`), which holds the watch of the primary followed."""
    target = redis_target(settings)
    if not target.sentinels:
        return redis_client(target, errors), None
    watch = PrimaryWatch()
    client = redis_client(target, errors, watch)
    return client, Replication(client, watch)
