"""The history schema under migration control: numbered SQL files applied in order.

``ivr/history/migrations/NNN_<name>.sql`` are applied at start, each in its own
transaction with its row in ``schema_migrations``, never twice. An advisory lock
keeps two instances starting together from applying the same file at once: the
second waits, then finds it applied. :func:`migrations` (pure: names to an ordered
list, gaps and duplicates refused) is what the tests check without a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LOCK_ID", "MIGRATIONS_DIR", "Migration", "apply", "migrations", "pending"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
LOCK_ID = 0x1F0_4157  # pg_advisory_lock key of the history migrations
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, order=True)
class Migration:
    version: int
    name: str
    sql: str = ""


def migrations(files: Iterable[tuple[str, str]]) -> list[Migration]:
    """(file name, SQL) pairs as migrations in order; ValueError naming the fix for a
    badly named file, two files with one number, or a number missing."""
    found: dict[int, Migration] = {}
    for filename, sql in files:
        m = _NAME.match(filename)
        if m is None:
            raise ValueError(f"{filename}: name migrations NNN_name.sql (e.g. 002_probes.sql)")
        version = int(m[1])
        if version in found:
            raise ValueError(
                f"{filename}: number {version:03d} is taken by {found[version].name} — renumber it"
            )
        found[version] = Migration(version, filename, sql)
    ordered = sorted(found.values())
    for expected, mig in enumerate(ordered, 1):
        if mig.version != expected:
            raise ValueError(f"{mig.name}: migration {expected:03d} is missing before it")
    return ordered


def shipped(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations shipped with the server, in order."""
    return migrations((p.name, p.read_text(encoding="utf-8")) for p in directory.glob("*.sql"))


def pending(all_: Iterable[Migration], applied: Iterable[int]) -> list[Migration]:
    """The migrations not applied yet, in order."""
    done = set(applied)
    return [m for m in sorted(all_) if m.version not in done]


async def apply(conn: Any, all_: list[Migration] | None = None) -> list[str]:
    """Apply what is pending on ``conn`` (an asyncpg connection) under the advisory
    lock; the names applied now (none when another instance did it first)."""
    todo = shipped() if all_ is None else all_
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_ID)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
        done: list[str] = []
        for mig in pending(todo, applied):
            async with conn.transaction():
                await conn.execute(mig.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    mig.version,
                    mig.name,
                )
            done.append(mig.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_ID)
