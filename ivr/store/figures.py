"""Today's figures per queue in Redis: counters that survive restarts, counted once.

Each queue has one hash per Bangkok day, ``ivr:figures:<day>:<queue>``, whose
fields are the counters of :mod:`ivr.queues.figures`, raised with ``HINCRBY`` and
kept for ``ttl_s`` (40 days by default). The counters live here, never in
Asterisk: they survive a restart of the server and a restart of Asterisk (which
resets app_queue's own statistics), and every instance reads the same figures.

Counted once: every instance consumes the AMI of the node, so each sees the same
event; the waiting loop also makes a caller join the queue again at each turn.
Each increment therefore carries a deterministic event id (the caller's uniqueid,
the event and the queue), and one Lua script sets ``ivr:figures:seen:<id>`` with
``NX`` and raises the counters only when it was not set yet. Being one script,
the check and the increments are atomic: two instances racing on the same event
cannot both count it, and a failure leaves neither half done. The seen keys
expire after ``seen_ttl_s`` (two days: longer than any call).
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

from ivr.queues.figures import Figures, Increment
from ivr.store import keys

__all__ = ["FigureStore"]

# KEYS: seen key, counters hash; ARGV: seen ttl, hash ttl, then name, amount pairs
_RECORD = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
for i = 3, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""


class FigureStore:
    """Redis repository of the daily counters of each queue."""

    def __init__(
        self, redis: Redis, *, ttl_s: int = 40 * 24 * 3600, seen_ttl_s: int = 2 * 24 * 3600
    ) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self.seen_ttl_s = seen_ttl_s
        self._record = redis.register_script(_RECORD)

    async def record(self, inc: Increment) -> bool:
        """Add ``inc`` to its counters unless its event was counted already; whether it
        was added now (raises RedisError/OSError on failure)."""
        args: list[str | int] = [self.seen_ttl_s, self.ttl_s]
        for name, amount in sorted(inc.counts.items()):
            args += [name, int(amount)]
        done = await self._record(
            keys=[keys.figures_seen(inc.event_id), keys.figures(inc.day, inc.queue)], args=args
        )
        return bool(done)

    async def day(self, day: str, queues: Iterable[str]) -> dict[str, Figures]:
        """The counters of each of ``queues`` on ``day`` (all 0 for a queue without any)."""
        names = list(queues)
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(keys.figures(day, name))
            raws = await pipe.execute()
        out: dict[str, Figures] = {}
        for name, raw in zip(names, raws, strict=True):
            counts = {
                (k.decode() if isinstance(k, bytes) else str(k)): (
                    v.decode() if isinstance(v, bytes) else str(v)
                )
                for k, v in (raw or {}).items()
            }
            out[name] = Figures.from_counts(counts)
        return out
