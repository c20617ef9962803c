"""The proof of the daily report: a day of simulated callers on the real sandbox
(Asterisk, Redis, PostgreSQL), every kind of call the report counts placed by the
test (tests/integration/day_sim.py), and the report built from the history for
today (Bangkok) counting them call for call. The report is also written out
(HTML, PDF, CSV in ``var/reports/``, the PDF's first page in
``var/screenshots/report-day.png``) for a person to look at.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient, AmiError
from ivr.app import HotlineApp
from ivr.cli_report import write_report
from ivr.config import PROJECT_ROOT, Settings
from ivr.probes.settings import ProbeTarget
from ivr.reports.build import daily_report
from ivr.sandbox.pbx import Sandbox
from ivr.store.callbacks import CallbackStore
from tests.integration.conftest import SimCaller
from tests.integration.day_sim import (
    AGENTS,
    CALLBACK_AGENTS,
    LONG_ABANDON,
    QUEUES,
    SHORT_S,
    SL_S,
    Day,
    Placed,
    expected_hotline,
    pause,
)
from tests.integration.test_history import fresh_database
from tests.integration.test_menu_calls import QUICK, edit_hotline
from tests.until import until

pytestmark = [pytest.mark.sandbox, pytest.mark.postgres]

TEST_DB = "ivr_test_report_day"
TALK_S = 5.0  # [sim-agent] in deploy/sandbox/asterisk/extensions.conf (SIM_TALK unset)
BANGKOK = ZoneInfo("Asia/Bangkok")
AFTER_HOURS = (
    ('"0": {queue: operator',
     '"4": {queue: after-hours, topic: after-hours}\n      "0": {queue: operator'),
    ("  complaint: {topic: complaint, label: ร้องเรียน}\n",
     "  complaint: {topic: complaint, label: ร้องเรียน}\n"
     "  after-hours: {topic: after-hours, label: นอกเวลา}\n"),
)  # fmt: skip


@pytest.fixture
async def dsn() -> str:
    """A fresh, empty database of this test on the sandbox's PostgreSQL."""
    return await fresh_database(TEST_DB)


@pytest.fixture
def settings(settings: Settings, hotlines_dir: Path, dsn: str) -> Settings:
    edit_hotline(hotlines_dir, "1111", *QUICK, ("info: info-services-1111", "info: goodbye"),
                 *AFTER_HOURS)  # fmt: skip
    return replace(
        settings,
        redis_url=settings.redis_url.rsplit("/", 1)[0] + "/8",
        history_dsn=dsn,
        callback_dial_template="Local/{number}@sim-citizen",
        callback_ring_timeout_s=3,
        callback_max_attempts=1,
        callback_tick_s=0.3,
        callback_max_offers=0,  # only the rules offer a callback
        no_agent="wait",
        max_wait_s=0,
        paused_grace_s=0,
        queue_overrides={
            "complaint": {"service_level_s": SL_S, "short_abandon_s": SHORT_S},
            "operator": {"no_agent": "message"},
            "after-hours": {"no_agent": "callback"},
        },
    )


@pytest.fixture
async def quiet_lines(ami: AmiClient, redis: Redis) -> AsyncIterator[None]:
    """Nobody waiting in the three queues; every member there paused (the sandbox's
    SIP agents, any member an earlier test left); the simulated agents of
    complaint added paused; all put back after."""
    await redis.flushdb()
    members: dict[str, set[str]] = {}
    for queue in QUEUES:
        reply = await ami.action("QueueStatus", Queue=queue)
        entries = reply if isinstance(reply, list) else []
        for e in entries:
            if e.get("Event") == "QueueEntry":
                await ami.action("Hangup", Channel=e["Channel"])
        members[queue] = {
            e.get("Location", "") or e.get("Interface", "")
            for e in entries
            if e.get("Event") == "QueueMember" and e.get("Paused") != "1"
        } - {""}
        await pause(ami, queue, sorted(members[queue]), paused=True)
    for m in AGENTS:
        name = m.split("/")[1].split("@")[0]
        await ami.action("QueueAdd", Queue="complaint", Interface=m, MemberName=name, Paused="true")
    await ami.action("Setvar", Variable="IVR_QUEUE_INTERVAL", Value="30")
    try:
        yield
    finally:
        for queue, added in (("complaint", AGENTS), ("after-hours", CALLBACK_AGENTS)):
            for m in added:
                with contextlib.suppress(AmiError):  # (not added: the test failed before)
                    await ami.action("QueueRemove", Queue=queue, Interface=m)
        for queue in QUEUES:
            await pause(ami, queue, sorted(members[queue]), paused=False)
        await redis.flushdb()


@pytest.fixture
async def history_app(
    sandbox: Sandbox, settings: Settings, quiet_lines: None
) -> AsyncIterator[HotlineApp]:
    a = HotlineApp(settings)
    await a.start()
    try:
        yield a
    finally:
        await a.stop()


async def place_day(app: HotlineApp, ami: AmiClient, call: SimCaller, redis: Redis) -> Placed:
    store = CallbackStore(redis)

    async def pending() -> int:
        return len(await store.pending("after-hours"))

    async def probe() -> str:
        result = await app.probes.probe(ProbeTarget("1111", "1111", 0.0))
        assert result.ok, result
        return result.id

    return await Day(ami, call, pending, probe).run()


#: what the report counts of each kind of call, once it is in the call's row
COMPLETE: dict[str, Callable[[Any], bool]] = {
    "late": lambda r: r["outcome"] == "answered" and r["talk_s"] is not None,
    "on_time": lambda r: r["outcome"] == "answered" and r["talk_s"] is not None,
    "long_abandon": lambda r: r["outcome"] == "abandoned",
    "short_abandon": lambda r: r["outcome"] == "abandoned",
    "self_service": lambda r: r["self_service"] is True,
    "hangup_in_menu": lambda r: r["outcome"] == "hangup",
}


async def history_missing(db: Any, placed: Placed) -> list[str]:
    """What the history still lacks of what the report counts: each call's outcome
    (answered, abandoned, the rule that acted, self-service), the callbacks' final
    states, the probe's row, and each answered call's talk time (from AgentComplete
    or, when Asterisk sends none, from the caller's hang-up: ivr.history.answered)."""
    rows = {
        r["uniqueid"]: r
        for r in await db.fetch("SELECT * FROM calls WHERE uniqueid = ANY($1)", placed.all)
    }
    ruled: Callable[[Any], bool] = lambda r: r["rule"] is not None  # noqa: E731
    missing = [
        f"{kind} {u}"
        for kind, ids in placed.kinds.items()
        for u in ids
        if u not in rows or not COMPLETE.get(kind, ruled)(rows[u])
    ]
    final = await db.fetchval(
        "SELECT count(*) FROM callbacks WHERE status IN ('connected', 'failed')"
    )
    if final != 2:
        missing.append(f"callbacks: {final} of 2 final")
    if not await db.fetchval("SELECT count(*) FROM probes WHERE id = $1", placed.probe_id):
        missing.append("the probe's row")
    return missing


async def history_complete(db: Any, placed: Placed, app: HotlineApp, within: float = 30) -> None:
    async def complete() -> bool:
        return not await history_missing(db, placed)

    try:
        await until(complete, within, "every call's row complete")
    except AssertionError as e:
        missing = await history_missing(db, placed)
        ids = [m.split()[-1] for m in missing]
        found = await db.fetch("SELECT * FROM calls WHERE uniqueid = ANY($1)", ids)
        rows = [dict(r) for r in found]
        seen = [ev for ev in placed.events if ev[1] in ids]
        sink = await app.history.sink.status() if app.history else None
        raise AssertionError(
            f"{e}; missing {missing}; their queue events as the test saw them: {seen}; "
            f"their rows {rows}; the history writer {sink}"
        ) from e


def bangkok_today() -> datetime.date:
    return datetime.datetime.now(BANGKOK).date()


def write_out(report: dict[str, Any]) -> None:
    """The report for a person to open: JSON, HTML, PDF and CSV in var/reports/ (as
    ``ivr report`` writes them), the PDF's first page in var/screenshots/."""
    out = PROJECT_ROOT / "var" / "reports"
    stem = f"report-day-{report['date']}"
    written = write_report(report, out, stem, ["html", "pdf", "csv"])
    text = json.dumps(report, ensure_ascii=False, indent=1)
    (out / f"{stem}.json").write_text(text, encoding="utf-8")
    shots = PROJECT_ROOT / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: apt-get install poppler-utils (scripts/bootstrap.sh)"
    [pdf] = [p for p in written if p.suffix == ".pdf"]
    subprocess.run(
        [pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
         str(pdf), str(shots / "report-day")],
        check=True, timeout=60,
    )  # fmt: skip


COUNTED = ("offered", "answered", "answered_within_sl", "abandoned", "short_abandoned",
           "callbacks_requested", "callbacks_connected", "callbacks_failed",
           "no_agent", "max_wait")  # fmt: skip


def counted(fig: dict[str, Any]) -> dict[str, Any]:
    return {k: fig[k] for k in COUNTED}


def check_report(report: dict[str, Any], placed: Placed) -> None:
    """The report's figures are what the test placed, call for call."""
    want = expected_hotline(placed)
    lines = {h["hotline"]: h for h in report["hotlines"]}
    hotline = lines.pop("1111")
    for other in lines.values():  # the other hotline files: nothing placed there
        assert other["calls"]["arrived"] == 0 and other["totals"]["offered"] == 0
    queues = {q["queue"]: q for q in hotline["queues"]}
    assert sorted(queues) == sorted(QUEUES)
    for name, fig in want["queues"].items():
        assert counted(queues[name]["totals"]) == fig, name
        slots = queues[name]["half_hours"]
        assert sum(s["offered"] for s in slots) == fig["offered"], f"{name}: half hours"
    assert counted(hotline["totals"]) == want["totals"]
    # counted within complaint's own 6 s / 4 s, and the report says so
    assert queues["complaint"]["targets"]["service_level_s"] == SL_S
    assert queues["complaint"]["targets"]["short_abandon_s"] == SHORT_S
    complaint = queues["complaint"]["totals"]
    late, on_time = placed.count("late"), placed.count("on_time")
    assert complaint["service_level"] == round(on_time / (late + on_time + LONG_ABANDON), 4)
    assert complaint["longest_wait_s"] >= SL_S + 2
    # every answered call's talk time is known: the simulated agents talk TALK_S
    assert complaint["aht_s"] is not None and abs(complaint["aht_s"] - TALK_S) <= 1
    assert hotline["calls"] == {
        "arrived": want["arrived"], "self_service": want["self_service"],
        "queued": want["queued"], "transferred": 0, "closed": 0,
        "hangup_in_menu": placed.count("hangup_in_menu"), "error": 0,
    }  # fmt: skip
    menus = {m["menu"]: m for m in hotline["menus"]}
    assert menus["main"] == {"menu": "main", "visits": want["arrived"], **want["main"]}
    assert menus["track"] == {"menu": "track", "visits": 1, "timeouts": 0, "wrong_keys": 0}
    assert hotline["probes"]["count"] == 1 and hotline["probes"]["ok"] == 1


async def test_a_simulated_day_is_reported_call_for_call(
    history_app: HotlineApp, ami: AmiClient, call: SimCaller, redis: Redis, dsn: str
) -> None:
    day = bangkok_today()
    placed = await place_day(history_app, ami, call, redis)
    db = await asyncpg.connect(dsn)
    try:
        await history_complete(db, placed, history_app)
        answered = placed.kinds.get("late", []) + placed.kinds.get("on_time", [])
        talks = await db.fetch(
            "SELECT uniqueid, talk_s, ended_at FROM calls WHERE uniqueid = ANY($1)", answered
        )
        assert len(talks) == len(answered)
        for r in talks:  # Asterisk's whole seconds, or hang-up - answered
            assert r["ended_at"] is not None and abs(r["talk_s"] - TALK_S) <= 1, dict(r)
    finally:
        await db.close()
    assert bangkok_today() == day, "the day changed in Bangkok during the test: run it again"
    report = await daily_report(dsn, day, history_app.settings)
    write_out(report)
    check_report(report, placed)
