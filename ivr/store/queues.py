"""Live queue states shared through Redis: every instance (and the API) sees them.

Each queue's state is one JSON value (``ivr:queue:<name>``); the set
``ivr:queues`` names them all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from redis.asyncio import Redis

from ivr.queues.state import QueueState
from ivr.store import keys

__all__ = ["QueueStore"]


class QueueStore:
    """Redis repository of live queue states."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def write(self, states: Iterable[QueueState]) -> None:
        """Share ``states`` in one round trip (raises RedisError/OSError on failure)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for st in states:
                pipe.set(keys.queue(st.name), json.dumps(st.to_dict(), ensure_ascii=False))
                pipe.sadd(keys.QUEUES, st.name)
            await pipe.execute()

    async def read_all(self) -> dict[str, QueueState]:
        """Every queue as shared in Redis."""
        names = sorted(
            n.decode() if isinstance(n, bytes) else str(n)
            for n in await self.redis.smembers(keys.QUEUES)
        )
        if not names:
            return {}
        raws = await self.redis.mget([keys.queue(n) for n in names])
        return {
            n: QueueState.from_dict(json.loads(r))
            for n, r in zip(names, raws, strict=True)
            if r is not None
        }
