"""A callback whose instance went away after the citizen's 1 is never dialled again.

On the real sandbox: instance A (``ivr serve``, a process of its own, the one Asterisk's
``IVR_AGI`` reaches) leads and calls a citizen back; the citizen presses 1, and while
they hear "connecting you" A gets SIGKILL, before it could report the request
connected. The dialplan queues the citizen all the same. Instance B (in this process)
is the survivor: once the claim ends (shortened here to now, with A's lease, rather
than waited for) it leads, closes the request as connected instead of dialling it
again, and lets the agent A held for the citizen go to them.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.ami.events import AnyEvent
from ivr.app import HotlineApp
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.config import Settings
from ivr.store import keys
from ivr.store.callbacks import CallbackStore
from ivr.store.events import EventStore
from tests.failover.killable import free_port, serve
from tests.until import until

pytestmark = pytest.mark.sandbox

QUEUE = "complaint"
NUMBER = "0874440001"  # a simulated citizen who answers and presses 1 after 2 s
AGENT = "Local/accagent@sim-agent/n"
PJSIP_AGENTS = [f"PJSIP/agent{i}" for i in range(1, 5)]
SHARED: dict[str, Any] = {  # both instances (B as Settings, A as IVR_ variables)
    "callback_dial_template": "Local/{number}@sim-citizen",
    "callback_ring_timeout_s": 4,
    "callback_tick_s": 0.3,
    "callback_max_offers": 0,
    "no_agent": "wait",
}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Instance B's: a Redis database of their own, an AGI port Asterisk does not use."""
    return replace(
        settings,
        **SHARED,
        redis_url=settings.redis_url.rsplit("/", 1)[0] + "/14",
        agi_port=settings.agi_port + 1,
        http_port=free_port(),
        instance_id="acc-b",
    )


@dataclass
class Seen:
    """What Asterisk says about the citizen's calls."""

    dialled: Counter[str] = field(default_factory=Counter)  # calls placed to the number
    channels: list[str] = field(default_factory=list)
    connecting: bool = False  # "connecting you" started on the citizen's call
    joined: bool = False  # the citizen joined the queue
    answered: list[str] = field(default_factory=list)  # paths the agent answered

    def on(self, e: AnyEvent) -> None:
        channel, name = e.get("Channel") or "", e.name.lower()
        if (
            name == "newchannel"
            and channel.startswith(f"Local/{NUMBER}@")
            and channel.endswith(";1")
        ):
            self.dialled[NUMBER] += 1
            self.channels.append(channel)
        elif channel not in self.channels and name != "userevent":
            return
        elif name == "agiexecstart" and "callback-connecting" in e.get("Command"):
            self.connecting = True
        elif name == "queuecallerjoin":
            self.joined = True
        elif name == "userevent" and e.get("UserEvent") == "SimAgentAnswered":
            self.answered.append(e.get("Path"))


@pytest.fixture
async def line(ami: AmiClient, redis: Redis) -> AsyncIterator[Seen]:
    """An empty database, one simulated agent in the queue (the sandbox's SIP agents
    paused), and everything the citizen's call saw; all put back after."""
    await redis.flushdb()
    for a in PJSIP_AGENTS:
        await ami.action("QueuePause", Interface=a, Queue=QUEUE, Paused="true")
    await ami.action("QueueAdd", Queue=QUEUE, Interface=AGENT, MemberName="accagent")
    seen = Seen()
    unsubscribe = ami.subscribe("*", seen.on)
    try:
        yield seen
    finally:
        unsubscribe()
        for channel in seen.channels:
            with contextlib.suppress(Exception):
                await ami.action("Hangup", Channel=channel)
        await ami.action("QueueRemove", Queue=QUEUE, Interface=AGENT)
        for a in PJSIP_AGENTS:
            await ami.action("QueuePause", Interface=a, Queue=QUEUE, Paused="false")
        await redis.flushdb()


async def _status(store: CallbackStore, status: CallbackStatus) -> CallbackRequest | None:
    req = await store.get("acc")
    return req if req is not None and req.status is status else None


async def _leads(redis: Redis, instance: str) -> bool:
    return await redis.get(keys.lease("callbacks")) == instance.encode()


@pytest.mark.timeout(120)
async def test_a_callback_whose_instance_died_after_the_1_is_not_dialled_again(
    settings: Settings, base_settings: Settings, redis: Redis, line: Seen, tmp_path: Path
) -> None:
    a = {**SHARED, "agi_port": base_settings.agi_port, "instance_id": "acc-a"}
    async with serve(settings, a, tmp_path / "acc-a.log") as (proc, _):
        await until(lambda: _leads(redis, "acc-a"), 60, "instance A leading the callbacks")
        survivor = HotlineApp(settings)
        await survivor.start()
        try:
            store = CallbackStore(redis)
            now = time.time()
            await store.create(CallbackRequest(
                id="acc", queue=QUEUE, hotline="1111", number=NUMBER,
                arrived_at=now - 60, requested_at=now - 50,
            ))  # fmt: skip
            await until(lambda: line.connecting, 30, "the citizen hearing 'connecting you'")
            proc.send_signal(signal.SIGKILL)  # before A could report it connected
            await proc.wait()
            req = await store.get("acc")
            assert req is not None and req.status is CallbackStatus.DIALING
            assert req.accepted_at > 0 and req.dialing_by == "acc-a"
            await until(lambda: line.joined, 10, "the dialplan queuing the citizen")
            # as time would: A's lease and the claim end now
            await redis.delete(keys.lease("callbacks"))
            await redis.hset(keys.callback("acc"), "dialing_until", repr(time.time()))
            await redis.zadd(keys.CALLBACKS_DIALING, {"acc": time.time()})
            done: CallbackRequest = await until(
                lambda: _status(store, CallbackStatus.CONNECTED), 15, "B closing it connected"
            )
            ticks = survivor.dispatcher.ticks
            await until(lambda: survivor.dispatcher.ticks >= ticks + 3, 10, "B looking again")
            await until(lambda: "callback" in line.answered, 15, "the held agent taking them")
        finally:
            await survivor.stop()
    assert line.dialled[NUMBER] == 1, "dialled once, never again"
    assert (done.attempts, done.last_result) == (1, "answered")
    events = [h["event"] for h in done.history]
    assert events == ["requested", "claimed", "accepted", "connected"]
    assert done.history[-1].get("unreported") is True
    stream = [e for e in await EventStore(redis).since("0-0") if e.data.get("id") == "acc"]
    assert stream[-1].kind == "callback.connected"
