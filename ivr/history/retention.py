"""Retention of phone numbers in history (PDPA): a number is kept for
``[history] keep_numbers_days`` after its call (or callback request), then replaced by
a keyed hash, HMAC-SHA256 with ``[history] number_key``: the same citizen still
counts as one repeat caller in the figures, and nobody without the key can go back
from the hash to the number. Without a key the number is removed.

``ivr history purge`` and a daily task of ``ivr serve`` run :func:`purge`; which rows
it touches (:data:`SELECT_OLD`) and what it writes (:func:`number_hash`) are pure.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["PURGED", "cutoff", "number_hash", "purge"]

#: table -> (its key, the time a number's age counts from)
PURGED: dict[str, tuple[str, str]] = {
    "calls": ("uniqueid", "coalesce(arrived_at, ended_at, updated_at)"),
    "callbacks": ("id", "coalesce(requested_at, updated_at)"),
}
BATCH = 1000


def cutoff(now: float, keep_days: float) -> datetime:
    """Numbers of rows older than this are hashed."""
    return datetime.fromtimestamp(now, UTC) - timedelta(days=keep_days)


def number_hash(key: str, number: str) -> str | None:
    """The keyed hash that replaces ``number`` (None: removed, when there is no key)."""
    if not key:
        return None
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def select_old(table: str) -> str:
    """The rows of ``table`` whose number is older than ``$1``, ``$2`` at a time."""
    key, since = PURGED[table]
    return (
        f"SELECT {key} AS key, number FROM {table} WHERE number IS NOT NULL "
        f"AND {since} < $1 ORDER BY {key} LIMIT $2"
    )


def replace_sql(table: str) -> str:
    key, _ = PURGED[table]
    return f"UPDATE {table} SET number = NULL, number_hash = $2 WHERE {key} = $1"


async def purge(conn: Any, key: str, keep_days: float, now: float) -> dict[str, int]:
    """Replace every number older than ``keep_days`` on ``conn`` (asyncpg); the count
    replaced per table."""
    before = cutoff(now, keep_days)
    counts: dict[str, int] = {}
    for table in PURGED:
        counts[table] = 0
        while True:
            rows = await conn.fetch(select_old(table), before, BATCH)
            if not rows:
                break
            async with conn.transaction():
                await conn.executemany(
                    replace_sql(table), [(r["key"], number_hash(key, r["number"])) for r in rows]
                )
            counts[table] += len(rows)
    return counts
