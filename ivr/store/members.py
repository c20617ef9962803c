"""Queue members added through the API, remembered in Redis so that they come back
after Asterisk restarts (app_queue forgets dynamic members; the sandbox and many
sites run ``persistentmembers = no``).

One hash, ``ivr:members``: field ``<queue> <interface>``, value the JSON of the
member (``queue``, ``interface``, ``penalty``, ``name``). ``PUT`` remembers a member
before its ``QueueAdd`` and ``DELETE`` forgets it before its ``QueueRemove``; each
returns what was there so that the handler can put it back when Asterisk refuses
(nothing half-done). :class:`ivr.lineup.members.MemberKeeper` re-adds them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from ivr.store import keys

__all__ = ["AddedMember", "MemberStore"]


@dataclass(frozen=True)
class AddedMember:
    queue: str
    interface: str
    penalty: int = 0
    name: str = ""

    @property
    def field(self) -> str:
        return _field(self.queue, self.interface)


def _field(queue: str, interface: str) -> str:
    return f"{queue} {interface}"  # a queue name has no space


def _text(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _member(raw: object) -> AddedMember | None:
    try:
        d = json.loads(_text(raw))
        return AddedMember(str(d["queue"]), str(d["interface"]), int(d["penalty"]), str(d["name"]))
    except (ValueError, KeyError, TypeError):
        return None


class MemberStore:
    """Redis repository of the members the API added (raises RedisError/OSError)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def remember(self, member: AddedMember) -> AddedMember | None:
        """Remember ``member``; the entry it replaced, if any."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(keys.MEMBERS, member.field)
            pipe.hset(keys.MEMBERS, member.field, json.dumps(asdict(member)))
            before, _ = await pipe.execute()
        return _member(before) if before is not None else None

    async def forget(self, queue: str, interface: str) -> AddedMember | None:
        """Forget the member; the entry it had, if any."""
        field = _field(queue, interface)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(keys.MEMBERS, field)
            pipe.hdel(keys.MEMBERS, field)
            before, _ = await pipe.execute()
        return _member(before) if before is not None else None

    async def restore(self, before: AddedMember | None, queue: str, interface: str) -> None:
        """Put back what :meth:`remember` or :meth:`forget` returned (undo)."""
        if before is None:
            await self.redis.hdel(keys.MEMBERS, _field(queue, interface))
        else:
            await self.redis.hset(keys.MEMBERS, before.field, json.dumps(asdict(before)))

    async def all(self) -> list[AddedMember]:
        """Every member remembered, by queue then interface."""
        raw = await self.redis.hgetall(keys.MEMBERS)
        found = [m for m in (_member(v) for v in raw.values()) if m is not None]
        return sorted(found, key=lambda m: (m.queue, m.interface))
