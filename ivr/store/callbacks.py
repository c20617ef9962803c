"""Callback requests in Redis, safe with several server instances.

Each request is a hash (its scalar fields) plus a list of JSON history entries.
Indexes: the live (PENDING or DIALING) ids of a queue scored by original arrival
(the virtual place in line), the DIALING ids scored by the end of their claim,
the live request of each number, and every id by request time for listing.

Every change of status is one Lua script, so two instances never both dial the
same citizen, a number is never booked twice, and a request is in Redis before
:meth:`CallbackStore.create` returns. A finished request (connected, failed,
cancelled) expires after ``retention_s``.

With Sentinel, a :class:`~ivr.store.replication.Replication` makes the changes a citizen
would feel lost (booked, claimed, accepted, finished) wait for a replica, and runs again
those none confirmed (:meth:`CallbackStore.settle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.log import fields as log_fields
from ivr.log import store_log
from ivr.phones import national_number
from ivr.privacy import mask_phone
from ivr.store import keys
from ivr.store.callback_scripts import (
    ACCEPT,
    CANCEL_PENDING,
    CLAIM,
    CREATE,
    FINISH,
    MOVE_PENDING,
    PRELUDE,
    RECLAIM,
    RELEASE,
    RETRY_FAILED,
    Transition,
)
from ivr.store.replication import Kind, Replication, Script

RETENTION_S = 7 * 24 * 3600
LIVE = (CallbackStatus.PENDING, CallbackStatus.DIALING)

_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_FLOATS = frozenset(f.name for f in fields(CallbackRequest) if f.type == "float")
_INTS = frozenset({"attempts"})
_FIELDS = tuple(f.name for f in fields(CallbackRequest) if f.name != "history")


@dataclass(frozen=True)
class CreateResult:
    request: CallbackRequest  # the new request, or the live one already booked for the number
    created: bool

    @property
    def already_booked(self) -> bool:
        return not self.created


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _num(x: float) -> str:
    """A float as Redis and JSON both read it back exactly."""
    return repr(float(x))


def _encode(req: CallbackRequest) -> list[str]:
    out: list[str] = []
    for name in _FIELDS:
        v = getattr(req, name)
        out += [name, _num(v) if name in _FLOATS else str(v)]
    return out


def _decode(raw: dict[Any, Any], history: Iterable[bytes | str]) -> CallbackRequest:
    d: dict[str, Any] = {}
    for k, v in raw.items():
        name, value = _s(k), _s(v)
        if name not in _FIELDS:
            continue
        d[name] = float(value) if name in _FLOATS else int(value) if name in _INTS else value
    d["history"] = [json.loads(_s(h)) for h in history]
    return CallbackRequest.from_dict(d)


class CallbackStore:
    """Redis repository of callback requests (see the module docstring for the keys)."""

    def __init__(
        self,
        redis: Redis,
        retention_s: int = RETENTION_S,
        on_change: Callable[[CallbackRequest], Awaitable[None]] | None = None,
        replication: Replication | None = None,
    ) -> None:
        self.redis = redis
        self.retention_s = retention_s
        self.on_change = on_change
        self.replication = replication
        self._create = self._confirmed(CREATE, "create")
        self._claim = self._confirmed(CLAIM, "claim")
        self._accept = self._confirmed(ACCEPT, "accept")
        self._release = redis.register_script(RELEASE)
        self._finish = self._confirmed(FINISH, "finish")
        self._reclaim = redis.register_script(RECLAIM)
        self._cancel_pending = redis.register_script(PRELUDE + CANCEL_PENDING)
        self._retry_failed = redis.register_script(PRELUDE + RETRY_FAILED)
        self._move_pending = redis.register_script(PRELUDE + MOVE_PENDING)

    def _confirmed(self, script: str, kind: Kind) -> Script:
        """The script; with Sentinel, waiting for a replica to confirm its change."""
        registered = self.redis.register_script(script)
        if self.replication is None:
            return registered
        return self.replication.confirmed_script(registered, kind)

    # -- writes ----------------------------------------------------------------------
    async def create(self, req: CallbackRequest) -> CreateResult:
        """Store a new PENDING request, unless the number already has a live one
        (PENDING or DIALING): then nothing is written and that one is returned."""
        number = national_number(req.number)
        rid = req.id or secrets.token_hex(8)
        if not _ID_RE.match(rid):
            raise ValueError(f"callback id {rid!r}: use letters, digits, '_', '.' or '-'")
        now = time.time()
        new = replace(
            req,
            id=rid,
            number=number,
            status=CallbackStatus.PENDING,
            dialing_until=0.0,
            dialing_by="",
            history=[*req.history, {"at": now, "event": "requested", "status": "pending"}],
        )
        history = [json.dumps(h, ensure_ascii=False) for h in new.history]
        res = await self._create(
            keys=[
                keys.callback(rid),
                keys.callback_history(rid),
                keys.callback_by_number(number),
                keys.callbacks_pending(new.queue),
                keys.CALLBACKS_BY_TIME,
                keys.callbacks_by_queue_time(new.queue),
            ],
            args=[
                rid,
                _num(new.arrived_at),
                _num(new.requested_at),
                keys.callback(""),
                str(len(history)),
                *history,
                *_encode(new),
            ],
        )
        # (a second run of the same booking, retried after a lost reply, finds it: ours)
        created, got_id = bool(int(res[0])) or _s(res[1]) == rid, _s(res[1])
        if created:
            await self._trim_index(now, new.queue)
            store_log.info(
                "callback requested",
                extra=log_fields(callback=rid, queue=new.queue, number=mask_phone(number)),
            )
            await self._changed(rid)
            return CreateResult(new, True)
        existing = await self.get(got_id)
        if existing is None:  # finished and expired between the two reads: very unlikely
            raise RuntimeError(f"callback {got_id} vanished while booking {mask_phone(number)}")
        return CreateResult(existing, False)

    async def claim(
        self, request_id: str, instance: str, until: float, *, now: float | None = None
    ) -> CallbackRequest | None:
        """PENDING with ``next_attempt_at`` passed -> DIALING by ``instance`` until
        ``until``, one more attempt. None when it is not claimable (another instance
        holds it, it is not due, it is finished or unknown)."""
        ok = await self._run(self._claim, request_id, now, [instance, _num(until)])
        return await self._changed(request_id) if ok else None

    async def accept(
        self, request_id: str, instance: str, until: float, *, attempt: int | None = None,
        now: float | None = None,
    ) -> CallbackRequest | None:  # fmt: skip
        """The citizen pressed 1 on ``attempt`` (None: any): never dialled again, the claim
        ends by ``until`` (then CONNECTED if no report came: :meth:`reclaim_expired`).
        Not streamed (still dialling). None when finished, unknown or another attempt."""
        args = [instance, _num(until), "" if attempt is None else str(attempt)]
        ok = await self._run(self._accept, request_id, now, args)
        return await self.get(request_id) if ok else None

    async def release(
        self,
        request_id: str,
        instance: str,
        result: str,
        retry_at: float | None,
        max_attempts: int,
        *,
        now: float | None = None,
    ) -> CallbackRequest | None:
        """The attempt by ``instance`` ended without connecting (``result``: no-answer,
        busy, no-confirm, ...): back to PENDING not before ``retry_at``, or FAILED when
        ``retry_at`` is None or ``max_attempts`` are used. None if ``instance`` does
        not hold the claim (it expired and was reclaimed, or was cancelled)."""
        retry = "" if retry_at is None else _num(retry_at)
        args = [instance, result, retry, str(max_attempts)]
        status = await self._run(self._release, request_id, now, args)
        return await self._changed(request_id) if status else None

    async def mark_connected(
        self, request_id: str, result: str = "answered", *, by: str = ""
    ) -> CallbackRequest | None:
        """The citizen confirmed and joined the queue: CONNECTED (from PENDING too, in
        case the claim expired while the call went on). None if already finished."""
        args = [CallbackStatus.CONNECTED.value, result, "connected", by]
        ok = await self._run(self._finish, request_id, None, args)
        return await self._changed(request_id) if ok else None

    async def cancel(self, request_id: str, *, by: str = "") -> CallbackRequest | None:
        """A supervisor cancels a live request. None if unknown or already finished."""
        args = [CallbackStatus.CANCELLED.value, "", "cancelled", by]
        ok = await self._run(self._finish, request_id, None, args)
        return await self._changed(request_id) if ok else None

    async def cancel_pending(self, request_id: str, *, by: str = "") -> Transition | None:
        """PENDING -> CANCELLED (never one being dialled); None if unknown."""
        return await self._transition(self._cancel_pending, request_id, [by])

    async def retry_failed(self, request_id: str, *, by: str = "") -> Transition | None:
        """FAILED -> PENDING due now at its original place: one more attempt. None if unknown."""
        return await self._transition(self._retry_failed, request_id, [by, keys.callback("")])

    async def move_pending(self, request_id: str, at: float, *, by: str = "") -> Transition | None:
        """A PENDING request's next attempt not before ``at`` (its place in line stays);
        never one being dialled or finished. None if unknown."""
        return await self._transition(self._move_pending, request_id, [by, _num(at)])

    async def settle(self) -> int:
        """Run again the changes no replica confirmed (with Sentinel); how many a
        replica confirmed now. Redis errors are left to the next call."""
        if self.replication is None or not self.replication.pending:
            return 0
        by = "unconfirmed-booking"  # the caller was told it was not booked
        return await self.replication.settle(lambda rid: self.cancel_pending(rid, by=by))

    async def settle_forever(self, every_s: float = 1.0) -> None:
        """:meth:`settle` every ``every_s`` for the server's life (with Sentinel; else
        nothing): changes made by any route are settled, not only the dispatcher's."""
        while self.replication is not None:
            await asyncio.sleep(every_s)
            with contextlib.suppress(RedisError, OSError):  # Redis away: the next round
                await self.settle()

    async def _transition(self, script: Script, rid: str, args: list[str]) -> Transition | None:
        res = await self._run(script, rid, None, args)
        if res is None:
            return None
        done = Transition.of(res, None).done  # told to the live stream only when done
        return Transition.of(res, await (self._changed(rid) if done else self.get(rid)))

    async def reclaim_expired(self, now: float | None = None) -> list[str]:
        """DIALING requests whose claim expired (the instance died mid-call) go back to
        PENDING ("interrupted", the attempt counted); CONNECTED if the citizen pressed 1."""
        t = time.time() if now is None else now
        await self.settle()  # a claim a fail-over lost is claimed again first
        raw = await self.redis.zrangebyscore(keys.CALLBACKS_DIALING, "-inf", t)
        back: list[str] = []
        connected: list[str] = []
        for rid in (_s(x) for x in raw):
            res = await self._run(self._reclaim, rid, t, [], missing_ok=True)
            if res:
                (connected if _s(res) == "connected" else back).append(rid)
                await self._changed(rid)
        if back or connected:  # connected: its instance stopped during "connecting you"
            store_log.warning(
                "callback claims expired: back to pending, or connected if the citizen pressed 1",
                extra=log_fields(ids=back, connected=connected),
            )
        return back + connected

    # -- reads ----------------------------------------------------------------------
    async def get(self, request_id: str) -> CallbackRequest | None:
        found = await self._get_many([request_id])
        return found[0]

    async def pending(self, queue: str) -> list[CallbackRequest]:
        """Live requests of ``queue`` (PENDING and DIALING) by original arrival."""
        ids = [_s(x) for x in await self.redis.zrange(keys.callbacks_pending(queue), 0, -1)]
        return [r for r in await self._get_many(ids) if r is not None and r.status in LIVE]

    async def counts(self, queues: Iterable[str]) -> dict[tuple[str, str], int]:
        """Live requests by (queue, status): ``pending`` and ``dialing`` (``/metrics``)."""
        names = sorted(set(queues))
        async with self.redis.pipeline(transaction=False) as pipe:
            for q in names:
                pipe.zcard(keys.callbacks_pending(q))
            pipe.zrange(keys.CALLBACKS_DIALING, 0, -1)
            *live, dialing_ids = await pipe.execute()
        async with self.redis.pipeline(transaction=False) as pipe:
            for rid in dialing_ids:
                pipe.hget(keys.callback(_s(rid)), "queue")
            dialing_queues = await pipe.execute()
        dialing: dict[str, int] = {}
        for queue in (_s(q) for q in dialing_queues if q is not None):
            dialing[queue] = dialing.get(queue, 0) + 1
        out: dict[tuple[str, str], int] = {}
        for q, n in zip(names, live, strict=True):
            out[(q, "dialing")] = dialing.pop(q, 0)
            out[(q, "pending")] = max(int(n) - out[(q, "dialing")], 0)
        out.update({(q, "dialing"): n for q, n in dialing.items()})
        return out

    async def list_recent(self, queue: str | None = None, limit: int = 50) -> list[CallbackRequest]:
        """Most recently requested first, every status (finished ones for ``retention_s``)."""
        if limit <= 0:
            return []
        index = keys.CALLBACKS_BY_TIME if queue is None else keys.callbacks_by_queue_time(queue)
        ids = [_s(x) for x in await self.redis.zrevrange(index, 0, limit - 1)]
        found = await self._get_many(ids)
        gone = [i for i, r in zip(ids, found, strict=True) if r is None]
        if gone:
            await self.redis.zrem(index, *gone)
        return [r for r in found if r is not None]

    # -- helpers --------------------------------------------------------------------
    async def _changed(self, request_id: str) -> CallbackRequest | None:
        """The request after a transition, told to ``on_change`` (the live stream) by
        the one instance whose script made it; a failure there never fails the change."""
        req = await self.get(request_id)
        if req is not None and self.on_change is not None:
            try:
                await self.on_change(req)
            except Exception as e:
                store_log.warning("callback change not published", extra=log_fields(error=str(e)))
        return req

    async def _get_many(self, ids: Sequence[str]) -> list[CallbackRequest | None]:
        if not ids:
            return []
        async with self.redis.pipeline(transaction=True) as pipe:
            for rid in ids:
                pipe.hgetall(keys.callback(rid))
                pipe.lrange(keys.callback_history(rid), 0, -1)
            res = await pipe.execute()
        return [
            _decode(res[2 * i], res[2 * i + 1]) if res[2 * i] else None for i in range(len(ids))
        ]

    async def _run(
        self,
        script: Script,
        request_id: str,
        now: float | None,
        args: list[str],
        *,
        missing_ok: bool = False,
    ) -> Any:
        """Run a transition script with the request's keys (queue and number never change)."""
        queue, number = await self.redis.hmget(keys.callback(request_id), ["queue", "number"])
        if queue is None or number is None:
            if missing_ok:
                await self.redis.zrem(keys.CALLBACKS_DIALING, request_id)
            return None
        t = time.time() if now is None else now
        return await script(
            keys=[
                keys.callback(request_id),
                keys.callback_history(request_id),
                keys.CALLBACKS_DIALING,
                keys.callbacks_pending(_s(queue)),
                keys.callback_by_number(_s(number)),
            ],
            args=[request_id, _num(t), str(self.retention_s), *args],
        )

    async def _trim_index(self, now: float, queue: str) -> None:
        """Listing indexes forget ids requested longer ago than the retention."""
        cutoff = now - self.retention_s
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(keys.CALLBACKS_BY_TIME, "-inf", cutoff)
            pipe.zremrangebyscore(keys.callbacks_by_queue_time(queue), "-inf", cutoff)
            await pipe.execute()
