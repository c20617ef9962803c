"""What Redis's asynchronous replication could lose, guarded for callbacks.

A primary acknowledges a write before any replica has it. If the primary dies in
that moment and Sentinel promotes the replica, the write is gone although the
server was told it was done. For most of what the server keeps that costs little
(a trace, a figure, an event of the live stream, a lease renewed on the next
tick). For callbacks it is what a citizen feels: a booking they heard confirmed
that nobody calls back, a claim lost so that the request is dialled a second
time, a "connected" or a supervisor's cancel lost so that the citizen is dialled again.

So, with Sentinel (:mod:`ivr.store.sentinel`), :class:`Replication` wraps the
scripts of these changes (create, claim, accept, finish) of
:class:`ivr.store.callbacks.CallbackStore`: the script and ``WAIT 1 <ms>`` go in
one pipeline (``WAIT`` counts the writes of its own connection), so the caller
hears "booked" only after a replica has the booking, the ``Originate`` goes out
only after a replica has the claim, the citizen who pressed 1 hears "connecting
you" only after a replica has that they accepted (never dialled again), and joins
the queue only after a replica has "connected". A change no replica confirmed in
time (the replica is away or lagging) is kept and run again, exactly as it was (each script is
idempotent: a second run finds its work done), until one does
(:meth:`Replication.settle`): if a fail-over lost it, it is written again on the
new primary. A booking whose reply was lost with its connection (the caller was
told "not booked") is cancelled the same way, if it turns out to be stored, and an
"accepted" or a "connected" whose reply was lost is written again.
While the last wait met no replica (the new primary alone after a fail-over),
changes wait only :data:`SHORT_WAIT_MS`, not to slow calls while no replica exists.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from ivr.log import fields, store_log
from ivr.store.sentinel import PrimaryWatch

__all__ = ["SHORT_WAIT_MS", "WAIT_MS", "Change", "Kind", "Replication", "Script"]

#: How long a change waits for a replica (milliseconds) while replicas keep up.
WAIT_MS = 500
#: How long while the last wait met none (the primary alone): a short look only.
SHORT_WAIT_MS = 20
#: Unconfirmed changes are run again for this long (seconds), at most this many.
KEEP_S = 900.0
KEEP_MAX = 10_000

Kind = Literal["create", "claim", "accept", "finish", "undo-create"]


class Script(Protocol):
    """A registered Lua script (redis-py's ``AsyncScript``), or one wrapped here."""

    async def __call__(
        self, keys: Sequence[Any] | None = None, args: Iterable[Any] | None = None
    ) -> Any: ...


@dataclass(frozen=True)
class Change:
    """A callback change no replica has confirmed yet: its script and arguments."""

    kind: Kind
    script: AsyncScript
    keys: tuple[Any, ...]
    args: tuple[Any, ...]  # args[0] is the request's id for every callback script
    at: float  # time.monotonic() when it was made

    @property
    def request_id(self) -> str:
        return str(self.args[0])


def _did(kind: Kind, result: Any) -> bool:
    """Whether the script changed something (only then is there anything to confirm)."""
    if kind == "create":
        return bool(result) and int(result[0]) == 1
    return bool(result) and result != 0


class Replication:
    """Replicas asked to confirm callback changes; the unconfirmed ones kept to be
    run again (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        primary: PrimaryWatch | None = None,
        replicas: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.primary = primary  # the primary the client follows (its switches)
        self.replicas = replicas
        self.clock = clock
        self.pending: deque[Change] = deque(maxlen=KEEP_MAX)
        self.healthy = True  # the last wait met enough replicas
        self.confirmed = 0  # changes a replica confirmed at once
        self.unconfirmed = 0  # changes kept to be run again
        self.reapplied = 0  # kept changes run again and confirmed by a replica

    @property
    def wait_ms(self) -> int:
        return WAIT_MS if self.healthy else SHORT_WAIT_MS

    def confirmed_script(self, script: AsyncScript, kind: Kind) -> Script:
        """``script`` run with ``WAIT`` after it (see the module docstring)."""

        async def run(keys: Sequence[Any] | None = None, args: Iterable[Any] | None = None) -> Any:
            k, a = tuple(keys or ()), tuple(args or ())
            try:
                result, acked = await self._with_wait(script, k, a)
            except (RedisError, OSError):
                if kind == "create":  # the caller hears "not booked": make sure it is not
                    self._keep(Change("undo-create", script, k, a, self.clock()))
                elif kind in ("accept", "finish"):  # the citizen pressed 1, was connected
                    self._keep(Change(kind, script, k, a, self.clock()))  # (or cancelled)
                raise
            if _did(kind, result):
                self.healthy = acked >= self.replicas
                if self.healthy:
                    self.confirmed += 1
                else:
                    self._keep(Change(kind, script, k, a, self.clock()))
            return result

        return run

    async def settle(self, cancel_pending: Callable[[str], Awaitable[object]]) -> int:
        """Run again each kept change (oldest first) until a replica confirms it;
        ``cancel_pending`` undoes a booking the caller was told failed. Returns how
        many are settled now; stops at the first Redis error (still away)."""
        settled = 0
        for change in self._due():
            try:
                if change.kind == "undo-create":
                    await cancel_pending(change.request_id)
                    ok, outcome = True, "booking the caller was told failed: cancelled if stored"
                elif change.kind == "claim" and float(change.args[4]) < time.time():
                    ok, outcome = True, "claim expired by now: no longer applied"
                else:
                    _result, acked = await self._with_wait(change.script, change.keys, change.args)
                    ok, outcome = acked >= self.replicas, "confirmed by a replica"
            except (RedisError, OSError):
                break
            if ok:
                self.pending.remove(change)
                self.reapplied += outcome == "confirmed by a replica"
                settled += 1
                store_log.info(
                    f"callback change settled: {outcome}",
                    extra=fields(callback=change.request_id, change=change.kind),
                )
        return settled

    async def _with_wait(
        self, script: AsyncScript, keys: tuple[Any, ...], args: tuple[Any, ...]
    ) -> tuple[Any, int]:
        async with self.redis.pipeline(transaction=False) as pipe:
            await script(keys=keys, args=args, client=pipe)
            pipe.execute_command("WAIT", self.replicas, self.wait_ms)
            result, acked = await pipe.execute()
        return result, int(acked)

    def _keep(self, change: Change) -> None:
        self.unconfirmed += 1
        self.pending.append(change)
        store_log.warning(
            "callback change not confirmed by a replica: run again until it is",
            extra=fields(callback=change.request_id, change=change.kind, kept=len(self.pending)),
        )

    def _due(self) -> list[Change]:
        """The kept changes, oldest first; those kept too long are dropped."""
        cutoff = self.clock() - KEEP_S
        while self.pending and self.pending[0].at < cutoff:
            old = self.pending.popleft()
            store_log.error(
                "callback change never confirmed by a replica: no longer run again",
                extra=fields(callback=old.request_id, change=old.kind),
            )
        return list(self.pending)
