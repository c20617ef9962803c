"""Listening to a call on the real sandbox: a simulated citizen is answered by a
simulated agent; a supervisor asks to listen, whisper and barge in turn. Asterisk
calls the sandbox's supervisor phone, whose answered half runs ``ChanSpy`` on the
agent's channel (``ChanSpyStart``) with the options of the mode (its ``Newexten``);
a phone Asterisk cannot call is a 502 with Asterisk's word."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from ivr.ami.client import AmiClient
from ivr.ami.events import AnyEvent
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.store.audit import AuditLog
from tests.integration.conftest import SimCaller
from tests.integration.test_queue_waiting import (
    QUEUE,
    add_agent,
    quiet_queue,  # noqa: F401  (fixture)
)
from tests.integration.test_supervisor_actions import api_post
from tests.until import until

pytestmark = pytest.mark.sandbox

PHONE = "Local/supervisor1@sim-supervisor"
NO_SUCH_PHONE = "PJSIP/nosuchphone"  # configured, but no such endpoint in pjsip.conf
OPTIONS = {"listen": "q", "whisper": "qw", "barge": "qB"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(
        settings,
        redis_url=settings.redis_url.rsplit("/", 1)[0] + "/10",
        api_supervisor_phones=(NO_SUCH_PHONE, PHONE),
        callback_max_offers=0,
    )


@pytest.fixture
async def long_talks(ami: AmiClient) -> AsyncIterator[None]:
    """Simulated agents talk for a minute (the global SIM_TALK), not 5 s."""
    await ami.action("Setvar", Variable="SIM_TALK", Value="60")
    try:
        yield
    finally:
        await ami.action("Setvar", Variable="SIM_TALK", Value="")


def collect(ami: AmiClient, *names: str) -> list[AnyEvent]:
    seen: list[AnyEvent] = []
    for name in names:
        ami.subscribe(name, seen.append)
    return seen


@pytest.mark.usefixtures("long_talks")
async def test_supervisor_listens_whispers_and_barges(
    app: HotlineApp,
    ami: AmiClient,
    call: SimCaller,
    quiet_queue: list[str],  # noqa: F811  (the fixture)
) -> None:
    member = await add_agent(ami, quiet_queue, "spyagent")
    path = "/api/agents/" + member.replace("/", "%2F").replace("@", "%40") + "/spy"
    status, body = await api_post(app, path, {"mode": "listen", "phone": PHONE})
    assert status == 409 and body["error"]["id"] == "agent-not-on-call", body

    seen = collect(ami, "ChanSpyStart", "ChanSpyStop", "Newexten")
    c = await call("1111", "2", keep=True, until=lambda c: bool(c.queue))
    try:
        channel = await until(
            lambda: _channel(app, member),
            within=20,
            what="the agent answered and its channel known",
        )
        assert channel.startswith("Local/spyagent@sim-agent-")
        for mode, options in OPTIONS.items():
            await _spy(app, ami, path, mode, options, channel, seen)
        # a call that started before the server did: Asterisk's channel list finds it
        app.live.states[QUEUE].agents[member].channel = ""
        await _spy(app, ami, path, "listen", "q", channel, seen)
        # a phone Asterisk does not know: it cannot call it, and says so at once
        status, body = await api_post(app, path, {"mode": "listen", "phone": NO_SUCH_PHONE})
        assert status == 502 and body["error"]["id"] == "asterisk-refused", body
        assert NO_SUCH_PHONE in body["error"]["message"]
    finally:
        await ami.action("Hangup", Channel=c.channel)

    entries = await AuditLog(app.redis).recent(10)
    assert [(e.action, e.result) for e in entries if e.action == "spy"] == [
        ("spy", "asterisk-refused"),
        ("spy", "ok"),
        ("spy", "ok"),
        ("spy", "ok"),
        ("spy", "ok"),
        ("spy", "agent-not-on-call"),
    ]


def _channel(app: HotlineApp, member: str) -> str:
    state = app.live.states.get(QUEUE)
    agent = state.agents.get(member) if state is not None else None
    return agent.channel if agent is not None else ""


async def _spy(
    app: HotlineApp,
    ami: AmiClient,
    path: str,
    mode: str,
    options: str,
    channel: str,
    seen: list[AnyEvent],
) -> None:
    """One request: the supervisor's phone spies on ``channel`` with ``options``."""
    start = len(seen)
    status, body = await api_post(app, path, {"mode": mode, "phone": PHONE})
    assert status == 200, body
    assert body == {
        "agent": path.split("/")[3].replace("%2F", "/").replace("%40", "@"),
        "mode": mode,
        "phone": PHONE,
        "spy_channel": channel,
        "status": "ringing",
    }

    def spying() -> AnyEvent | None:
        return next((e for e in seen[start:] if e.name == "ChanSpyStart"), None)

    started = await until(spying, within=15, what=f"ChanSpyStart ({mode})")
    spyer = started.get("SpyerChannel")
    assert started.get("SpyeeChannel") == channel
    assert spyer.startswith(PHONE + "-") and spyer.endswith(";1")
    runs = [
        e.get("AppData")
        for e in seen[start:]
        if e.name == "Newexten" and e.get("Channel") == spyer and e.get("Application") == "ChanSpy"
    ]
    assert runs == [f"{channel},{options}E"]

    await ami.action("Hangup", Channel=spyer)

    def stopped() -> bool:
        return any(e.name == "ChanSpyStop" and e.get("SpyerChannel") == spyer for e in seen)

    await until(stopped, within=10, what=f"ChanSpyStop ({mode})")
