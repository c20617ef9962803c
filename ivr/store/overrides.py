"""Supervisors' overrides in Redis: they survive a restart and every instance sees them.

* ``ivr:override:hotline:<id>``: a hash with ``mode`` (``closed`` or ``open``;
  absent for ``none``), ``mode_by``/``mode_at``, and ``emergency`` (a prompt id)
  with ``emergency_by``/``emergency_at``;
* ``ivr:override:queues``: a hash queue -> mode (absent for ``none``).

A call reads its hotline's overrides and every queue's mode in one round trip
(:meth:`OverrideStore.for_call`). Each change reads the old value and writes the
new one in one ``MULTI``, so it can say whether anything changed (a change is
published on the stream only then).

Each change also announces itself on the channel ``ivr:override:changed`` in the
same ``MULTI``. While :meth:`OverrideStore.watch_forever` listens to it, what a call
read is kept and the next calls use it without asking Redis; every announcement
(from this instance or another) and every change made here forget it at once, so a
change applies to the very next call: here, as soon as the change is written;
on another instance, as soon as the announcement reaches it (the time of one
message, about a millisecond). Whenever the listening stops or restarts (Redis away,
its connection lost, no answer to a ping within :data:`WATCH_PING_S`), what was kept
is forgotten and each call reads Redis again, as without the watch; with Redis away
the call then goes on with the hotline file alone, as always. A change written
straight into Redis (not through this store) is announced by nothing: change the
overrides through the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from ivr.log import fields, store_log
from ivr.menus.overrides import CallOverrides, HotlineOverride, OverrideMode, parse_mode
from ivr.store import keys

__all__ = ["WATCH_PING_S", "OverrideStore"]

#: Seconds of silence on the channel before a ping; as long again without an answer
#: and the connection counts as lost (what was kept is forgotten).
WATCH_PING_S = 5.0
#: Seconds between two tries to listen again after a failure.
WATCH_RETRY_S = 1.0


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
        self.watching = False  # listening to the changes: what calls read may be kept
        self._known: dict[str, CallOverrides] = {}  # hotline -> overrides, while watching
        self._generation = 0  # counts the times _known was forgotten
        self._lost = False  # the watch failed and has not listened again since

    # -- reads ----------------------------------------------------------------------
    async def for_call(self, hotline: str) -> CallOverrides:
        """What a call to ``hotline`` must apply: kept from an earlier call while
        nothing changed, else read in one round trip (see the module docstring)."""
        if self.watching:
            known = self._known.get(hotline)
            if known is not None:
                return known
        watching, generation = self.watching, self._generation
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.hotline_override(hotline))
            pipe.hgetall(keys.QUEUE_OVERRIDES)
            h, q = await pipe.execute()
        found = CallOverrides(_hotline(h), _queues(q))
        # kept only if listening all along: a change announced meanwhile may be missing
        if watching and self.watching and generation == self._generation:
            self._known[hotline] = found
        return found

    def forget(self) -> None:
        """Forget what calls read: the next ones read Redis."""
        self._known.clear()
        self._generation += 1

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
            pipe.publish(keys.OVERRIDES_CHANGED, hotline)
            old, *_ = await pipe.execute()
        self.forget()
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
            pipe.publish(keys.OVERRIDES_CHANGED, hotline)
            old, *_ = await pipe.execute()
        self.forget()
        return (_s(old) if old is not None else None) != prompt

    async def set_queue_mode(self, queue: str, mode: OverrideMode) -> bool:
        """The queue's override mode; whether it changed."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(keys.QUEUE_OVERRIDES, queue)
            if mode == "none":
                pipe.hdel(keys.QUEUE_OVERRIDES, queue)
            else:
                pipe.hset(keys.QUEUE_OVERRIDES, queue, mode)
            pipe.publish(keys.OVERRIDES_CHANGED, queue)
            old, *_ = await pipe.execute()
        self.forget()
        return (parse_mode(_s(old)) if old is not None else "none") != mode

    # -- the watch --------------------------------------------------------------------
    async def watch_forever(self) -> None:
        """Listen to the changes for the server's life (a background task), listening
        again after each failure; calls read Redis while it does not listen."""
        while True:
            try:
                await self._watch()
            except (RedisError, OSError) as e:
                if not self._lost:
                    store_log.warning(
                        "overrides: changes not heard (Redis away?): each call reads them"
                        " from Redis until they are",
                        extra=fields(channel=keys.OVERRIDES_CHANGED, error=str(e)),
                    )
                self._lost = True
            await asyncio.sleep(WATCH_RETRY_S)

    async def _watch(self) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(keys.OVERRIDES_CHANGED)
            pinged = False
            while True:
                message = await pubsub.get_message(timeout=WATCH_PING_S)
                if message is None:
                    if pinged:
                        raise RedisConnectionError(f"no answer to a ping in {WATCH_PING_S:g} s")
                    await pubsub.ping()
                    pinged = True
                    continue
                pinged = False
                if message["type"] == "subscribe":  # (again, after a reconnection)
                    self.forget()
                    self.watching = True
                    if self._lost:
                        store_log.info("overrides: changes heard again")
                        self._lost = False
                elif message["type"] == "message":
                    self.forget()
        finally:
            self.watching = False
            self.forget()
            await pubsub.aclose()  # type: ignore[no-untyped-call]
