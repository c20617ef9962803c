"""The last probe results of each hotline in Redis (``ivr:probes:<hotline>``, a
list of JSON, newest first, trimmed to ``keep``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from redis.asyncio import Redis

from ivr.store import keys

__all__ = ["ProbeStore"]


class ProbeStore:
    def __init__(self, redis: Redis, keep: int = 50) -> None:
        self.redis = redis
        self.keep = max(1, keep)

    async def add(self, result: Mapping[str, Any]) -> None:
        key = keys.probes(str(result["hotline"]))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps(dict(result), ensure_ascii=False))
            pipe.ltrim(key, 0, self.keep - 1)
            await pipe.execute()

    async def recent(self, hotline: str, limit: int = 10) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(keys.probes(hotline), 0, max(0, limit - 1))
        return [json.loads(r) for r in raw]

    async def recent_many(
        self, hotlines: Iterable[str], limit: int
    ) -> dict[str, list[dict[str, Any]]]:
        names = list(hotlines)
        async with self.redis.pipeline(transaction=False) as pipe:
            for h in names:
                pipe.lrange(keys.probes(h), 0, max(0, limit - 1))
            raws = await pipe.execute()
        return {h: [json.loads(r) for r in raw] for h, raw in zip(names, raws, strict=True)}
