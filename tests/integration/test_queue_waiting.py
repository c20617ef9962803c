"""Queues on the real sandbox: Thai place announcements, places kept across
announcements, callback offers, callbacks placed, retried, kept across restarts
and placed once by two instances."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.ami.events import AGIExecStart
from ivr.app import HotlineApp
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.config import Settings
from ivr.sandbox.pbx import Sandbox
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenStore
from tests.integration.conftest import SimCaller
from tests.integration.sim import agent_answers
from tests.until import until

pytestmark = pytest.mark.sandbox

QUEUE = "complaint"
PJSIP_AGENTS = [f"PJSIP/agent{i}" for i in range(1, 5)]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # a Redis database of its own, fast callbacks through simulated citizens
    return replace(
        settings,
        redis_url=settings.redis_url.rsplit("/", 1)[0] + "/13",
        callback_dial_template="Local/{number}@sim-citizen",
        callback_ring_timeout_s=4,
        callback_retry_delay_s=1,
        callback_max_attempts=2,
        callback_tick_s=0.3,
        callback_threshold_s=-1,  # offer whenever an estimate is known
    )


@pytest.fixture
async def quiet_queue(ami: AmiClient, redis: Redis) -> AsyncIterator[list[str]]:
    """No SIP agent takes calls; announcements every 3 s; members added here go away."""
    await redis.flushdb()
    # an empty line to start with: callers left by earlier tests are hung up
    reply = await ami.action("QueueStatus", Queue=QUEUE)
    for entry in reply if isinstance(reply, list) else []:
        if entry.get("Event") == "QueueEntry":
            await ami.action("Hangup", Channel=entry["Channel"])
    for a in PJSIP_AGENTS:
        await ami.action("QueuePause", Interface=a, Queue=QUEUE, Paused="true")
    await ami.action("Setvar", Variable="IVR_QUEUE_INTERVAL", Value="3")
    added: list[str] = []
    try:
        yield added
    finally:
        for member in added:
            await ami.action("QueueRemove", Queue=QUEUE, Interface=member)
        for a in PJSIP_AGENTS:
            await ami.action("QueuePause", Interface=a, Queue=QUEUE, Paused="false")
        await ami.action("Setvar", Variable="IVR_QUEUE_INTERVAL", Value="30")
        await redis.flushdb()


async def add_agent(ami: AmiClient, added: list[str], name: str, paused: bool = False) -> str:
    member = f"Local/{name}@sim-agent/n"
    await ami.action(
        "QueueAdd", Queue=QUEUE, Interface=member, MemberName=name,
        Paused="true" if paused else "false",
    )  # fmt: skip
    added.append(member)
    return member


def heard_by_channel(ami: AmiClient) -> dict[str, list[str]]:
    heard: dict[str, list[str]] = {}

    def on(e: AGIExecStart) -> None:
        m = re.search(r"STREAM FILE \"?ivr/([\w-]+)", e.command)
        if m:
            heard.setdefault(e.channel, []).append(m.group(1))

    # subscribed by name, the handler gets the typed AGIExecStart record all the same
    ami.subscribe("AGIExecStart", on)  # type: ignore[arg-type]
    return heard


def places_said(prompts: list[str]) -> list[int]:
    """The places announced: queue-position num-N … queue-position-end."""
    out, i = [], 0
    while i < len(prompts):
        if prompts[i] == "queue-position":
            if "queue-position-end" not in prompts[i:]:
                break  # an announcement still being played
            j = prompts.index("queue-position-end", i)
            words = prompts[i + 1 : j]
            out.append(int(words[0].removeprefix("num-")) if len(words) == 1 else -1)
            i = j
        i += 1
    return out


@pytest.fixture
async def app_no_offers(settings: Settings, sandbox: Sandbox) -> AsyncIterator[HotlineApp]:
    """The server without callback offers: callers only listen and wait."""
    a = HotlineApp(replace(settings, callback_max_offers=0))
    await a.start()
    try:
        yield a
    finally:
        await a.stop()


async def test_three_callers_hear_places_1_2_3_and_keep_them(
    app_no_offers: HotlineApp, ami: AmiClient, call: SimCaller, quiet_queue: list[str]
) -> None:
    app = app_no_offers
    heard = heard_by_channel(ami)
    calls = [
        await call("1111", "2", keep=True, caller=f"081234560{i}", until=lambda c: bool(c.queue))
        for i in range(3)
    ]
    channels = [c.channel for c in calls]
    try:
        # several turns of the waiting loop (3 s each) go by: each caller's first
        # announcement and at least one more round of the queue-wait route each
        # (the FastAGI calls: three hotline menus, then the queue-wait rounds)
        await until(
            lambda: (
                all(places_said(heard.get(ch, [])) for ch in channels)
                and app.agi.stats["calls_started"] >= 3 + 2 * 3
            ),
            what="every caller told its place and back for another round",
        )
        assert [places_said(heard[ch])[0] for ch in channels] == [1, 2, 3]

        # Asterisk's own queue holds them in arrival order after re-entering (asked
        # at a moment when none of them is out for its turn in the queue-wait route)
        async def in_queue() -> list[str] | None:
            # QueueStatus is a list action: its reply is a list of entries
            reply: list[dict[str, str]] = await ami.action("QueueStatus", Queue=QUEUE)  # type: ignore[assignment]
            entries = [r for r in reply if r.get("Event") == "QueueEntry"]
            order = [e["Channel"] for e in sorted(entries, key=lambda e: int(e["Position"]))]
            ours = [ch for ch in order if ch in channels]
            return ours if len(ours) == len(channels) else None

        assert await until(in_queue, 10) == channels
        loops = sum(1 for p in heard[channels[0]] if p == "queue-position")
        assert loops == 1, "no news, no repeated announcement"
        # supervisors see the same line through the API (masked numbers)
        detail = await api_get(app, f"/api/queues/{QUEUE}")
        assert [c["place"] for c in detail["callers"]] == [1, 2, 3]
        assert [c["number"] for c in detail["callers"]] == [f"081*****0{i}" for i in range(3)]
        summary = await api_get(app, "/api/queues")
        [mine] = [q for q in summary["queues"] if q["name"] == QUEUE]
        assert mine["callers_waiting"] == 3 and mine["agents"]["paused"] == 4
        # the first caller leaves: the others are told their new places
        await ami.action("Hangup", Channel=channels[0])
        await until(
            lambda: (
                places_said(heard[channels[1]])[-1] == 1
                and places_said(heard[channels[2]])[-1] == 2
            ),
            what="the two callers left told their new places 1 and 2",
        )
    finally:
        for ch in channels[1:]:
            await ami.action("Hangup", Channel=ch)


async def api_get(app: HotlineApp, path: str) -> dict[str, Any]:
    """GET on the server's own HTTP port with a fresh supervisor token."""
    token, _ = await TokenStore(app.redis).create("supervisor", "test")
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"http://{host}:{port}{path}", headers={"Authorization": f"Bearer {token}"}
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body


async def test_pending_callbacks_hold_places(
    app: HotlineApp, ami: AmiClient, call: SimCaller, quiet_queue: list[str], redis: Redis
) -> None:
    store = CallbackStore(redis)
    now = time.time()
    for i in range(3):
        await store.create(CallbackRequest(
            id=f"held{i}", queue=QUEUE, hotline="1111", number=f"08987654{i}9",
            arrived_at=now - 100 + i, requested_at=now - 90 + i,
        ))  # fmt: skip
    heard = heard_by_channel(ami)
    c = await call("1111", "2", keep=True, caller="0812345699", until=lambda c: bool(c.queue))
    try:
        assert places_said(heard[c.channel]) == [4]  # behind three callbacks
    finally:
        await ami.action("Hangup", Channel=c.channel)


async def test_callback_offered_accepted_and_the_citizen_is_connected(
    app: HotlineApp, ami: AmiClient, call: SimCaller, quiet_queue: list[str], redis: Redis
) -> None:
    await add_agent(ami, quiet_queue, "cbagent1")
    answered = agent_answers(ami, "callback")
    heard = heard_by_channel(ami)
    # 2 = complaint; then 1 accepts the callback offer, 1 confirms the number read back
    c = await call("1111", "211", caller="0812345670", until=lambda c: c.hung_up, limit_s=90)
    prompts = heard[c.channel]
    assert "callback-offer" in prompts
    # the number was read back digit by digit
    i = prompts.index("callback-number")
    assert prompts[i + 1 : i + 11] == [f"num-{d}" for d in "0812345670"]
    assert prompts.index("callback-pdpa") < prompts.index("callback-accepted")
    assert prompts[-1] == "goodbye"
    assert not c.queue  # the caller left the line; the place is kept by the callback
    store = CallbackStore(redis)
    [req] = await store.list_recent(QUEUE)
    assert req.number == "0812345670" and req.call_uniqueid == c.uniqueid
    # the dispatcher calls back, the citizen presses 1 and reaches the agent
    ev = await answered
    assert ev.get("Topic") == "complaint"
    done: CallbackRequest = await until(lambda: _status(store, req.id, CallbackStatus.CONNECTED))
    assert done.attempts == 1


async def _status(
    store: CallbackStore, cb_id: str, status: CallbackStatus
) -> CallbackRequest | None:
    req = await store.get(cb_id)
    return req if req is not None and req.status is status else None


async def test_no_answer_is_retried_then_failed(
    app: HotlineApp, ami: AmiClient, quiet_queue: list[str], redis: Redis
) -> None:
    await add_agent(ami, quiet_queue, "cbagent2")
    store = CallbackStore(redis)
    now = time.time()
    await store.create(CallbackRequest(
        id="noanswer", queue=QUEUE, hotline="1111", number="0898765439",  # 9: never answers
        arrived_at=now - 60, requested_at=now - 50,
    ))  # fmt: skip
    failed: CallbackRequest = await until(
        lambda: _status(store, "noanswer", CallbackStatus.FAILED), 40
    )
    assert failed.attempts == 2
    assert failed.last_result in ("no-answer", "failed")
    claims = [h for h in failed.history if h.get("event") == "claimed"]
    assert len(claims) == 2


async def test_restart_with_pending_callbacks_loses_none(
    settings: Settings, sandbox: Sandbox, ami: AmiClient, quiet_queue: list[str], redis: Redis
) -> None:
    member = await add_agent(ami, quiet_queue, "cbagent3", paused=True)
    first = HotlineApp(settings)
    await first.start()
    store = CallbackStore(redis)
    now = time.time()
    for i in range(2):
        await store.create(CallbackRequest(
            id=f"kept{i}", queue=QUEUE, hotline="1111", number=f"08765432{i}0",
            arrived_at=now - 60 + i, requested_at=now - 50 + i,
        ))  # fmt: skip
    ticked = first.dispatcher.ticks
    await until(lambda: first.dispatcher.ticks >= ticked + 2, what="the dispatcher looked twice")
    await first.stop()  # a restart: nothing was dialled (no agent free)
    assert [r.status for r in await store.pending(QUEUE)] == [CallbackStatus.PENDING] * 2
    second = HotlineApp(settings)
    await second.start()
    try:
        await ami.action("QueuePause", Interface=member, Queue=QUEUE, Paused="false")
        for i in range(2):
            req: CallbackRequest = await until(
                lambda i=i: _status(store, f"kept{i}", CallbackStatus.CONNECTED), 60
            )
            assert req.attempts == 1
    finally:
        await second.stop()


async def test_the_agent_is_held_for_the_callback_while_the_citizen_is_rung(
    app_no_offers: HotlineApp, ami: AmiClient, quiet_queue: list[str], redis: Redis
) -> None:
    """A live caller who comes while a slow citizen is being asked for 1 does not
    take the agent counted for the callback: the citizen reaches it first."""
    member = await add_agent(ami, quiet_queue, "holdagent", paused=True)
    answered: asyncio.Queue[str] = asyncio.Queue()
    ami.subscribe(
        "UserEvent",
        lambda e: answered.put_nowait(e.get("Path"))
        if e.get("UserEvent") == "SimAgentAnswered" else None,
    )  # fmt: skip
    pauses: list[tuple[str, str]] = []
    ami.subscribe(
        "QueueMemberPause",
        lambda e: pauses.append((e.get("Paused"), e.get("PausedReason") or e.get("Reason")))
        if e.get("Interface") == member else None,
    )  # fmt: skip
    store = CallbackStore(redis)
    now = time.time()
    await store.create(CallbackRequest(
        id="held", queue=QUEUE, hotline="1111", number="0851234567",  # 7: presses after 12 s
        arrived_at=now - 120, requested_at=now - 110,
    ))  # fmt: skip
    citizen = asyncio.ensure_future(
        ami.wait_event(
            lambda e: e.name == "Newchannel" and e.get("Channel", "").startswith(
                "Local/0851234567@sim-citizen"),
            timeout=20,
        )
    )  # fmt: skip
    await ami.action("QueuePause", Interface=member, Queue=QUEUE, Paused="false")
    await citizen  # the dispatcher rings the citizen, who will take 12 s to press 1
    # a live caller arrives now, straight into the queue, while the agent is free in fact
    await ami.originate(
        "Local/s@sim-caller", "ivr-queue", "s",
        variables={"IVR_QUEUE": QUEUE, "IVR_PATH": "live", "SIM_HOLD": "60"},
    )  # fmt: skip
    first = await asyncio.wait_for(answered.get(), 40)
    assert first == "callback"  # the citizen called back, not the live caller
    assert ("1", "ivr-callback:held") in pauses  # because the agent was held for them
    req: CallbackRequest = await until(lambda: _status(store, "held", CallbackStatus.CONNECTED), 10)
    assert req.attempts == 1
    assert pauses[-1][0] == "0" or ("0", "") in pauses  # the agent went back to work
    second = await asyncio.wait_for(answered.get(), 40)
    assert second == "live"  # and then took the live caller


async def test_two_instances_place_each_callback_once(
    settings: Settings, sandbox: Sandbox, ami: AmiClient, quiet_queue: list[str], redis: Redis
) -> None:
    for n in range(3):
        await add_agent(ami, quiet_queue, f"cbagent{4 + n}", paused=True)
    dialled: list[str] = []
    # subscribed by name, the lambda gets the typed Newchannel record, which has a
    # channel; mypy sees the name overload's AnyEvent (a lambda cannot be annotated)
    ami.subscribe(
        "Newchannel",
        lambda e: (
            dialled.append(e.channel)  # type: ignore[union-attr]
            if e.channel.startswith("Local/")  # type: ignore[union-attr]
            and "@sim-citizen" in e.channel  # type: ignore[union-attr]
            and e.channel.endswith(";1")  # type: ignore[union-attr]
            else None
        ),
    )
    apps = [
        HotlineApp(replace(settings, instance_id="one")),
        HotlineApp(replace(settings, instance_id="two", agi_port=settings.agi_port + 1)),
    ]
    for a in apps:
        await a.start()
    store = CallbackStore(redis)
    now = time.time()
    numbers = [f"0861234{n}00" for n in range(3)]
    try:
        for n, number in enumerate(numbers):
            await store.create(CallbackRequest(
                id=f"once{n}", queue=QUEUE, hotline="1111", number=number,
                arrived_at=now - 60 + n, requested_at=now - 50 + n,
            ))  # fmt: skip
        for member in quiet_queue:
            await ami.action("QueuePause", Interface=member, Queue=QUEUE, Paused="false")
        for n in range(3):
            await until(lambda n=n: _status(store, f"once{n}", CallbackStatus.CONNECTED), 60)
        # both dispatchers look again (a second placement would show now)
        after = [a.dispatcher.ticks for a in apps]
        await until(
            lambda: all(a.dispatcher.ticks >= t + 2 for a, t in zip(apps, after, strict=True)),
            what="two more ticks of each dispatcher",
        )
        for number in numbers:
            assert sum(1 for ch in dialled if ch.startswith(f"Local/{number}@")) == 1
        assert sum(a.dispatcher.originated for a in apps) == 3
    finally:
        for a in apps:
            await a.stop()
