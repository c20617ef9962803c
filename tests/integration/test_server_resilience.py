"""The server against the real sandbox when things go wrong: the application
unreachable, reloads during calls, Asterisk restarting, Redis going away, junk on
the FastAGI port."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.sandbox.pbx import Sandbox
from ivr.store.client import redis_client
from ivr.store.traces import TraceStore
from tests.integration.conftest import SimCaller
from tests.integration.test_menu_calls import edit_hotline
from tests.until import until

pytestmark = pytest.mark.sandbox


async def test_no_dead_air_when_the_application_is_down(sandbox: Sandbox, call: SimCaller) -> None:
    # nothing listens on the FastAGI port: AGISTATUS is FAILURE, the dialplan
    # sends the caller straight to the hotline's default queue
    c = await call("1111", "")
    assert c.trace is None
    assert c.queue == "operator"


async def test_unknown_hotline_goes_to_the_default_queue(
    hotlines_dir: Path, settings: Settings, sandbox: Sandbox, call: SimCaller
) -> None:
    (hotlines_dir / "hotlines" / "1555.yaml").unlink()
    app = HotlineApp(settings)
    await app.start()
    try:
        c = await call("1555", "")
    finally:
        await app.stop()
    assert c.trace is None and c.queue == "operator"


async def test_reload_during_calls(
    hotlines_dir: Path, settings: Settings, sandbox: Sandbox, call: SimCaller
) -> None:
    app = HotlineApp(settings)
    await app.start()
    try:
        old_version = app.registry.get("1111").version  # type: ignore[union-attr]
        # caller A enters the track menu and takes its time there
        slow = asyncio.ensure_future(call("1111", "31", delay=4.0))
        # A's call is running its menu (the version is taken as the call starts)
        await until(lambda: app.agi.active_calls == 1, what="caller A in the menu")
        edit_hotline(
            hotlines_dir,
            "1111",
            ('"1": {queue: complaint, topic: track-complaint}',
             '"1": {queue: operator, topic: track-complaint}'),
        )  # fmt: skip
        os.kill(os.getpid(), signal.SIGHUP)  # what `ivr reload` sends
        await until(
            lambda: app.registry.get("1111").version != old_version,  # type: ignore[union-attr]
            what="the edited hotline file loaded",
        )
        new_version = app.registry.get("1111").version  # type: ignore[union-attr]
        assert app.agi.active_calls == 1, "caller A finished before the reload"
        b = await call("1111", "31")
        a = await slow
        # A finishes on the version it started with, B uses the new one
        assert a.trace is not None and a.trace.menu_version == old_version
        assert a.queue == "complaint"
        assert b.trace is not None and b.trace.menu_version == new_version
        assert b.queue == "operator"

        # an invalid file is never loaded: the version in force stays
        path = hotlines_dir / "hotlines" / "1111.yaml"
        path.write_text(path.read_text() + "\n  oops: [unclosed\n", encoding="utf-8")
        result = app.reload()
        assert result.kept == ["1111"] and result.problems
        assert "1111.yaml:" in str(result.problems[0])
        c = await call("1111", "31")
        assert c.trace is not None and c.trace.menu_version == new_version
    finally:
        await app.stop()


async def test_ami_reconnects_after_an_asterisk_restart(
    app: HotlineApp, sandbox: Sandbox, ami: AmiClient, call: SimCaller
) -> None:
    assert app.ami.connected
    logins = app.ami.logins
    await asyncio.to_thread(sandbox.stop_asterisk)
    await until(lambda: not app.ami.connected, what="the AMI connection seen lost")
    await asyncio.to_thread(sandbox.start_asterisk)
    await until(
        lambda: app.ami.connected and ami.connected and app.ami.logins > logins,
        within=60.0,
        what="both AMI clients logged in again",
    )
    assert app.ami.connected and app.ami.logins == logins + 1
    assert ami.connected
    c = await call("1111", "2")
    assert c.queue == "complaint"


async def _junk(port: int, kind: str) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    try:
        if kind == "garbage":
            writer.write(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        elif kind == "binary":
            writer.write(random.randbytes(512))
        elif kind == "partial":
            writer.write(b"agi_network: yes\nagi_network_script: hotl")
        elif kind == "silent":
            await reader.read(1)  # until the server gives up on us
        if kind != "silent":
            await writer.drain()
            await asyncio.wait_for(reader.read(100), 3)
    except (OSError, TimeoutError):
        pass
    finally:
        writer.close()


async def test_junk_connections_do_not_disturb_calls(
    settings: Settings, sandbox: Sandbox, call: SimCaller
) -> None:
    app = HotlineApp(replace(settings, agi_header_timeout=1.0))
    await app.start()
    try:
        kinds = ["empty", "garbage", "binary", "partial", "silent"]
        sem = asyncio.Semaphore(100)

        async def one(i: int) -> None:
            async with sem:
                await _junk(settings.agi_port, kinds[i % len(kinds)])

        flood = asyncio.gather(*(one(i) for i in range(1000)))
        calls = await asyncio.gather(call("1111", "2"), call("1111", "0"), call("1111", "31"))
        await flood
        assert [c.queue for c in calls] == ["complaint", "operator", "complaint"]
        assert all(c.trace is not None for c in calls)
        stats = app.agi.stats
        assert stats["bad_headers"] + stats["timeouts"] >= 1000
        # each call: the hotline menu, then the queue-wait route before joining the queue
        assert stats["calls_started"] == 2 * len(calls)
        assert stats["calls_failed"] == 0
    finally:
        await app.stop()


async def test_redis_going_away_costs_the_caller_nothing_and_loses_no_trace(
    settings: Settings, sandbox: Sandbox, call: SimCaller
) -> None:
    app = HotlineApp(settings)
    await app.start()
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    store = TraceStore(redis_client(settings.redis_url), settings.trace_ttl_s)
    try:
        await asyncio.to_thread(sandbox.stop_redis)
        assert not sandbox.status().redis_running
        # a citizen walks the menu and waits in line while Redis is away
        c = await call("1111", "2", keep=True, until=lambda c: bool(c.queue))
        try:
            assert c.queue == "complaint"
            heard = c.prompts_started()
            assert heard[0] == "ivr/greeting-1111"
            assert "ivr/queue-position" in heard  # the place is still announced
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://{host}:{port}/healthz") as resp:
                    health = await resp.json()
                    assert resp.status == 503 and health["redis"] is False
            assert health["traces_waiting_for_redis"] >= 1
        finally:
            await app.ami.action("Hangup", Channel=c.channel)
        await asyncio.to_thread(sandbox.start_redis)

        # back: the trace kept in memory reaches Redis without another call
        async def written() -> bool:
            return await store.get(c.uniqueid) is not None

        await until(written, what="the trace of the call made while Redis was away written")
        trace = await store.get(c.uniqueid)
        assert trace is not None
        assert (trace.outcome, trace.target, trace.path) == ("queue", "complaint", ["main", "2"])
        assert app.traces.pending == 0
    finally:
        if not sandbox.status().redis_running:
            await asyncio.to_thread(sandbox.start_redis)
        await store.redis.aclose()
        await app.stop()
