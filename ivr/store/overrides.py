"""Supervisors' overrides in Redis: they survive a restart and every instance sees them.

* ``ivr:override:hotline:<id>``: a hash with ``mode`` (``closed`` or ``open``;
  absent for ``none``), ``mode_by``/``mode_at``, and ``emergency`` (a prompt id)
  with ``emergency_by``/``emergency_at``;
* ``ivr:override:queues``: a hash queue -> mode (absent for ``none``).

A call reads its hotline's overrides and every queue's mode in one round trip
(:meth:`OverrideStore.for_call`), and most of the time only learns that they are what
the server last read: a script (:data:`FOR_CALL`) digests both hashes in Redis and
answers ``0`` when the digest is the one the server holds, else the digest and both
hashes. So every change, through the API of any instance or straight into Redis
(a key deleted, Redis restarted empty), applies to the very next call, and an
unchanged state costs a call a few bytes instead of parsing both hashes again.

Each change reads the old value and writes the new one in one ``MULTI``, so it can
say whether anything changed (a change is published only then).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from redis.asyncio import Redis

from ivr.menus.overrides import CallOverrides, HotlineOverride, OverrideMode, parse_mode
from ivr.store import keys

__all__ = ["FOR_CALL", "OverrideStore"]

# KEYS[1] the hotline's hash, KEYS[2] the queues' hash; ARGV[1] the digest the server
# holds ("" for none). Each string is written with its length, so that two different
# contents never read as the same text.
FOR_CALL = """
local h = redis.call('HGETALL', KEYS[1])
local q = redis.call('HGETALL', KEYS[2])
local parts = {}
for _, s in ipairs(h) do parts[#parts + 1] = #s .. ':' .. s end
parts[#parts + 1] = '|'
for _, s in ipairs(q) do parts[#parts + 1] = #s .. ':' .. s end
local digest = redis.sha1hex(table.concat(parts, ','))
if digest == ARGV[1] then return 0 end
return {digest, h, q}
"""


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _float(v: str | None) -> float:
    try:
        return float(v) if v else 0.0
    except ValueError:
        return 0.0


def _hotline(raw: Mapping[Any, Any]) -> HotlineOverride:
    f = {_s(k): _s(v) for k, v in (raw or {}).items()}
    return HotlineOverride(
        mode=parse_mode(f.get("mode")) or "none",
        emergency=f.get("emergency") or None,
        set_by=f.get("emergency_by", ""),
        set_at=_float(f.get("emergency_at")),
        mode_by=f.get("mode_by", ""),
        mode_at=_float(f.get("mode_at")),
    )


def _pairs(flat: list[Any]) -> dict[Any, Any]:
    """``[k1, v1, k2, v2, …]`` (a script's ``HGETALL``) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _queues(raw: Mapping[Any, Any]) -> dict[str, OverrideMode]:
    out: dict[str, OverrideMode] = {}
    for k, v in (raw or {}).items():
        mode = parse_mode(_s(v))
        if mode is not None and mode != "none":
            out[_s(k)] = mode
    return out


class OverrideStore:
    """Redis repository of the overrides (see the module docstring for the keys)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._for_call = redis.register_script(FOR_CALL)
        self._known: dict[str, tuple[str, CallOverrides]] = {}  # hotline: digest, overrides

    # -- reads ----------------------------------------------------------------------
    async def for_call(self, hotline: str) -> CallOverrides:
        """What a call to ``hotline`` must apply, in one round trip (Redis is asked
        every time: the overrides known are reused only when it says they hold)."""
        known = self._known.get(hotline)
        got = await self._for_call(
            keys=[keys.hotline_override(hotline), keys.QUEUE_OVERRIDES],
            args=[known[0] if known is not None else ""],
            client=self.redis,
        )
        if known is not None and got == 0:
            return known[1]
        digest, h, q = got
        found = CallOverrides(_hotline(_pairs(h)), _queues(_pairs(q)))
        self._known[hotline] = (_s(digest), found)
        return found

    async def hotlines(self, ids: Iterable[str]) -> dict[str, HotlineOverride]:
        wanted = list(ids)
        if not wanted:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for hid in wanted:
                pipe.hgetall(keys.hotline_override(hid))
            got = await pipe.execute()
        return {hid: _hotline(raw) for hid, raw in zip(wanted, got, strict=True)}

    async def hotline(self, hotline: str) -> HotlineOverride:
        return (await self.hotlines([hotline]))[hotline]

    async def queue_modes(self) -> dict[str, OverrideMode]:
        """Every queue with an override (``none`` is left out)."""
        return _queues(await self.redis.hgetall(keys.QUEUE_OVERRIDES))

    async def closed_queues(self, hotline_queues: Mapping[str, Iterable[str]]) -> set[str]:
        """The queues a supervisor closed: closed themselves, or every hotline that
        hands calls to them is closed (``hotline_queues``: each hotline's queues).
        Callbacks are not dialled into them until they reopen."""
        feeders: dict[str, list[str]] = {}
        for hid, queues in hotline_queues.items():
            for q in queues:
                feeders.setdefault(q, []).append(hid)
        found = await self.hotlines(hotline_queues)
        closed = {q for q, m in (await self.queue_modes()).items() if m == "closed"}
        closed |= {q for q, hs in feeders.items() if all(found[h].mode == "closed" for h in hs)}
        return closed

    # -- writes ---------------------------------------------------------------------
    async def set_mode(self, hotline: str, mode: OverrideMode, by: str, at: float) -> bool:
        """The hotline's override mode; whether it changed."""
        key = keys.hotline_override(hotline)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(key, "mode")
            if mode == "none":
                pipe.hdel(key, "mode", "mode_by", "mode_at")
            else:
                pipe.hset(key, mapping={"mode": mode, "mode_by": by, "mode_at": repr(at)})
            old, _ = await pipe.execute()
        return (parse_mode(_s(old)) if old is not None else "none") != mode

    async def set_emergency(self, hotline: str, prompt: str | None, by: str, at: float) -> bool:
        """The hotline's emergency announcement (None clears it); whether it changed."""
        key = keys.hotline_override(hotline)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(key, "emergency")
            if prompt is None:
                pipe.hdel(key, "emergency", "emergency_by", "emergency_at")
            else:
                pipe.hset(
                    key,
                    mapping={"emergency": prompt, "emergency_by": by, "emergency_at": repr(at)},
                )
            old, _ = await pipe.execute()
        return (_s(old) if old is not None else None) != prompt

    async def set_queue_mode(self, queue: str, mode: OverrideMode) -> bool:
        """The queue's override mode; whether it changed."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(keys.QUEUE_OVERRIDES, queue)
            if mode == "none":
                pipe.hdel(keys.QUEUE_OVERRIDES, queue)
            else:
                pipe.hset(keys.QUEUE_OVERRIDES, queue, mode)
            old, _ = await pipe.execute()
        return (parse_mode(_s(old)) if old is not None else "none") != mode
