"""The retention job: ``ivr history purge`` once, and daily in ``ivr serve``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg

from ivr.history import retention, schema
from ivr.log import fields, store_log

__all__ = ["DAY_S", "purge_daily", "purge_now"]

DAY_S = 24 * 3600.0


async def purge_now(
    dsn: str, key: str, keep_days: float, now: float | None = None
) -> dict[str, int]:
    """Connect, migrate, and replace every number older than ``keep_days``."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await schema.apply(conn)
        return await retention.purge(conn, key, keep_days, time.time() if now is None else now)
    finally:
        await conn.close()


async def purge_daily(
    dsn: str, key: str, keep_days: float, every_s: float = DAY_S,
    clock: Callable[[], float] = time.time,
) -> None:  # fmt: skip
    """Run the purge at start and then every ``every_s``; a failure is logged and
    tried again at the next turn (two instances purging at once do no harm)."""
    while True:
        try:
            counts = await purge_now(dsn, key, keep_days, clock())
            if any(counts.values()):
                store_log.info("history numbers replaced by hashes", extra=fields(**counts))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            store_log.warning("history purge not run", extra=fields(error=str(e)))
        await asyncio.sleep(every_s)
