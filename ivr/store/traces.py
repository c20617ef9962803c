"""Call traces in Redis: one JSON value per call plus a time index for listing."""

from __future__ import annotations

import json
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..log import fields, store_log
from ..trace import CallTrace
from . import keys


class TraceStore:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def save(self, trace: CallTrace) -> bool:
        """Keep the trace for ``ttl_s``; on a Redis failure log it and return False
        (the call itself is never disturbed, and the log line still holds the trace)."""
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(keys.trace(trace.uniqueid), trace.to_json(), ex=self.ttl_s)
                pipe.zadd(keys.TRACES_BY_TIME, {trace.uniqueid: trace.started_at})
                pipe.zremrangebyscore(keys.TRACES_BY_TIME, "-inf", time.time() - self.ttl_s)
                await pipe.execute()
        except (RedisError, OSError) as e:
            store_log.error(
                "trace not saved",
                extra=fields(call=trace.uniqueid, error=str(e) or type(e).__name__),
            )
            return False
        return True

    async def get(self, uniqueid: str) -> CallTrace | None:
        raw = await self.redis.get(keys.trace(uniqueid))
        if raw is None:
            return None
        return CallTrace.from_dict(json.loads(raw))

    async def recent(self, limit: int = 50) -> list[CallTrace]:
        ids = await self.redis.zrevrange(keys.TRACES_BY_TIME, 0, max(0, limit - 1))
        if not ids:
            return []
        names = [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
        raws = await self.redis.mget([keys.trace(n) for n in names])
        return [CallTrace.from_dict(json.loads(r)) for r in raws if r is not None]
