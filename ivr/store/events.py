"""Live changes shared by every instance: a Redis Stream (``ivr:events``).

Each entry is one change (``kind``, ``queue`` and a JSON ``data`` field); its
stream id (``<ms>-<seq>``) is the event id a stream client sees, so any instance
can serve any client from the same history. ``XADD`` trims the stream to about
``maxlen`` entries (``MAXLEN ~``, cheap): a client that reconnects with an id
older than the oldest entry kept gets a fresh snapshot instead.

Publishing each change once (two instances usually see the same AMI events):

* queue changes are published only by the instance holding the ``queue-events``
  lease (:class:`ivr.store.lease.LeaderLease`, driven by
  :class:`ivr.lineup.live.LiveQueues`). A deterministic id was not chosen:
  instances stamp the same AMI event with their own clocks and batch it into
  different flushes, so their diffs are not byte-identical and could not be
  matched reliably; the lease is simple and already proven for callbacks. The
  price is that changes seen during a lease hand-over (up to its TTL) may be
  missed; a client's next snapshot (reconnect) shows the truth;
* callback changes are published by the instance whose atomic Lua transition
  succeeded (:class:`ivr.store.callbacks.CallbackStore`), which is one instance
  by construction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from ivr.store import keys

__all__ = ["EVENTS_MAXLEN", "EventStore", "RawEvent", "StoredEvent", "id_key", "valid_id"]

EVENTS_MAXLEN = 10_000
_ID_RE = re.compile(r"^\d{1,20}-\d{1,20}$")


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def valid_id(event_id: str) -> bool:
    """Whether ``event_id`` has the shape of a stream id (``<ms>-<seq>``)."""
    return bool(_ID_RE.match(event_id))


def id_key(event_id: str) -> tuple[int, int]:
    """A stream id as a pair that sorts like Redis sorts ids."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class StoredEvent:
    id: str
    kind: str
    queue: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "queue": self.queue, "data": self.data}


def _decode(entry_id: Any, raw: Any) -> StoredEvent:
    f = {_s(k): _s(v) for k, v in (raw or {}).items()}
    return StoredEvent(_s(entry_id), f.get("kind", ""), f.get("queue", ""), json.loads(f["data"]))


@dataclass(frozen=True)
class RawEvent:
    """One entry as Redis sent it: its id, and its fields to decode."""

    id: str
    fields: Any

    def decode(self) -> StoredEvent:
        return _decode(self.id, self.fields)


class EventStore:
    """Redis repository of live changes (see the module docstring)."""

    def __init__(self, redis: Redis, maxlen: int = EVENTS_MAXLEN) -> None:
        self.redis = redis
        self.maxlen = maxlen

    async def publish(self, events: Sequence[Mapping[str, Any]]) -> list[str]:
        """Append ``events`` (each with ``kind``, ``queue``, ``data``) in one round trip;
        their stream ids. Raises RedisError/OSError on failure."""
        if not events:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for ev in events:
                fields = {
                    "kind": str(ev["kind"]),
                    "queue": str(ev.get("queue", "")),
                    "data": json.dumps(ev.get("data", {}), ensure_ascii=False),
                }
                pipe.xadd(keys.EVENTS, fields, maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
            ids = await pipe.execute()
        return [_s(i) for i in ids]

    async def last_id(self) -> str:
        """The newest entry's id, or ``0-0`` for an empty stream."""
        got = await self.redis.xrevrange(keys.EVENTS, count=1)
        return _s(got[0][0]) if got else "0-0"

    async def first_id(self) -> str | None:
        """The oldest entry kept, or None for an empty stream."""
        got = await self.redis.xrange(keys.EVENTS, count=1)
        return _s(got[0][0]) if got else None

    async def can_resume(self, after: str) -> bool:
        """Whether every entry newer than ``after`` is still kept (none was trimmed)."""
        if not valid_id(after):
            return False
        first = await self.first_id()
        if first is None:  # nothing kept (a new or flushed Redis): history unknown
            return False
        return id_key(first) <= id_key(after) <= id_key(await self.last_id())

    async def since(self, after: str, count: int = 1000) -> list[StoredEvent]:
        """Entries newer than ``after`` (at most ``count``), oldest first."""
        got: Any = await self.redis.xrange(keys.EVENTS, min=f"({after}", count=count)
        return [_decode(i, raw) for i, raw in got]

    async def wait(self, after: str, block_ms: int = 1000, count: int = 500) -> list[StoredEvent]:
        """Entries newer than ``after``, waiting up to ``block_ms`` for the first (XREAD BLOCK)."""
        return [entry.decode() for entry in await self.wait_raw(after, block_ms, count)]

    async def wait_raw(self, after: str, block_ms: int = 1000, count: int = 500) -> list[RawEvent]:
        """As :meth:`wait`, each entry left as Redis sent it until it is decoded (a
        reader with nobody to hand it to needs only its id)."""
        got: Any = await self.redis.xread({keys.EVENTS: after}, count=count, block=block_ms)
        return [RawEvent(_s(i), raw) for _, entries in got or [] for i, raw in entries]
