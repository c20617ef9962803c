"""Reading a Bangkok day or month of history from PostgreSQL (asyncpg): one query
per table over ``[start, end)``, each on its time index (``calls_arrived_at``,
``callbacks_requested_at``, ``probes_at``, ``staffing_at``), rows straight into
:mod:`ivr.reports.rows` dataclasses. Nothing is computed here.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ivr.reports.rows import CallbackRow, CallRow, History, ProbeRow, StaffingRow

__all__ = ["CALLS_SQL", "fetch_history"]

CALLS_SQL = (
    "SELECT uniqueid, hotline, arrived_at, queue, outcome, wait_s, talk_s, probe, rule, "
    "self_service, {menu_events} FROM calls "
    "WHERE arrived_at >= $1 AND arrived_at < $2 AND NOT probe"
)
CALLBACKS_SQL = (
    "SELECT id, queue, hotline, requested_at, status, connected_at FROM callbacks "
    "WHERE requested_at >= $1 AND requested_at < $2"
)
PROBES_SQL = "SELECT id, hotline, at, ok, answer_s FROM probes WHERE at >= $1 AND at < $2"
STAFFING_SQL = "SELECT queue, at, staffed FROM staffing WHERE at >= $1 AND at < $2"


async def fetch_history(conn: Any, start: datetime, end: datetime, *, day: bool) -> History:
    """The rows of ``[start, end)``. A day (``day=True``) brings the menus' events,
    the probes and the staffing samples too; a month only calls and callbacks."""
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    calls_sql = CALLS_SQL.format(menu_events="menu_events" if day else "NULL")
    calls = tuple(CallRow(*r) for r in await conn.fetch(calls_sql, start, end))
    callbacks = tuple(CallbackRow(*r) for r in await conn.fetch(CALLBACKS_SQL, start, end))
    if not day:
        return History(calls, callbacks)
    probes = tuple(ProbeRow(*r) for r in await conn.fetch(PROBES_SQL, start, end))
    staffing = tuple(StaffingRow(*r) for r in await conn.fetch(STAFFING_SQL, start, end))
    return History(calls, callbacks, probes, staffing)
