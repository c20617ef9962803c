"""The FastAGI server and call facade over real sockets, with a fake Asterisk client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from ivr.agi.call import AgiCall
from ivr.agi.server import AgiServer
from ivr.agi.types import AgiError, CallHangup
from tests.until import until

pytestmark = pytest.mark.network

Responder = Callable[[str], Awaitable[list[str] | None]]

CALLER = "0812345678"


def env_block(script: str, args: Sequence[str] = (), uniqueid: str = "1715000000.1") -> bytes:
    lines = [
        "agi_network: yes",
        f"agi_network_script: {script}",
        f"agi_request: agi://127.0.0.1/{script}",
        "agi_channel: PJSIP/caller-00000001",
        "agi_language: th",
        "agi_type: PJSIP",
        f"agi_uniqueid: {uniqueid}",
        "agi_version: 22.1.0",
        f"agi_callerid: {CALLER}",
        "agi_calleridname: unknown",
        "agi_dnid: 1111",
        "agi_context: hotline-in",
        "agi_extension: 1111",
        "agi_priority: 2",
        "agi_enhanced: 0.0",
        "agi_accountcode: ",
        "agi_threadid: 140000000000000",
    ]
    lines += [f"agi_arg_{i}: {a}" for i, a in enumerate(args, 1)]
    return ("\n".join(lines) + "\n\n").encode()


async def default_reply(cmd: str) -> list[str] | None:
    if cmd == "ANSWER":
        return ["200 result=0"]
    if cmd.startswith("STREAM FILE"):
        return ["200 result=0 endpos=16000"]
    if cmd.startswith("WAIT FOR DIGIT"):
        return ["200 result=49"]
    if cmd.startswith(("SET VARIABLE", "VERBOSE")):
        return ["200 result=1"]
    if cmd.startswith("GET VARIABLE"):
        return ["200 result=1 (value of it)"]
    if cmd == "CHANNEL STATUS":
        return ["200 result=6"]
    if cmd.startswith("EXEC"):
        return ["200 result=0"]
    return ["510 Invalid or unknown command"]


async def fake_asterisk(
    port: int,
    script: str,
    args: Sequence[str] = (),
    *,
    uniqueid: str = "1715000000.1",
    respond: Responder = default_reply,
    delay: float = 0.0,
    limit: float = 10.0,
) -> list[str]:
    """Connect like Asterisk, answer commands until the server closes; return the commands."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    commands: list[str] = []
    try:
        writer.write(env_block(script, args, uniqueid))
        await writer.drain()
        async with asyncio.timeout(limit):
            while True:
                try:
                    line = await reader.readline()
                except ConnectionError:
                    break
                if not line:
                    break
                cmd = line.decode().rstrip("\n")
                commands.append(cmd)
                if delay:
                    await asyncio.sleep(delay)
                out = await respond(cmd)
                if out is None:
                    continue  # stay silent
                try:
                    writer.write("".join(x + "\n" for x in out).encode())
                    await writer.drain()
                except ConnectionError:
                    break
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return commands


@contextlib.asynccontextmanager
async def running(server: AgiServer) -> AsyncIterator[AgiServer]:
    await server.start()
    try:
        yield server
    finally:
        await server.close(grace=1.0)


def make_server(routes: dict[str, Callable[[AgiCall], Awaitable[None]]], **kw: Any) -> AgiServer:
    return AgiServer(routes, "127.0.0.1", 0, **kw)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    got = getattr(record, "fields", None)
    return got if isinstance(got, dict) else {}


# -- routing and the call facade ------------------------------------------------------------


async def test_routes_by_script_with_args() -> None:
    seen: dict[str, Any] = {}

    async def hotline(call: AgiCall) -> None:
        seen["info"] = call.info
        await call.answer()
        await call.set_language("th")
        digit = await call.play("ivr/greeting-1111", "123")
        seen["digit"] = digit
        seen["wait"] = await call.wait_digit(5000)
        seen["var"] = await call.get_variable("QUEUE_NAME")
        await call.set_variable("IVR_DEST", 'queue "1111" \\ x')
        await call.verbose("hello world", 3)
        seen["exec"] = await call.exec_app("Playback", "beep,noanswer")

    async def queue_wait(call: AgiCall) -> None:
        seen["qw"] = call.info.args

    async with running(make_server({"hotline": hotline, "/queue-wait": queue_wait})) as srv:
        cmds = await fake_asterisk(srv.bound_port, "hotline", ["1111", "extra arg"])
        await fake_asterisk(srv.bound_port, "/queue-wait", ["q1"])

    info = seen["info"]
    assert info.script == "hotline"
    assert info.args == ("1111", "extra arg")
    assert info.caller_id == CALLER
    assert info.uniqueid == "1715000000.1"
    assert info.context == "hotline-in"
    assert seen["digit"] is None
    assert seen["wait"] == "1"
    assert seen["var"] == "value of it"
    assert seen["exec"] == 0
    assert seen["qw"] == ("q1",)
    assert cmds == [
        "ANSWER",
        "SET VARIABLE CHANNEL(language) th",
        'STREAM FILE "ivr/greeting-1111" "123"',
        "WAIT FOR DIGIT 5000",
        "GET VARIABLE QUEUE_NAME",
        'SET VARIABLE IVR_DEST "queue \\"1111\\" \\\\ x"',
        'VERBOSE "hello world" 3',
        'EXEC Playback "beep,noanswer"',
    ]
    assert srv.stats["calls_started"] == 2
    assert srv.stats["calls_failed"] == 0
    assert srv.stats["calls_active"] == 0


async def test_unknown_route_sets_ivr_error_and_closes(caplog: pytest.LogCaptureFixture) -> None:
    async def hotline(call: AgiCall) -> None:
        raise AssertionError("must not run")

    caplog.set_level(logging.DEBUG, logger="ivr.agi")
    async with running(make_server({"hotline": hotline})) as srv:
        cmds = await fake_asterisk(srv.bound_port, "hotline?x=1")
    assert cmds == ['SET VARIABLE IVR_ERROR "unknown-route"']
    assert srv.stats["unknown_route"] == 1
    assert srv.stats["calls_started"] == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and record_fields(errors[0])["script"] == "hotline?x=1"


async def test_digit_interrupts_prompt_and_replies_with_data() -> None:
    got: list[object] = []

    async def respond(cmd: str) -> list[str] | None:
        if cmd.startswith("STREAM FILE"):
            return ["200 result=50 endpos=12345"]
        if cmd.startswith("GET VARIABLE"):
            return ["200 result=0"]
        if cmd.startswith("WAIT FOR DIGIT"):
            return ["200 result=0"]
        return await default_reply(cmd)

    async def route(call: AgiCall) -> None:
        got.append(await call.play("ivr/menu", "0123456789*#"))
        got.append(await call.get_variable("NOPE"))
        got.append(await call.wait_digit(100))

    async with running(make_server({"r": route})) as srv:
        await fake_asterisk(srv.bound_port, "r", respond=respond)
    assert got == ["2", None, None]


async def test_missing_prompt_is_not_a_hangup(caplog: pytest.LogCaptureFixture) -> None:
    got: list[object] = []

    async def respond(cmd: str) -> list[str] | None:
        if cmd.startswith('STREAM FILE "ivr/missing"'):
            return ["200 result=-1 endpos=0"]  # Asterisk 22: file could not be opened
        if cmd.startswith('STREAM FILE "ivr/old-missing"'):
            return ["200 result=0 endpos=0"]  # older Asterisk
        return await default_reply(cmd)

    async def route(call: AgiCall) -> None:
        got.append(await call.play("ivr/missing"))
        got.append(await call.play("ivr/old-missing"))
        got.append(call.hungup)
        await call.answer()

    async with running(make_server({"r": route})) as srv:
        cmds = await fake_asterisk(srv.bound_port, "r", respond=respond)
    assert got == [None, None, False]
    assert cmds == [
        'STREAM FILE "ivr/missing" ""',
        "CHANNEL STATUS",
        'STREAM FILE "ivr/old-missing" ""',
        "ANSWER",
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2


async def test_playback_minus_one_on_dead_channel_is_hangup() -> None:
    outcome: list[str] = []

    async def respond(cmd: str) -> list[str] | None:
        if cmd.startswith("STREAM FILE"):
            return ["200 result=-1 endpos=3000"]
        if cmd == "CHANNEL STATUS":
            return ["HANGUP", "511 Command Not Permitted on a dead channel or intercept routine"]
        return await default_reply(cmd)

    async def route(call: AgiCall) -> None:
        try:
            await call.play("ivr/menu", "1")
        except CallHangup:
            outcome.append("hangup")
            raise

    async with running(make_server({"r": route})) as srv:
        await fake_asterisk(srv.bound_port, "r", respond=respond)
    assert outcome == ["hangup"]
    assert srv.stats["calls_failed"] == 0


async def test_usage_and_invalid_command_raise_agi_error() -> None:
    errors: list[str] = []

    async def respond(cmd: str) -> list[str] | None:
        if cmd.startswith("WAIT FOR DIGIT"):
            return [
                "520-Invalid command syntax.  Proper usage follows:",
                " Usage: WAIT FOR DIGIT <timeout>",
                "        Waits up to 'timeout' milliseconds for channel to receive a DTMF digit.",
                "520 End of proper usage.",
            ]
        return await default_reply(cmd)

    async def route(call: AgiCall) -> None:
        with pytest.raises(AgiError) as e1:
            await call.wait_digit(10)
        errors.append(str(e1.value))
        with pytest.raises(AgiError) as e2:
            await call.command("FROB")
        errors.append(str(e2.value))
        await call.answer()  # the stream stays in step after both errors

    async with running(make_server({"r": route})) as srv:
        cmds = await fake_asterisk(srv.bound_port, "r", respond=respond)
    assert "Usage: WAIT FOR DIGIT <timeout>" in errors[0]
    assert "520" in errors[0]
    assert "510" in errors[1]
    assert cmds[-1] == "ANSWER"
    assert srv.stats["calls_failed"] == 0


async def test_hangup_line_raises_call_hangup_and_stays_hung_up() -> None:
    events: list[str] = []

    async def respond(cmd: str) -> list[str] | None:
        if cmd.startswith("STREAM FILE"):
            return ["HANGUP", "200 result=0 endpos=1200"]
        return await default_reply(cmd)

    async def route(call: AgiCall) -> None:
        await call.answer()
        try:
            await call.play("ivr/greeting")
        except CallHangup:
            events.append("hangup")
        assert call.hungup
        for _ in range(3):
            with pytest.raises(CallHangup):
                await call.set_variable("X", "1")
        events.append("still-hung-up")
        raise CallHangup("from the route")

    async with running(make_server({"r": route})) as srv:
        cmds = await fake_asterisk(srv.bound_port, "r", respond=respond)
    assert events == ["hangup", "still-hung-up"]
    assert cmds == ["ANSWER", 'STREAM FILE "ivr/greeting" ""']  # nothing written after HANGUP
    assert srv.stats["calls_failed"] == 0


async def test_connection_closed_mid_call_is_hangup() -> None:
    events: list[str] = []

    async def route(call: AgiCall) -> None:
        try:
            await call.play("ivr/long")
        except CallHangup:
            events.append("hangup")
            raise

    async with running(make_server({"r": route})) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
        writer.write(env_block("r"))
        await reader.readline()
        writer.close()
        await writer.wait_closed()
        await until(lambda: srv.active_calls == 0 and srv.stats["calls_started"] == 1)
    assert events == ["hangup"]
    assert srv.stats["calls_failed"] == 0


async def test_command_timeout_raises_agi_error() -> None:
    events: list[str] = []

    async def respond(cmd: str) -> list[str] | None:
        if cmd.startswith("WAIT FOR DIGIT"):
            return None  # never answer
        return await default_reply(cmd)

    async def route(call: AgiCall) -> None:
        await call.answer()
        started = time.monotonic()
        try:
            await call.wait_digit(100)
        except AgiError as exc:
            events.append(f"timeout:{time.monotonic() - started:.1f}:{exc}")
        with pytest.raises(CallHangup):
            await call.answer()

    async with running(make_server({"r": route}, command_timeout=0.3)) as srv:
        cmds = await fake_asterisk(srv.bound_port, "r", respond=respond, limit=5)
    assert len(events) == 1 and events[0].startswith("timeout:0.4:")
    assert "WAIT FOR DIGIT" in events[0]
    assert cmds == ["ANSWER", "WAIT FOR DIGIT 100"]  # connection dropped after the timeout


async def test_each_command_keeps_its_own_time_limit() -> None:
    """The call's one timer follows the command in progress: a long limit after a short
    one is not cut at the short one's end, a short one after a long one ends on time."""
    times: list[float] = []

    async def respond(cmd: str) -> list[str] | None:
        if cmd.startswith("WAIT FOR DIGIT"):
            await asyncio.sleep(0.5)  # past ANSWER's limit, within its own
            return ["200 result=0"]
        if cmd.startswith("GET VARIABLE"):
            return None  # never answered
        return await default_reply(cmd)

    async def route(call: AgiCall) -> None:
        await call.answer()  # limit 0.3 s
        assert await call.wait_digit(400) is None  # limit 0.4 + 0.3 s
        started = time.monotonic()
        with pytest.raises(AgiError, match=r"GET VARIABLE timed out after 0\.3 s"):
            await call.get_variable("X")  # limit 0.3 s
        times.append(time.monotonic() - started)

    async with running(make_server({"r": route}, command_timeout=0.3)) as srv:
        cmds = await fake_asterisk(srv.bound_port, "r", respond=respond, limit=5)
    assert cmds == ["ANSWER", "WAIT FOR DIGIT 400", "GET VARIABLE X"]
    assert len(times) == 1 and 0.25 <= times[0] < 0.9


# -- robustness -----------------------------------------------------------------------------


async def _bad_client(port: int, kind: str, hold: float) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    try:
        if kind == "garbage":
            writer.write(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
        elif kind == "binary":
            writer.write(bytes(range(256)) * 4 + b"\n\n")
        elif kind == "oversize":
            writer.write(b"agi_network: yes\nagi_x: " + b"A" * 40_000 + b"\n\n")
        elif kind == "newline-less":
            writer.write(b"\xff\xfe" * 3000)
        elif kind == "huge":
            writer.write(b"\xff" * 1_000_000)
        if kind != "empty":
            await writer.drain()
            async with asyncio.timeout(hold):
                await reader.read()  # until the server closes it
    except (OSError, TimeoutError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_flood_of_bad_connections_does_not_disturb_real_calls() -> None:
    done: list[str] = []

    async def route(call: AgiCall) -> None:
        await call.answer()
        digit = await call.play("ivr/greeting", "12")
        await call.wait_digit(1000)
        await call.set_variable("IVR_DEST", "queue-1111")
        done.append(call.info.args[0] + (digit or ""))

    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    kinds = ["empty", "garbage", "binary", "oversize", "silent"]
    # the header timeout is for the silent ones: long enough that a machine busy with
    # 1,000 connections at once still reads the others' bytes before it ends theirs
    server = make_server({"hotline": route}, header_timeout=2.0)
    async with running(server) as srv:
        tick = asyncio.create_task(ticker())
        port = srv.bound_port
        bad = [_bad_client(port, kinds[i % len(kinds)], hold=30.0) for i in range(1000)]
        good = [
            fake_asterisk(port, "hotline", [str(i)], uniqueid=f"1.{i}", delay=0.02)
            for i in range(20)
        ]
        bad_done = asyncio.gather(*bad)
        good_cmds = await asyncio.gather(*good)
        await bad_done
        await until(lambda: srv.stats["accepted"] == 1020 and not srv._connections, 60.0)
        stop.set()
        await tick

    assert all(len(c) == 4 for c in good_cmds), good_cmds
    assert sorted(done) == sorted(str(i) for i in range(20))
    assert srv.stats["calls_started"] == 20
    assert srv.stats["calls_failed"] == 0
    assert srv.stats["timeouts"] == 200
    assert srv.stats["bad_headers"] == 800
    # panoramisk's handler spins forever on a connection closed before its headers: the
    # loop would freeze for good. The bound only tells a freeze from a slow machine
    # (timers here may run twice as long as asked), it measures no speed.
    assert max(gaps) < 3.0, max(gaps)


async def test_newline_less_binary_is_bounded_in_time_and_size() -> None:
    async def route(call: AgiCall) -> None:
        raise AssertionError("must not run")

    async with running(make_server({"r": route}, header_timeout=0.5)) as srv:
        started = time.monotonic()
        await _bad_client(srv.bound_port, "newline-less", hold=30.0)
        # 6 KB without a newline: under the size limit, so it ends at the header timeout
        # (closed by the server: the client's own 30 s hold did not run out)
        assert time.monotonic() - started >= 0.45
        assert srv.stats["timeouts"] == 1
        assert srv.stats["bad_headers"] == 0
        await _bad_client(srv.bound_port, "huge", hold=30.0)
        # 1 MB without a newline: cut off at the stream limit, not by the timeout
        assert srv.stats["bad_headers"] == 1
        assert srv.stats["timeouts"] == 1


async def test_rejections_are_logged_with_a_rate_limit(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ivr.agi")
    async with running(make_server({}, allow=["10.0.0.0/8"])) as srv:
        for _ in range(8):
            await _bad_client(srv.bound_port, "garbage", hold=2.0)
        await until(lambda: srv.stats["rejected"] == 8)
    rejected = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert [r.levelno for r in rejected] == [logging.WARNING] * 5 + [logging.DEBUG] * 3
    assert record_fields(rejected[0])["peer"].startswith("127.0.0.1:")


async def test_disallowed_source_address_is_rejected() -> None:
    ran: list[str] = []

    async def route(call: AgiCall) -> None:
        ran.append("ran")

    async with running(make_server({"hotline": route}, allow=["10.0.0.0/8"])) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.bound_port)
        try:
            writer.write(env_block("hotline"))
            async with asyncio.timeout(2):
                try:
                    data = await reader.read()
                except ConnectionError:
                    data = b""
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    assert data == b""
    assert ran == []
    assert srv.stats["rejected"] == 1
    assert srv.stats["accepted"] == 0


async def test_loopback_is_the_default_allowlist() -> None:
    srv = make_server({})
    assert srv._peer_allowed(("127.0.0.1", 5000))
    assert srv._peer_allowed(("::1", 5000, 0, 0))
    assert not srv._peer_allowed(("10.1.2.3", 5000))
    srv = make_server({}, allow=["10.0.0.0/8", "192.0.2.7"])
    assert srv._peer_allowed(("::ffff:10.1.2.3", 5000, 0, 0))
    assert srv._peer_allowed(("192.0.2.7", 1))
    assert not srv._peer_allowed(("192.0.2.8", 1))
    assert not srv._peer_allowed(("127.0.0.1", 1))
    assert not srv._peer_allowed(None)


async def test_exception_in_one_call_does_not_affect_another(
    caplog: pytest.LogCaptureFixture,
) -> None:
    finished: list[str] = []

    async def boom(call: AgiCall) -> None:
        await call.answer()
        raise RuntimeError("menu file broken")

    async def fine(call: AgiCall) -> None:
        for _ in range(5):
            await call.play("ivr/info")
        finished.append(call.info.uniqueid)

    caplog.set_level(logging.DEBUG, logger="ivr.agi")
    async with running(make_server({"boom": boom, "fine": fine})) as srv:
        boom_cmds, fine_cmds = await asyncio.gather(
            fake_asterisk(srv.bound_port, "boom", uniqueid="1.boom", delay=0.01),
            fake_asterisk(srv.bound_port, "fine", uniqueid="1.fine", delay=0.02),
        )
    assert boom_cmds == ["ANSWER", 'SET VARIABLE IVR_ERROR "internal"']
    assert len(fine_cmds) == 5
    assert finished == ["1.fine"]
    assert srv.stats["calls_failed"] == 1
    failed = [r for r in caplog.records if r.getMessage() == "call failed"]
    assert record_fields(failed[0])["call"] == "1.boom"
    assert failed[0].exc_info is not None
    # the caller's number is never logged in clear
    for record in caplog.records:
        assert CALLER not in record.getMessage()
        assert CALLER not in repr(record_fields(record))


async def test_max_calls_refuses_with_ivr_error() -> None:
    release = asyncio.Event()

    async def slow(call: AgiCall) -> None:
        await release.wait()

    async with running(make_server({"r": slow}, max_calls=1)) as srv:
        first = asyncio.create_task(fake_asterisk(srv.bound_port, "r"))
        await until(lambda: srv.active_calls == 1)
        second = await fake_asterisk(srv.bound_port, "r")
        release.set()
        await first
    assert second == ['SET VARIABLE IVR_ERROR "overload"']
    assert srv.stats["overloaded"] == 1


async def test_graceful_close_lets_an_active_call_finish() -> None:
    finished: list[str] = []

    async def route(call: AgiCall) -> None:
        await call.answer()
        await call.play("ivr/long-info")
        await call.set_variable("IVR_DEST", "queue")
        finished.append("done")

    server = make_server({"r": route})
    await server.start()
    port = server.bound_port
    client = asyncio.create_task(fake_asterisk(port, "r", delay=0.3))
    await until(lambda: server.active_calls == 1)
    closing = asyncio.create_task(server.close(grace=5.0))
    await asyncio.sleep(0.05)
    with pytest.raises(OSError):  # no longer accepting
        _r, w = await asyncio.open_connection("127.0.0.1", port)
        w.close()
    cmds = await client
    await closing
    assert finished == ["done"]
    assert cmds == ["ANSWER", 'STREAM FILE "ivr/long-info" ""', 'SET VARIABLE IVR_DEST "queue"']
    assert server.active_calls == 0
    assert server.stats["calls_failed"] == 0


async def test_close_cancels_calls_after_the_grace_period() -> None:
    async def respond(cmd: str) -> list[str] | None:
        return None  # Asterisk never answers: the call is stuck

    async def route(call: AgiCall) -> None:
        await call.play("ivr/forever")

    server = make_server({"r": route})
    await server.start()
    client = asyncio.create_task(fake_asterisk(server.bound_port, "r", respond=respond))
    await until(lambda: server.active_calls == 1)
    started = time.monotonic()
    await server.close(grace=0.2)
    assert time.monotonic() - started < 2.0
    assert await client == ['STREAM FILE "ivr/forever" ""']  # then the server closed it
    assert server.active_calls == 0
    assert server.stats["calls_failed"] == 1
