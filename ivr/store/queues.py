"""Live queue states shared through Redis: every instance (and the API) sees them.

Each queue's state is one JSON value (``ivr:queue:<name>``); the set
``ivr:queues`` names them all. With several Asterisk nodes each node's live model
has its own keys (``ivr:queue:<name>@<node>``, ``ivr:queues@<node>``): the same
queue name is another queue on another node.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from redis.asyncio import Redis

from ivr.queues.state import QueueState
from ivr.queues.state_text import QueueText
from ivr.store import keys

__all__ = ["QueueStore"]


class QueueStore:
    """Redis repository of live queue states."""

    def __init__(self, redis: Redis, node: str = "") -> None:
        self.redis = redis
        self.node = node  # "" : the one node
        self._text = QueueText()  # each caller's JSON kept between two writes

    async def write(self, states: Iterable[QueueState]) -> None:
        """Share ``states`` in one round trip (raises RedisError/OSError on failure)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for st in states:
                pipe.set(keys.queue(st.name, self.node), self._text.text(st))
                pipe.sadd(keys.queues(self.node), st.name)
            await pipe.execute()

    async def read_all(self) -> dict[str, QueueState]:
        """Every queue as shared in Redis."""
        names = sorted(
            n.decode() if isinstance(n, bytes) else str(n)
            for n in await self.redis.smembers(keys.queues(self.node))
        )
        if not names:
            return {}
        raws = await self.redis.mget([keys.queue(n, self.node) for n in names])
        return {
            n: QueueState.from_dict(json.loads(r))
            for n, r in zip(names, raws, strict=True)
            if r is not None
        }
