"""An answered call's end from its Hangup meets Asterisk's AgentComplete in one row on
the sandbox's PostgreSQL, in either order and written by several instances: Asterisk's
talk time stays whenever it came (ivr.history.answered, ivr.history.rows)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from ivr.ami.events import AgentComplete, AgentConnect
from ivr.history import schema
from ivr.history.rows import call_from_event, call_hung_up, rows_of, upsert_sql
from tests.integration.test_history import fresh_database

pytestmark = pytest.mark.postgres

TEST_DB = "ivr_test_history_hangup"


@pytest.fixture
async def db() -> AsyncIterator[Any]:
    conn = await asyncpg.connect(await fresh_database(TEST_DB))
    await schema.apply(conn)
    try:
        yield conn
    finally:
        await conn.close()


async def _write(db: Any, uid: str, data: dict[str, Any]) -> None:
    for row in rows_of("call", uid, data):
        await db.execute(upsert_sql(row.table, row.columns), *(row.values[c] for c in row.columns))


def _records(uid: str) -> dict[str, dict[str, Any]]:
    connect = AgentConnect(uniqueid=uid, queue="q", member_name="a1", hold_time=3)
    complete = AgentComplete(uniqueid=uid, queue="q", member_name="a1", talk_time=5)
    return {
        "connect": (call_from_event(connect, 1000.0) or ("", {}))[1],
        "complete": (call_from_event(complete, 1005.0) or ("", {}))[1],
        "hangup": call_hung_up(1000.0, 1005.7),
    }


@pytest.mark.parametrize(
    "order",
    [
        ("connect", "hangup"),
        ("connect", "complete", "hangup"),
        ("connect", "hangup", "complete"),
        ("connect", "hangup", "complete", "hangup", "complete", "connect"),  # 2 instances
        ("hangup", "complete", "connect"),
    ],
)
async def test_the_row_ends_with_asterisks_talk_time_when_there_is_one(
    db: Any, order: tuple[str, ...]
) -> None:
    records = _records("1.1")
    for name in order:
        await _write(db, "1.1", records[name])
    row = await db.fetchrow(
        "SELECT outcome, talk_s, extract(epoch FROM ended_at) AS ended, "
        "extract(epoch FROM answered_at) AS answered FROM calls WHERE uniqueid = '1.1'"
    )
    assert row["outcome"] == "answered"
    assert float(row["answered"]) == 1000.0
    if "complete" in order:
        assert (row["talk_s"], float(row["ended"])) == (5.0, 1005.0)
    else:
        assert (row["talk_s"], float(row["ended"])) == (5.7, 1005.7)
