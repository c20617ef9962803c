"""The reports against the sandbox's PostgreSQL: records written as the history
writes them (migration 002 included) read back into the daily and monthly figures."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from ivr.config import Settings
from ivr.history import schema
from ivr.history.rows import rows_of, rule_data, staffing_data, upsert_sql
from ivr.reports.build import ReportUnavailable, daily_report, monthly_report
from ivr.reports.dates import BANGKOK
from ivr.reports.rows import HotlineInfo
from tests.integration.test_history import fresh_database

pytestmark = pytest.mark.postgres

TEST_DB = "ivr_test_reports"
HOTLINES = {"1111": HotlineInfo("สายด่วนทดสอบ", ("complaint",))}


def _db(dsn: str, db: str) -> str:
    return urlunparse(urlparse(dsn)._replace(path=f"/{db}"))


def _at(hh: int, mm: int, day: int = 29) -> float:
    return dt.datetime(2026, 11, day, hh, mm, tzinfo=BANGKOK).timestamp()


RECORDS: list[tuple[str, str, dict[str, Any]]] = [
    ("call", "a", {"hotline": "1111", "arrived_at": _at(8, 5), "outcome": "queue",
                   "queue": "complaint", "menu_events": {"visits": {"main": 1},
                   "timeouts": {"main": 1}, "invalid": {}}, "self_service": False}),
    ("call", "a", {"queue": "complaint", "answered_at": _at(8, 6), "wait_s": 10.0,
                   "outcome": "answered"}),
    ("call", "a", {"queue": "complaint", "talk_s": 100.0, "outcome": "answered"}),
    ("call", "b", {"hotline": "1111", "arrived_at": _at(8, 10), "outcome": "queue",
                   "queue": "complaint"}),
    ("call", "b", rule_data("max-wait", "callback")),
    ("call", "b", rule_data("no-agent", "message")),  # the first rule stays
    ("call", "b", {"queue": "complaint", "wait_s": 50.0, "outcome": "abandoned"}),
    ("call", "c", {"hotline": "1111", "arrived_at": _at(23, 59), "outcome": "goodbye",
                   "self_service": True}),
    ("call", "d", {"hotline": "1111", "arrived_at": _at(0, 1, day=30), "outcome": "goodbye"}),
    ("call", "p", {"hotline": "1111", "arrived_at": _at(9, 0), "outcome": "queue",
                   "queue": "complaint", "probe": True}),
    ("callback", "cb1", {"queue": "complaint", "hotline": "1111", "requested_at": _at(8, 11),
                         "status": "connected", "connected_at": _at(8, 21)}),
    ("probe", "p1", {"hotline": "1111", "at": _at(9, 0), "ok": True, "answer_s": 1.5}),
    ("staffing", *staffing_data("complaint", _at(8, 0), {"staffed": 2, "available": 1,
                                                          "paused": 0})),
]  # fmt: skip


async def seeded_database(name: str) -> str:
    """A database ``name`` of the sandbox's PostgreSQL, made anew with the history's
    schema and :data:`RECORDS` written as the history writer writes them; its dsn."""
    dsn = await fresh_database(name)
    conn = await asyncpg.connect(dsn)
    try:
        await schema.apply(conn)
        for kind, key, data in RECORDS:
            for row in rows_of(kind, key, data):
                await conn.execute(
                    upsert_sql(row.table, row.columns), *(row.values[c] for c in row.columns)
                )
    finally:
        await conn.close()
    return dsn


@pytest.fixture
async def dsn() -> str:
    return await seeded_database(TEST_DB)


async def test_a_day_and_a_month_read_back_from_postgres(dsn: str) -> None:
    report = await daily_report(dsn, dt.date(2026, 11, 29), Settings(), HOTLINES)
    [h] = report["hotlines"]
    fig = h["totals"]
    # a answered in 10 s, b abandoned after 50 s; p a probe; d the next day
    assert (fig["offered"], fig["answered"], fig["abandoned"]) == (2, 1, 1)
    assert (fig["service_level"], fig["max_wait"], fig["no_agent"]) == (0.5, 1, 0)
    assert (fig["callbacks_connected"], fig["callback_time_s"]) == (1, 600.0)
    assert h["calls"]["arrived"] == 3 and h["calls"]["self_service"] == 1
    assert h["menus"] == [{"menu": "main", "visits": 1, "timeouts": 1, "wrong_keys": 0}]
    assert h["probes"]["median_answer_s"] == 1.5
    staffing = {r["start"]: r for r in report["staffing"]}
    assert staffing["08:00"]["staffed"] == 2.0 and staffing["08:00"]["arrivals"] == 2
    month = await monthly_report(dsn, 2026, 11, Settings(), HOTLINES)
    days = {d["date"]: d for d in month["hotlines"][0]["days"]}
    assert days["2026-11-29"]["offered"] == 2


async def test_no_database_names_the_fix() -> None:
    with pytest.raises(ReportUnavailable, match="dsn"):
        await daily_report("", dt.date(2026, 11, 29), Settings(), HOTLINES)
    with pytest.raises(ReportUnavailable, match="PostgreSQL"):
        await monthly_report("postgresql://ivr@127.0.0.1:9/ivr", 2026, 11, Settings(), HOTLINES)
