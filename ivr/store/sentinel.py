"""Redis through Sentinel: a client whose connections go to the primary the sentinels
name, and follow it when they promote a replica (redis-py's
``redis.asyncio.sentinel``).

What a fail-over looks like from here: the old primary's connections break (or
answer ``READONLY`` once it is back as a replica: redis-py turns that into a
``ConnectionError`` and drops the connection); each new connection asks the
sentinels where the primary is, so commands fail at once while they have none
(``MasterNotFoundError``, a ``ConnectionError``) and reach the new primary as
soon as they name it. Nothing here retries longer than the client's one
immediate retry: the callers of the store already treat a Redis error as "Redis
away" and go on (see :mod:`ivr.store.client`).

:class:`PrimaryWatch` sees each switch (the pool met a primary at another
address) for the logs and for :class:`ivr.store.replication.Replication`, which
re-applies the callback changes no replica had confirmed.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff

from ivr.log import fields, store_log

__all__ = ["PrimaryWatch", "sentinel_client"]


class PrimaryWatch:
    """The primary's address as last named by the sentinels, and how often it changed."""

    def __init__(self) -> None:
        self.address: tuple[str, int] | None = None
        self.switches = 0  # primaries met at a new address after the first
        self.switched_at: float | None = None  # time.monotonic() of the last switch

    def seen(self, address: tuple[str, int]) -> None:
        address = (str(address[0]), int(address[1]))
        if self.address is not None and address != self.address:
            self.switches += 1
            self.switched_at = time.monotonic()
            store_log.warning(
                "Redis primary changed (Sentinel fail-over): following it",
                extra=fields(old=_text(self.address), new=_text(address), switches=self.switches),
            )
        self.address = address


def _text(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


class _PrimaryPool(SentinelConnectionPool, BlockingConnectionPool):
    """redis-py's Sentinel pool with the blocking pool's bounded wait for a free
    connection (see :mod:`ivr.store.client`); tells ``watch`` each primary it is
    given, and closes the sentinels' own clients with itself."""

    watch: PrimaryWatch | None = None

    async def get_master_address(self) -> Any:
        address = await super().get_master_address()  # type: ignore[no-untyped-call]
        if self.watch is not None:
            self.watch.seen(address)
        return address

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            await self.sentinel_manager.aclose()


def sentinel_client(
    sentinels: tuple[tuple[str, int], ...],
    service: str,
    *,
    sentinel_password: str,
    watch: PrimaryWatch | None,
    **connection: Any,
) -> Redis:
    """A client of the primary ``service``; ``connection`` holds the options of each
    connection to the Redis servers (timeouts, retry, pool size, password, db)."""
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(sentinels),
        sentinel_kwargs={
            "socket_connect_timeout": connection.get("socket_connect_timeout"),
            "socket_timeout": connection.get("socket_timeout"),
            "password": sentinel_password or None,
            # a sentinel that is down is skipped at once: the next one is asked
            "retry": Retry(NoBackoff(), 0),
        },
    )
    client: Redis = sentinel.master_for(service, connection_pool_class=_PrimaryPool, **connection)
    pool = client.connection_pool
    assert isinstance(pool, _PrimaryPool)
    pool.watch = watch
    return client
