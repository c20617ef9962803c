"""What the ``queue-wait`` route keeps in Redis about a waiting caller.

* the caller's original arrival (and topic), written on the first round and read
  by every instance's live queue model, so time spent listening never costs a
  place (``ivr:arrival:<uniqueid>``);
* :class:`Memory`: what the caller was last told and how many callback offers
  were made (``ivr:announced:<uniqueid>``).

Both expire after a day. Redis being away never costs the caller anything: a
write is skipped and a read gives an empty memory (see :class:`WaitingStore`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.queues.announce import LastAnnouncement
from ivr.store import keys

__all__ = ["ANNOUNCED_TTL_S", "Arrival", "Memory", "WaitingStore"]

ANNOUNCED_TTL_S = 24 * 3600


@dataclass
class Memory:
    """What this caller was last told, how many offers were made, and what the
    rules of :mod:`ivr.queues.no_agent` did (kept in Redis)."""

    last: LastAnnouncement | None = None
    offers: int = 0
    acted: list[str] = field(default_factory=list)  # "<queue>:<rule>" that acted
    entered: dict[str, float] = field(default_factory=dict)  # queue -> when entered
    left: list[str] = field(default_factory=list)  # queues left by an overflow

    def acted_in(self, queue: str) -> set[str]:
        """The rules that acted for this caller in ``queue``."""
        return {a.partition(":")[2] for a in self.acted if a.partition(":")[0] == queue}

    def to_json(self) -> str:
        d = asdict(self)
        d["last"] = self.last.to_dict() if self.last else None
        return json.dumps(d)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Memory:
        d: dict[str, Any] = json.loads(raw)
        last = d.get("last")
        return cls(
            LastAnnouncement.from_dict(last) if last else None,
            int(d.get("offers", 0)),
            [str(a) for a in d.get("acted", [])],
            {str(k): float(v) for k, v in d.get("entered", {}).items()},
            [str(q) for q in d.get("left", [])],
        )


@dataclass(frozen=True)
class Arrival:
    """A waiting caller's original arrival, as the route recorded it."""

    arrived_at: float | None
    topic: str | None


class WaitingStore:
    """Redis repository of waiting callers' arrivals and announcement memories."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def remember_arrival(self, uid: str, queue: str, arrived: float, topic: str) -> None:
        """Best effort: Redis away, the caller still waits (placed by this spell's join)."""
        value = json.dumps({"arrived_at": arrived, "queue": queue, "topic": topic})
        with contextlib.suppress(RedisError, OSError):
            await self.redis.set(keys.arrival(uid), value, ex=ANNOUNCED_TTL_S)

    async def arrivals(self, uids: Sequence[str]) -> list[Arrival | None]:
        """The recorded arrival of each of ``uids`` (None: none recorded).

        Raises :class:`RedisError` or :class:`OSError` when Redis is away.
        """
        if not uids:
            return []
        raws = await self.redis.mget([keys.arrival(uid) for uid in uids])
        out: list[Arrival | None] = []
        for raw in raws:
            if raw is None:
                out.append(None)
                continue
            info = json.loads(raw)
            at = info.get("arrived_at")
            out.append(Arrival(None if at is None else float(at), info.get("topic")))
        return out

    async def memory(self, uid: str) -> Memory:
        try:
            raw = await self.redis.get(keys.announced(uid))
        except (RedisError, OSError):
            return Memory()
        return Memory() if raw is None else Memory.from_json(raw)

    async def save_memory(self, uid: str, memory: Memory) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.redis.set(keys.announced(uid), memory.to_json(), ex=ANNOUNCED_TTL_S)
