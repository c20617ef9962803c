"""Call traces in Redis: one JSON value per call plus a time index for listing.

Traces are written in batches (:meth:`TraceStore.save_many`), each by one script
(:data:`WRITE`, atomic as a ``MULTI`` was: every value with its expiry, the index
entries in one ``ZADD``, the index's expired entries dropped): the server writes the
calls that ended while the previous write was on its way together
(``ivr.calls.base.TraceSaver``). One command instead of a ``MULTI`` of 2n + 3: the
client's work for a command, not Redis's, was most of a trace's cost. Each trace
comes with its JSON, made once for the log line and for Redis.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.log import fields, store_log
from ivr.store import keys
from ivr.trace import CallTrace, TraceStep

#: Traces kept in memory while Redis is away, at most (the oldest go first, counted).
BACKLOG_MAX = 10_000

#: A finished trace and its JSON (``CallTrace.to_json``).
TraceJson = tuple[CallTrace, str]

# KEYS[1] the time index, KEYS[1 + i] trace i's key; ARGV[1] the TTL, ARGV[2] the
# oldest start kept in the index, then for trace i: ARGV[3i] its uniqueid,
# ARGV[3i + 1] its start, ARGV[3i + 2] its JSON. ZADD by 1,000 (Lua's unpack limit).
WRITE = """
local n = #KEYS - 1
for i = 1, n do
  redis.call('SET', KEYS[i + 1], ARGV[3 * i + 2], 'EX', ARGV[1])
end
for first = 1, n, 1000 do
  local z = {}
  for i = first, math.min(n, first + 999) do
    z[#z + 1] = ARGV[3 * i + 1]
    z[#z + 1] = ARGV[3 * i]
  end
  redis.call('ZADD', KEYS[1], unpack(z))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
return n
"""


class TraceStore:
    def __init__(self, redis: Redis, ttl_s: int, backlog_max: int = BACKLOG_MAX) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._write_script = redis.register_script(WRITE)
        self._backlog: deque[TraceJson] = deque(maxlen=backlog_max)
        self.dropped = 0  # traces pushed out of a full backlog (still in the log)

    @property
    def pending(self) -> int:
        """Traces waiting in memory for Redis to come back."""
        return len(self._backlog)

    async def save(self, trace: CallTrace) -> bool:
        """Keep the trace for ``ttl_s`` (see :meth:`save_many`)."""
        return await self.save_many([(trace, trace.to_json())])

    async def save_many(self, traces: list[TraceJson]) -> bool:
        """Keep the traces for ``ttl_s``, in one round trip. If Redis fails, they wait
        in memory and are written with the next save or :meth:`flush_pending`; the
        calls themselves are never disturbed, and the log lines hold the traces anyway.
        Only the new traces are sent while Redis fails (not the whole backlog again on
        every save); the backlog follows the first save that succeeds."""
        try:
            await self._write(traces)
        except (RedisError, OSError) as e:
            for trace, text in traces:
                if len(self._backlog) == self._backlog.maxlen:
                    self.dropped += 1
                self._backlog.append((trace, text))
                store_log.error(
                    "trace not saved yet: kept in memory until Redis is back",
                    extra=fields(
                        call=trace.uniqueid, waiting=len(self._backlog),
                        error=str(e) or type(e).__name__,
                    ),
                )  # fmt: skip
            return False
        await self.flush_pending()
        return True

    async def flush_pending(self) -> int:
        """Write the traces kept while Redis was away; returns how many were written."""
        if not self._backlog:
            return 0
        waiting = list(self._backlog)
        try:
            await self._write(waiting)
        except (RedisError, OSError):
            return 0
        for _ in waiting:
            self._backlog.popleft()
        store_log.info("traces kept in memory saved", extra=fields(count=len(waiting)))
        return len(waiting)

    async def flush_forever(self, every_s: float = 2.0) -> None:
        """Write the traces kept in memory while Redis was away, once it is back
        (a background task for the server's life)."""
        while True:
            await asyncio.sleep(every_s)
            await self.flush_pending()

    async def _write(self, traces: list[TraceJson]) -> None:
        names = [keys.TRACES_BY_TIME]
        args: list[str | int | float] = [self.ttl_s, time.time() - self.ttl_s]
        for trace, text in traces:
            names.append(keys.trace(trace.uniqueid))
            args += (trace.uniqueid, trace.started_at, text)
        await self._write_script(keys=names, args=args, client=self.redis)

    async def add_step(self, uniqueid: str, kind: str, detail: str) -> bool:
        """Add a step to a call's saved trace (a later route of the same call, such
        as a rule acting while it waits); best effort: False when not added."""
        try:
            trace = await self.get(uniqueid)
            if trace is None:
                return False
            trace.steps.append(TraceStep(round(time.time() - trace.started_at, 3), kind, detail))
            await self._write([(trace, trace.to_json())])
        except (RedisError, OSError):
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
