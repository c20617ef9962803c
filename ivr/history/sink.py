"""Writing history beside the calls, never in their way.

:meth:`HistorySink.record` only appends to memory and returns. A background task
(:meth:`HistorySink.run`) moves records into the Redis list ``ivr:history:outbox``
(bounded: past ``[history] outbox_max`` the oldest are dropped and counted in
``ivr:history:dropped``), applies the migrations once PostgreSQL answers, and
drains the outbox in batches, each batch in one transaction of idempotent upserts
(:mod:`ivr.history.rows`), removing its records from the outbox only after the
commit. With PostgreSQL away the records wait in Redis, counted in ``/healthz``,
and are written when it is back; with Redis away they wait in memory (bounded too).
One instance drains at a time (a lease), so records are written in the order sent.
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.history import schema
from ivr.history.rows import Row, rows_of, upsert_sql
from ivr.log import fields, store_log
from ivr.store.lease import LeaderLease

__all__ = ["DROPPED", "OUTBOX", "HistorySink"]

OUTBOX = "ivr:history:outbox"
DROPPED = "ivr:history:dropped"
_AWAY_STATES = ("08", "53", "57")  # connection, resources, operator intervention (shutdown)

# RPUSH the records, keep the newest ARGV[1], count what was dropped
_PUSH = """
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
local over = n - tonumber(ARGV[1])
if over > 0 then
  redis.call('LTRIM', KEYS[1], over, -1)
  redis.call('INCRBY', KEYS[2], over)
end
return n
"""
# remove the records written (each once, from the head where they are)
_DONE = """
for i = 1, #ARGV do redis.call('LREM', KEYS[1], 1, ARGV[i]) end
return 1
"""


def _refused(e: BaseException) -> bool:
    """PostgreSQL (or asyncpg, before sending it) refuses a record: PostgreSQL is not away."""
    if isinstance(e, ValueError | TypeError):  # asyncpg's own DataError is a ValueError
        return True
    state = str(getattr(e, "sqlstate", "") or "")
    return isinstance(e, asyncpg.PostgresError) and state[:2] not in _AWAY_STATES


class HistorySink:
    def __init__(
        self,
        redis: Redis,
        dsn: str,
        lease: LeaderLease,
        outbox_max: int = 100_000,
        batch: int = 200,
        connect: Callable[[str], Awaitable[Any]] | None = None,
    ) -> None:
        self.redis = redis
        self.dsn = dsn
        self.lease = lease
        self.outbox_max = max(1, outbox_max)
        self.batch = batch
        self._connect = connect or (lambda dsn: asyncpg.connect(dsn, timeout=5))
        self._memory: collections.deque[str] = collections.deque()
        self._wake = asyncio.Event()
        self._conn: Any = None
        self._push = redis.register_script(_PUSH)
        self._done = redis.register_script(_DONE)
        self.dropped_in_memory = 0
        self.written = 0
        self.refused = 0
        self.database = False
        self._warned = False
        self._last_batch = 0  # records the last drain read from the outbox

    # -- the calls' side: never waits, never raises ---------------------------------
    def record(self, kind: str, key: str, data: dict[str, Any]) -> None:
        """Keep ``(kind, key, data)`` for the database (a later one with the same kind
        and key updates the same row)."""
        try:
            body = json.dumps({"kind": kind, "key": key, "data": data}, default=str)
        except (TypeError, ValueError) as e:
            store_log.warning("history record refused", extra=fields(kind=kind, error=str(e)))
            return
        if len(self._memory) >= self.outbox_max:
            self._memory.popleft()
            self.dropped_in_memory += 1
        self._memory.append(body)
        self._wake.set()

    # -- the background side ---------------------------------------------------------
    async def run(self) -> None:
        """Move records to the outbox and from it to PostgreSQL, for the server's life."""
        backoff = 0.2
        while True:
            try:
                await self._flush_memory()
                if self._conn is None:
                    await self._open()
                # a batch not full emptied the outbox: wait for the next record (or a
                # second, for those of other instances) rather than read it again at once
                busy = await self.drain_once() and self._last_batch >= self.batch
                backoff = 0.2
            except Exception as e:  # Redis or PostgreSQL away, or a bug: never stop writing
                if not isinstance(e, RedisError | OSError | asyncpg.PostgresError) and not (
                    isinstance(e, asyncpg.InterfaceError)
                ):
                    store_log.exception("history writer failed: trying again")
                await self._lost(e)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not busy:
                self._wake.clear()
                if not self._memory:
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                    except TimeoutError:
                        pass

    async def _open(self) -> None:
        try:
            conn = await self._connect(self.dsn)
        except Exception as e:
            if not self._warned:  # once per outage, not at every try
                self._warned = True
                store_log.warning(
                    "history database not reachable: records wait", extra=fields(error=str(e))
                )
            raise
        try:
            applied = await schema.apply(conn)
        except BaseException:
            await conn.close()
            raise
        if applied:
            store_log.info("history schema migrated", extra=fields(applied=applied))
        self._conn = conn
        self.database = True
        self._warned = False
        store_log.info("history database connected")

    async def _lost(self, e: BaseException) -> None:
        if self.database:
            self._warned = True
            store_log.warning("history database away: records wait", extra=fields(error=str(e)))
        self.database = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), timeout=2)
            except Exception:
                conn.terminate()

    async def _flush_memory(self) -> None:
        while self._memory:
            chunk = [self._memory[i] for i in range(min(len(self._memory), 500))]
            await self._push(keys=[OUTBOX, DROPPED], args=[self.outbox_max, *chunk])
            for _ in chunk:
                self._memory.popleft()

    async def drain_once(self) -> bool:
        """Write one batch from the outbox; whether there was anything to write."""
        if not await self.lease.acquire():
            return False
        raw: list[bytes | str] = await self.redis.lrange(OUTBOX, 0, self.batch - 1)
        self._last_batch = len(raw)
        if not raw:
            return False
        records = [r for r in (self._parse(item) for item in raw) if r is not None]
        try:
            async with self._conn.transaction():
                for rows in records:
                    await self._write(rows)
        except Exception as e:
            if not _refused(e):
                raise
            await self._one_by_one(records)  # one record refused: write the others alone
        await self._done(keys=[OUTBOX], args=raw)
        self.written += len(raw)
        return True

    def _parse(self, item: bytes | str) -> list[Row] | None:
        """The rows of one record from the outbox; None (counted) when it is refused."""
        try:
            rec = json.loads(item)
            return rows_of(rec["kind"], rec["key"], rec["data"])
        except (ValueError, KeyError, TypeError) as e:
            self.refused += 1
            store_log.warning("history record refused", extra=fields(error=str(e)))
            return None

    async def _write(self, rows: list[Row]) -> None:
        for row in rows:
            await self._conn.execute(
                upsert_sql(row.table, row.columns), *(row.values[c] for c in row.columns)
            )

    async def _one_by_one(self, records: list[list[Row]]) -> None:
        for rows in records:
            try:
                async with self._conn.transaction():
                    await self._write(rows)
            except Exception as e:
                if not _refused(e):
                    raise
                self.refused += 1
                store_log.warning("history record refused", extra=fields(error=str(e)))

    # -- what /healthz shows -----------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        waiting: int | None = None
        dropped = self.dropped_in_memory
        try:
            waiting = int(await self.redis.llen(OUTBOX))
            dropped += int(await self.redis.get(DROPPED) or 0)
        except (RedisError, OSError):
            pass
        return {
            "enabled": True,
            "database": self.database,
            "waiting": None if waiting is None else waiting + len(self._memory),
            "waiting_in_memory": len(self._memory),
            "dropped": dropped,
            "written": self.written,
            "refused": self.refused,
        }

    async def close(self) -> None:
        """Last move of memory into Redis, then the connection closed."""
        try:
            await self._flush_memory()
        except (RedisError, OSError) as e:
            store_log.warning(
                "history records lost at stop",
                extra=fields(count=len(self._memory), error=str(e)),
            )
        self.database = False  # stopping, not away: nothing to warn about
        await self._lost(ConnectionError("stopping"))
        await self.lease.release()
