"""AmiClient against a small fake AMI server speaking the real text protocol.

Loopback sockets only (no Asterisk). No assertion waits on a fixed sleep: each test
waits for the event or condition it needs (``until``, ``wait_event``, an
``asyncio.Event``) with a generous deadline, so a slow timer only makes it slower.
What must *not* happen (a reconnect) is watched with ``stays`` over a window of
loop time many reconnect periods long: a late timer only lengthens the watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ivr.ami.client import AmiClient, AmiError, AmiReplyLost, AmiTimeout
from ivr.ami.events import (
    AnyEvent,
    FullyBooted,
    Hangup,
    OriginateResponse,
    QueueCallerJoin,
    UnknownEvent,
)
from tests.until import until

pytestmark = pytest.mark.network

EOL = b"\r\n"
#: Deadline for anything that should happen at once on loopback, even on a loaded machine.
DEADLINE_S = 10.0
RECONNECT_S = 0.05
Block = dict[str, str]
Reply = Callable[[Block], list[Block] | None]


def encode(block: Block) -> bytes:
    return b"".join(f"{k}: {v}".encode() + EOL for k, v in block.items()) + EOL


class FakeAmi:
    """Accepts AMI sessions: banner, Login, a few actions, and events on demand."""

    def __init__(self, secret: str = "good") -> None:
        self.secret = secret
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.sessions: set[asyncio.Task[Any]] = set()
        self.received: list[Block] = []
        self.logins = 0
        self.answer_login = True
        self.extra: dict[str, Reply] = {}

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.drop()
        for task in list(self.sessions):
            task.cancel()
        await asyncio.gather(*self.sessions, return_exceptions=True)
        await self.server.wait_closed()

    async def drop(self) -> None:
        """Close every client connection (as an Asterisk restart would)."""
        writers, self.writers = self.writers, []
        for w in writers:
            w.close()
        for w in writers:
            with contextlib.suppress(ConnectionError):
                await w.wait_closed()

    async def send(self, data: bytes | Block) -> None:
        raw = data if isinstance(data, bytes) else encode(data)
        for w in self.writers:
            w.write(raw)
            await w.drain()

    def actions(self, name: str) -> list[Block]:
        return [b for b in self.received if b.get("Action", "").lower() == name.lower()]

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.sessions.add(task)
        self.writers.append(writer)
        try:
            writer.write(b"Asterisk Call Manager/11.0.0" + EOL)
            while True:
                try:
                    chunk = await reader.readuntil(EOL + EOL)
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                block: Block = {}
                for line in chunk.decode().split("\r\n"):
                    if ": " in line:  # a repeated header is kept as lines of one value
                        k, v = line.split(": ", 1)
                        block[k] = f"{block[k]}\n{v}" if k in block else v
                self.received.append(block)
                replies = self._reply(block)
                for reply in replies or []:
                    writer.write(encode(reply))
                await writer.drain()
                if block.get("Action") == "Login" and replies and "Error" in str(replies):
                    break  # Asterisk ends the session after a failed login
        finally:
            self.sessions.discard(task)
            if writer in self.writers:
                self.writers.remove(writer)
            writer.close()

    def _reply(self, block: Block) -> list[Block] | None:
        action = block.get("Action", "")
        aid = {"ActionID": block.get("ActionID", "")}
        if action == "Login":
            if not self.answer_login:
                return None
            if block.get("Secret") != self.secret:
                return [{"Response": "Error", **aid, "Message": "Authentication failed"}]
            self.logins += 1
            return [
                {"Response": "Success", **aid, "Message": "Authentication accepted"},
                {
                    "Event": "FullyBooted",
                    "Privilege": "system,all",
                    "Uptime": "100",
                    "LastReload": "100",
                    "Status": "Fully Booted",
                },
            ]
        if action in self.extra:
            return self.extra[action](block)
        if action == "Ping":
            return [{"Response": "Success", **aid, "Ping": "Pong", "Timestamp": "1718000000.1"}]
        if action == "Silent":
            return None
        if action == "QueueStatus":
            return [
                {
                    "Response": "Success",
                    **aid,
                    "EventList": "start",
                    "Message": "Queue status will follow",
                },
                {"Event": "QueueParams", "Queue": "hotline-1111", "Calls": "1", **aid},
                {"Event": "QueueMember", "Queue": "hotline-1111", "Name": "Agent 101", **aid},
                {"Event": "QueueEntry", "Queue": "hotline-1111", "Position": "1", **aid},
                {"Event": "QueueStatusComplete", **aid, "EventList": "Complete", "ListItems": "3"},
            ]
        if action == "Originate":
            return [
                {"Response": "Success", **aid, "Message": "Originate successfully queued"},
                {
                    "Event": "OriginateResponse",
                    "Privilege": "call,all",
                    **aid,
                    "Response": "Success",
                    "Channel": "PJSIP/trunk-00000001",
                    "Context": block.get("Context", ""),
                    "Exten": block.get("Exten", ""),
                    "Reason": "4",
                    "Uniqueid": "1718000000.7",
                    "CallerIDNum": "<unknown>",
                    "CallerIDName": "<unknown>",
                },
            ]
        return [{"Response": "Error", **aid, "Message": "Invalid/unknown command"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.stop()


def make_client(fake: FakeAmi, **kw: Any) -> AmiClient:
    opts: dict[str, Any] = {
        "reconnect_timeout": RECONNECT_S,
        "action_timeout": DEADLINE_S,
        "connect_timeout": DEADLINE_S,
    }
    opts.update(kw)
    secret = opts.pop("secret", "good")
    return AmiClient("127.0.0.1", fake.port, "ivr", secret, **opts)


@pytest.fixture
async def client(fake: FakeAmi) -> AsyncIterator[AmiClient]:
    ami = make_client(fake)
    await ami.start()
    yield ami
    await ami.close()


async def stays(check: Callable[[], bool], periods: int = 20) -> None:
    """``check`` holds throughout ``periods`` reconnect periods of loop time.

    For what must not happen (a reconnect): measured on the loop's clock, so a
    sleep that lasts longer than asked only makes the watch longer, never shorter.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + periods * RECONNECT_S
    while loop.time() < end:
        assert check()
        await asyncio.sleep(0.01)
    assert check()


HANGUP = {
    "Event": "Hangup",
    "Privilege": "call,all",
    "Channel": "PJSIP/trunk-00000012",
    "Uniqueid": "1718000000.42",
    "Linkedid": "1718000000.42",
    "CallerIDNum": "0812345678",
    "Cause": "16",
    "Cause-txt": "Normal Clearing",
}


# ------------------------------------------------------------------ login


async def test_login_ok_and_ping(fake: FakeAmi, client: AmiClient) -> None:
    assert client.connected and client.logins == 1
    login = fake.actions("Login")[0]
    assert login["Username"] == "ivr" and login["Secret"] == "good"
    reply = await client.action("Ping")
    assert isinstance(reply, dict)
    assert reply["Response"] == "Success" and reply["Ping"] == "Pong"
    assert fake.actions("Ping")[0]["ActionID"] == reply["ActionID"]


async def test_bad_login_raises_naming_the_server(fake: FakeAmi) -> None:
    ami = make_client(fake, secret="wrong")
    with pytest.raises(AmiError, match=rf"127\.0\.0\.1:{fake.port}.*Authentication failed"):
        await ami.start()
    assert not ami.connected
    await stays(lambda: len(fake.actions("Login")) == 1)  # no reconnect loop hammers the server


async def test_no_answer_to_login_times_out(fake: FakeAmi) -> None:
    fake.answer_login = False
    ami = make_client(fake, connect_timeout=0.3)
    with pytest.raises(AmiTimeout, match=rf"127\.0\.0\.1:{fake.port}"):
        await ami.start()
    assert not ami.connected


async def test_nothing_listening_times_out_with_the_last_error(fake: FakeAmi) -> None:
    await fake.stop()
    ami = make_client(fake, connect_timeout=0.3)
    with pytest.raises(AmiTimeout, match=rf"127\.0\.0\.1:{fake.port}.*(refused|Errno)"):
        await ami.start()
    await fake.start()  # the fixture stops it again


# ------------------------------------------------------------------ actions


async def test_action_timeout(fake: FakeAmi) -> None:
    ami = make_client(fake, action_timeout=0.2)
    await ami.start()
    try:
        with pytest.raises(AmiTimeout, match="Silent"):
            await ami.action("Silent")
        assert ami.connected
        assert (await ami.action("Ping"))["Ping"] == "Pong"  # type: ignore[call-overload]
    finally:
        await ami.close()


async def test_error_response_raises_with_message(client: AmiClient) -> None:
    with pytest.raises(AmiError, match="Invalid/unknown command"):
        await client.action("NoSuchAction")


async def test_action_fields_and_line_breaks(fake: FakeAmi, client: AmiClient) -> None:
    fake.extra["QueuePause"] = lambda b: [{"Response": "Success", "ActionID": b["ActionID"]}]
    await client.action("QueuePause", Interface="PJSIP/agent-101", Paused="true", Queue="q1")
    sent = fake.actions("QueuePause")[0]
    assert sent["Interface"] == "PJSIP/agent-101" and sent["Paused"] == "true"
    with pytest.raises(ValueError, match="line break"):
        await client.action("QueuePause", Interface="x\r\nAction: Logoff")


async def test_multi_message_reply_is_a_list(client: AmiClient) -> None:
    reply = await client.action("QueueStatus", Queue="hotline-1111")
    assert isinstance(reply, list)
    assert [m.get("Event", m.get("Response")) for m in reply] == [
        "Success",
        "QueueParams",
        "QueueMember",
        "QueueEntry",
        "QueueStatusComplete",
    ]
    assert reply[3]["Position"] == "1"


async def test_action_when_not_connected() -> None:
    ami = AmiClient("127.0.0.1", 1, "ivr", "x")
    with pytest.raises(AmiError, match="not connected"):
        await ami.action("Ping")


async def test_originate_returns_action_id_and_the_response_event_is_dispatched(
    fake: FakeAmi, client: AmiClient
) -> None:
    seen: list[AnyEvent] = []
    client.subscribe(OriginateResponse, seen.append)
    waiting = asyncio.ensure_future(
        client.wait_event(lambda e: isinstance(e, OriginateResponse), DEADLINE_S)
    )
    await asyncio.sleep(0)
    action_id = await client.originate(
        "PJSIP/0812345678@trunk",
        "callback",
        "s",
        variables={"CALLBACK_ID": "cb-1", "NOTE": 'a,b "c"'},
        caller_id='"Hotline" <1111>',
    )
    event = await waiting
    assert isinstance(event, OriginateResponse)
    assert event.action_id == action_id and event.success and event.reason == 4
    assert seen == [event]
    sent = fake.actions("Originate")[0]
    assert sent["ActionID"] == action_id and sent["Async"] == "true"
    assert sent["Channel"] == "PJSIP/0812345678@trunk" and sent["Timeout"] == "30000"
    assert sent["Priority"] == "1" and sent["CallerID"] == '"Hotline" <1111>'
    # one Variable header each; commas and quotes escaped as Asterisk's parser expects
    assert sent["Variable"].split("\n") == ["CALLBACK_ID=cb-1", 'NOTE=a\\,b \\"c\\"']


async def test_originate_response_that_overtakes_the_reply_is_still_an_event(
    fake: FakeAmi, client: AmiClient
) -> None:
    # Seen on the sandbox: with a fast Local channel Asterisk can write the
    # OriginateResponse event before "Originate successfully queued".
    def event_first(block: Block) -> list[Block]:
        aid = {"ActionID": block.get("ActionID", "")}
        return [
            {"Event": "OriginateResponse", **aid, "Response": "Success",
             "Channel": "Local/s@sim-caller-00000001;1", "Reason": "4", "Uniqueid": "1.1"},
            {"Response": "Success", **aid, "Message": "Originate successfully queued"},
        ]  # fmt: skip

    fake.extra["Originate"] = event_first
    waiting = asyncio.ensure_future(
        client.wait_event(lambda e: isinstance(e, OriginateResponse), DEADLINE_S)
    )
    await asyncio.sleep(0)
    action_id = await client.originate("Local/s@sim-caller", "hotlines", "1111")
    event = await waiting
    assert isinstance(event, OriginateResponse) and event.action_id == action_id
    assert event.uniqueid == "1.1"
    assert await client.action("Ping")  # the connection is still in step


async def test_sync_originate_waits_for_the_call(fake: FakeAmi, client: AmiClient) -> None:
    fake.extra["Originate"] = lambda b: [
        {"Response": "Error", "ActionID": b["ActionID"], "Message": "Originate failed"}
    ]
    with pytest.raises(AmiError, match="Originate failed"):
        await client.originate("PJSIP/0812345678@trunk", "callback", "s", async_=False)
    assert fake.actions("Originate")[0]["Async"] == "false"


# ------------------------------------------------------------------ events


async def test_typed_events_reach_subscribers(fake: FakeAmi, client: AmiClient) -> None:
    got: list[AnyEvent] = []
    everything: list[AnyEvent] = []
    client.subscribe("hangup", got.append)
    client.subscribe("*", everything.append)
    await fake.send(HANGUP)
    await fake.send({"Event": "BridgeEnter", "BridgeUniqueid": "b1"})
    await until(lambda: len(everything) == 2, DEADLINE_S)
    assert isinstance(got[0], Hangup) and got[0].cause == 16
    assert isinstance(everything[1], UnknownEvent) and everything[1].name == "BridgeEnter"


async def test_a_raising_sync_handler_does_not_drop_the_connection(
    fake: FakeAmi, client: AmiClient, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[AnyEvent] = []

    def broken(event: AnyEvent) -> None:
        raise RuntimeError("handler bug")

    client.subscribe("Hangup", broken)
    client.subscribe("Hangup", got.append)
    with caplog.at_level(logging.ERROR, logger="ivr.ami"):
        await fake.send(HANGUP)
        await until(lambda: len(got) == 1, DEADLINE_S)
        await fake.send({**HANGUP, "Uniqueid": "1718000000.43"})
        await until(lambda: len(got) == 2, DEADLINE_S)
    assert client.connected and client.logins == 1 and fake.logins == 1
    failures = [r for r in caplog.records if r.getMessage() == "AMI event handler failed"]
    assert len(failures) == 2
    assert failures[0].fields["event"] == "Hangup"  # type: ignore[attr-defined]
    assert "0812345678" not in caplog.text


async def test_an_async_handler_exception_is_logged(
    fake: FakeAmi, client: AmiClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(event: AnyEvent) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("async handler bug")

    client.subscribe("Hangup", broken)
    with caplog.at_level(logging.ERROR, logger="ivr.ami"):
        await fake.send(HANGUP)
        await until(lambda: "async handler bug" in caplog.text, DEADLINE_S)
    record = next(r for r in caplog.records if r.exc_info)
    assert record.fields["event"] == "Hangup"  # type: ignore[attr-defined]
    assert client.connected


async def test_async_handlers_are_cancelled_on_close(fake: FakeAmi) -> None:
    ami = make_client(fake)
    await ami.start()
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow(event: AnyEvent) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    ami.subscribe(QueueCallerJoin, slow)
    await fake.send({"Event": "QueueCallerJoin", "Queue": "q1", "Position": "1", "Count": "1"})
    await asyncio.wait_for(started.wait(), DEADLINE_S)
    await ami.close()
    assert cancelled.is_set() and not ami.connected


async def test_unsubscribe(fake: FakeAmi, client: AmiClient) -> None:
    got: list[AnyEvent] = []
    stop = client.subscribe("Hangup", got.append)
    stop()
    await fake.send(HANGUP)
    await client.wait_event(lambda e: isinstance(e, Hangup), DEADLINE_S)
    assert got == []


async def test_wait_event_timeout(client: AmiClient) -> None:
    with pytest.raises(AmiTimeout):
        await client.wait_event(lambda e: False, 0.05)


async def test_garbage_from_the_server_does_not_crash_the_client(
    fake: FakeAmi, client: AmiClient
) -> None:
    await fake.send(b"this is not AMI at all" + EOL + EOL)
    await fake.send(b"\xff\xfe\x00 binary junk" + EOL + b"no colon here" + EOL + EOL)
    await fake.send(b"Event: QueueCallerJoin\r\nPosition: first\r\nCount: many\r\n\r\n")
    await fake.send(b"Response: Success\r\nActionID: nobody-asked\r\n\r\n")
    await fake.send(b"Event: Hangup\r\nCause: 16\r\nCause: 17\r\n\r\n")
    await fake.send(b"Event: \r\n\r\n")
    join = await client.wait_event(lambda e: isinstance(e, QueueCallerJoin), DEADLINE_S)
    assert isinstance(join, QueueCallerJoin) and join.position is None and join.count is None
    await fake.send(HANGUP)
    hangup = await client.wait_event(lambda e: e.get("Uniqueid") == HANGUP["Uniqueid"], DEADLINE_S)
    assert isinstance(hangup, Hangup) and hangup.cause == 16
    assert client.connected and fake.logins == 1
    assert (await client.action("Ping"))["Ping"] == "Pong"  # type: ignore[call-overload]


# ------------------------------------------------------------------ reconnect


async def test_reconnect_runs_the_connect_hook_again(fake: FakeAmi) -> None:
    ami = make_client(fake)
    calls: list[int] = []

    async def resync() -> None:
        reply = await ami.action("QueueStatus")
        assert isinstance(reply, list)
        calls.append(len(reply))

    ami.add_connect_hook(resync)
    await ami.start()
    try:
        assert calls == [5]  # start() returns after the first resync
        await fake.drop()
        await until(lambda: not ami.connected, DEADLINE_S)
        await until(lambda: len(calls) == 2, DEADLINE_S)
        assert ami.connected and ami.logins == 2 and fake.logins == 2
        got: list[AnyEvent] = []
        ami.subscribe("Hangup", got.append)
        await fake.send(HANGUP)
        await until(lambda: len(got) == 1, DEADLINE_S)
    finally:
        await ami.close()
    await fake.drop()
    await stays(lambda: fake.logins == 2)  # closed for good: no reconnect after close()


async def test_rejected_relogin_keeps_retrying_until_credentials_work(
    fake: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    ami = make_client(fake)
    resyncs: list[int] = []

    async def resync() -> None:
        resyncs.append(ami.logins)

    ami.add_connect_hook(resync)
    await ami.start()
    try:
        fake.secret = "rotated"
        with caplog.at_level(logging.ERROR, logger="ivr.ami"):
            await fake.drop()
            await until(lambda: len(fake.actions("Login")) >= 3, DEADLINE_S)
        assert not ami.connected and "AMI login failed" in caplog.text
        fake.secret = "good"
        await until(lambda: ami.connected, DEADLINE_S)
        await until(lambda: resyncs == [1, 2], DEADLINE_S)
    finally:
        await ami.close()


async def test_raw_traffic_is_not_logged(
    fake: FakeAmi, client: AmiClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await fake.send(HANGUP)
        await client.wait_event(lambda e: isinstance(e, Hangup), DEADLINE_S)
        await client.originate("PJSIP/0812345678@trunk", "callback", "s")
    assert "0812345678" not in caplog.text


async def test_a_failing_connect_hook_is_logged_and_start_still_succeeds(
    fake: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    ami = make_client(fake)

    async def broken() -> None:
        raise RuntimeError("resync bug")

    ami.add_connect_hook(broken)
    with caplog.at_level(logging.ERROR, logger="ivr.ami"):
        await ami.start()
    try:
        assert ami.connected and "AMI connect hook failed" in caplog.text
    finally:
        await ami.close()


async def test_hook_added_while_connected_runs_now(client: AmiClient) -> None:
    ran = asyncio.Event()

    async def hook() -> None:
        ran.set()

    client.add_connect_hook(hook)
    await asyncio.wait_for(ran.wait(), DEADLINE_S)


async def test_pending_action_fails_on_close(fake: FakeAmi) -> None:
    ami = make_client(fake, action_timeout=60)
    await ami.start()
    pending = asyncio.ensure_future(ami.action("Silent"))
    await until(lambda: bool(fake.actions("Silent")), DEADLINE_S)
    await ami.close()
    with pytest.raises(AmiError):
        await asyncio.wait_for(pending, DEADLINE_S)


async def test_an_action_cut_off_by_a_lost_connection_fails_and_is_not_sent_again(
    fake: FakeAmi,
) -> None:
    ami = make_client(fake, action_timeout=60)
    await ami.start()
    try:
        pending = asyncio.ensure_future(ami.action("Silent", Channel="PJSIP/0812345678@pstn"))
        await until(lambda: bool(fake.actions("Silent")), DEADLINE_S)
        rebooted = asyncio.ensure_future(
            ami.wait_event(lambda e: isinstance(e, FullyBooted), DEADLINE_S)
        )
        await asyncio.sleep(0)  # the waiter is registered before the connection drops
        await fake.drop()  # Asterisk goes away before replying
        with pytest.raises(AmiReplyLost, match="not sent again"):
            await asyncio.wait_for(pending, DEADLINE_S)
        # panoramisk re-sends its awaiting actions when FullyBooted arrives after the
        # new login; the Ping, sent after that on the same connection, is answered
        # only once the server has read anything re-sent before it.
        await rebooted
        assert fake.logins == 2  # reconnected and logged in again
        await ami.action("Ping")  # the new connection works
        assert len(fake.actions("Silent")) == 1  # panoramisk would have sent it again
    finally:
        await ami.close()


async def test_context_manager(fake: FakeAmi) -> None:
    async with make_client(fake) as ami:
        assert ami.connected
    assert not ami.connected


# ------------------------------------------------------------------ event mask


def _events_reply(block: Block) -> list[Block]:
    return [{"Response": "Success", "ActionID": block.get("ActionID", ""), "Events": "On"}]


async def test_auto_asks_only_for_the_classes_wanted_and_keeps_them_up_to_date(
    fake: FakeAmi,
) -> None:
    fake.extra["Events"] = _events_reply
    ami = make_client(fake, events="auto")
    ami.mask.narrow_after_s = 0.05
    joins: list[AnyEvent] = []
    ami.subscribe(QueueCallerJoin, joins.append)
    await ami.start()
    try:
        assert fake.actions("Login")[0]["Events"] == "agent"
        stop = ami.subscribe_each(["VarSet", Hangup], lambda e: None)
        await ami.action("Ping")  # a wider mask went out at once, before it
        assert [b.get("Action") for b in fake.received][-2:] == ["Events", "Ping"]
        assert fake.received[-2]["EventMask"] == "agent,call,dialplan"
        stop()  # a narrower one a little later
        await until(lambda: len(fake.actions("Events")) == 2, DEADLINE_S)
        waiting = asyncio.ensure_future(ami.wait_event(lambda e: True, DEADLINE_S))
        await until(lambda: len(fake.actions("Events")) == 3, DEADLINE_S)
        masks = [b["EventMask"] for b in fake.actions("Events")]
        assert masks == ["agent,call,dialplan", "agent", "on"]
        await fake.send(HANGUP)
        assert isinstance(await waiting, Hangup)
        await until(lambda: fake.actions("Events")[-1]["EventMask"] == "agent", DEADLINE_S)
        await fake.send({"Event": "Newexten", "Privilege": "dialplan,all"})  # sent anyway
        await fake.send({"Event": "QueueCallerJoin", "Queue": "q1", "Position": "1"})
        await until(lambda: len(joins) == 1, DEADLINE_S)
        assert ami.events_dropped == 1 and ami.mask.changes == 4
    finally:
        await ami.close()


async def test_a_narrower_mask_waits_and_is_not_sent_if_wanted_again_or_closing(
    fake: FakeAmi,
) -> None:
    fake.extra["Events"] = _events_reply
    ami = make_client(fake, events="auto")
    ami.mask.narrow_after_s = 0.2
    await ami.start()
    try:
        stop = ami.subscribe("VarSet", lambda e: None)
        await until(lambda: len(fake.actions("Events")) == 1, DEADLINE_S)
        stop()
        stop = ami.subscribe("VarSet", lambda e: None)  # wanted again before it went
        await ami.action("Ping")
        await stays(lambda: len(fake.actions("Events")) == 1, periods=8)
        stop()
    finally:
        await ami.close()  # the narrowing due is dropped
    await stays(lambda: len(fake.actions("Events")) == 1, periods=8)


async def test_the_mask_wanted_during_a_reconnect_goes_with_the_next_login(
    fake: FakeAmi,
) -> None:
    fake.extra["Events"] = _events_reply
    ami = make_client(fake, events="auto")
    await ami.start()
    try:
        assert fake.actions("Login")[0]["Events"] == "off"
        await fake.drop()
        await until(lambda: not ami.connected, DEADLINE_S)
        ami.subscribe("UserEvent", lambda e: None)
        await until(lambda: ami.connected and fake.logins == 2, DEADLINE_S)
        assert fake.actions("Login")[1]["Events"] == "user"
        assert fake.actions("Events") == []
    finally:
        await ami.close()


async def test_other_event_values_are_sent_as_given_and_never_changed(
    fake: FakeAmi, client: AmiClient
) -> None:
    client.subscribe("VarSet", lambda e: None)
    await client.action("Ping")
    assert fake.actions("Login")[0]["Events"] == "on"
    assert fake.actions("Events") == []
