"""Nobody waits for nobody, on the real sandbox: a caller of a queue with nobody
staffed is told so in Thai and offered a callback, which is dialled once an agent
is staffed; a caller who reaches the maximum wait is offered a way out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.callbacks.model import CallbackStatus
from ivr.config import Settings
from ivr.sandbox.pbx import Sandbox
from ivr.store.callbacks import CallbackStore
from ivr.store.events import EventStore
from ivr.store.traces import TraceStore
from tests.integration.conftest import SimCaller
from tests.integration.test_queue_waiting import PJSIP_AGENTS, QUEUE, add_agent, heard_by_channel
from tests.until import until

pytestmark = pytest.mark.sandbox


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # a Redis database of its own; callbacks through simulated citizens, quickly
    return replace(
        settings,
        redis_url=settings.redis_url.rsplit("/", 1)[0] + "/12",
        callback_dial_template="Local/{number}@sim-citizen",
        callback_ring_timeout_s=4,
        callback_tick_s=0.3,
        callback_max_offers=0,  # only the rules offer
        no_agent="callback",
    )


@pytest.fixture
async def empty_queue(ami: AmiClient, redis: Redis) -> AsyncIterator[list[str]]:
    """Every member of the queue paused (the sandbox's SIP agents, and any member an
    earlier test left), nobody waiting; members added here go away, and the members
    paused here are unpaused after."""
    await redis.flushdb()
    reply = await ami.action("QueueStatus", Queue=QUEUE)
    entries = reply if isinstance(reply, list) else []
    for entry in entries:
        if entry.get("Event") == "QueueEntry":
            await ami.action("Hangup", Channel=entry["Channel"])
    members = {
        e.get("Location", "") or e.get("Interface", "")
        for e in entries
        if e.get("Event") == "QueueMember" and e.get("Paused") != "1"
    } | set(PJSIP_AGENTS)
    members.discard("")
    for a in sorted(members):
        await ami.action("QueuePause", Interface=a, Queue=QUEUE, Paused="true")
    await ami.action("Setvar", Variable="IVR_QUEUE_INTERVAL", Value="2")
    added: list[str] = []
    try:
        yield added
    finally:
        for member in added:
            await ami.action("QueueRemove", Queue=QUEUE, Interface=member)
        for a in sorted(members):
            await ami.action("QueuePause", Interface=a, Queue=QUEUE, Paused="false")
        await ami.action("Setvar", Variable="IVR_QUEUE_INTERVAL", Value="30")
        await redis.flushdb()


async def start(settings: Settings) -> HotlineApp:
    app = HotlineApp(settings)
    await app.start()
    return app


@pytest.fixture
async def nobody_app(settings: Settings, sandbox: Sandbox) -> AsyncIterator[HotlineApp]:
    """Paused members count as nobody at once (no grace)."""
    app = await start(replace(settings, paused_grace_s=0, max_wait_s=0))
    try:
        yield app
    finally:
        await app.stop()


async def test_nobody_staffed_callback_booked_then_dialled_once_an_agent_is_staffed(
    nobody_app: HotlineApp, ami: AmiClient, call: SimCaller, empty_queue: list[str], redis: Redis
) -> None:
    heard = heard_by_channel(ami)
    events = EventStore(redis)
    after = await events.last_id()
    # straight into complaint's waiting loop ([sim-queue]: the menus are tested
    # elsewhere); 1 accepts the callback, 1 confirms the number read back; the
    # caller leaves once told it is booked (what follows, "when an officer is
    # available", is tested in tests/unit/test_no_agent_route.py)
    c = await call(
        QUEUE, "11", context="sim-queue", caller="0812345671", limit_s=50,
        until=lambda c: "callback-accepted" in heard.get(c.channel, []),
    )  # fmt: skip
    prompts = heard[c.channel]
    # why first, then the offer
    assert prompts[:2] == ["queue-no-agent", "callback-offer"]
    store = CallbackStore(redis)
    [req] = await store.pending(QUEUE)
    assert req.number == "0812345671"
    # the stream and the call's trace show which rule acted
    [rule] = [e for e in await events.since(after) if e.kind == "caller.rule"]
    assert rule.data == {
        "uniqueid": c.uniqueid, "rule": "no-agent", "action": "callback", "target": "",
    }  # fmt: skip
    # nobody staffed: not dialled; an agent is staffed: dialled
    ticks = nobody_app.dispatcher.ticks
    await until(lambda: nobody_app.dispatcher.ticks >= ticks + 2, what="two dispatcher ticks")
    agents = {a.interface: (str(a.state), a.paused_reason) for a in
              nobody_app.live.states[QUEUE].agents.values()}  # fmt: skip
    assert [r.status for r in await store.pending(QUEUE)] == [CallbackStatus.PENDING], agents
    citizen = asyncio.ensure_future(
        ami.wait_event(
            lambda e: (
                e.name == "Newchannel"
                and e.get("Channel", "").startswith("Local/0812345671@sim-citizen")
            ),
            timeout=15,
        )
    )
    await add_agent(ami, empty_queue, "noagent1")
    rung = await citizen  # the dispatcher calls the citizen back
    got = await store.get(req.id)
    assert got is not None and got.status is CallbackStatus.DIALING and got.attempts == 1
    await ami.action("Hangup", Channel=rung.get("Channel"))  # (the rest: test_queue_waiting)
    traces = TraceStore(redis, 3600)

    async def traced() -> list[str] | None:
        trace = await traces.get(c.uniqueid)
        steps = [s.detail for s in trace.steps if s.kind == "rule"] if trace else []
        return steps or None

    assert await until(traced, 10) == ["no-agent callback"]


async def test_the_maximum_wait_offers_a_callback(
    settings: Settings, sandbox: Sandbox, ami: AmiClient, empty_queue: list[str]
) -> None:
    # the SIP agents are on a break (staffed for the grace); the caller comes
    # straight into the queue having waited 60 s already (an overflow, say): the
    # maximum wait, 30 s, acts at once
    app = await start(replace(settings, paused_grace_s=3600, max_wait_s=30))
    try:
        heard = heard_by_channel(ami)
        await ami.originate(
            "Local/s@sim-caller", "sim-queue", QUEUE, variables={"SIM_WAITED": "60"}
        )

        def offered() -> str | None:
            return next((ch for ch, p in heard.items() if "callback-offer" in p), None)

        channel: str = await until(offered, 20, what="the callback offer")
        assert heard[channel][:2] == ["queue-max-wait", "callback-offer"]
        await ami.action("Hangup", Channel=channel)
    finally:
        await app.stop()
