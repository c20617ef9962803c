"""A real SIP callback: the dispatcher dials ``PJSIP/<number>@pstn`` (the default
dial template), a SIPp phone behind the trunk answers, presses 1 in RFC 4733,
and the citizen reaches an agent with the topic of the original call."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.config import Settings
from ivr.store.callbacks import CallbackStore
from tests.integration.sim import agent_answers

pytestmark = [pytest.mark.sandbox, pytest.mark.sip]

PHONE = Path(__file__).with_name("citizen_answers.xml")
DTMF = Path("/usr/share/sip-tester")
QUEUE = "complaint"
PJSIP_AGENTS = [f"PJSIP/agent{i}" for i in range(1, 5)]
AGENT = "Local/sipcbagent@sim-agent/n"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # a Redis database of its own; the trunk and dial template stay the shipped ones
    assert settings.callback_dial_template == "PJSIP/{number}@pstn"
    return replace(
        settings,
        redis_url=settings.redis_url.rsplit("/", 1)[0] + "/12",
        callback_tick_s=0.3,
        callback_ring_timeout_s=20,
    )


@pytest.fixture
async def one_local_agent(ami: AmiClient, redis: Redis) -> AsyncIterator[str]:
    """The complaint queue with one simulated agent (paused until the test frees it)."""
    await redis.flushdb()
    for a in PJSIP_AGENTS:
        await ami.action("QueuePause", Interface=a, Queue=QUEUE, Paused="true")
    await ami.action(
        "QueueAdd", Queue=QUEUE, Interface=AGENT, MemberName="sipcbagent", Paused="true"
    )
    try:
        yield AGENT
    finally:
        await ami.action("QueueRemove", Queue=QUEUE, Interface=AGENT)
        for a in PJSIP_AGENTS:
            await ami.action("QueuePause", Interface=a, Queue=QUEUE, Paused="false")
        await redis.flushdb()


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (Debian sip-tester) missing")
async def test_a_callback_rings_a_sip_phone_on_the_trunk_and_reaches_the_agent(
    app: HotlineApp, ami: AmiClient, redis: Redis, one_local_agent: str, tmp_path: Path
) -> None:
    answered = agent_answers(ami, "callback")
    phone = await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(PHONE), "-i", "127.0.0.1", "-p", "5090", "-mp", "16200",
        "-m", "1", "-nostdin", "-timeout", "90s",
        "-key", "digit_pcap", str(DTMF / "dtmf_2833_1.pcap"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,  # SIPp writes its error log into the working folder
    )  # fmt: skip
    try:
        store = CallbackStore(redis)
        now = time.time()
        await store.create(CallbackRequest(
            id="sip", queue=QUEUE, hotline="1111", number="0812345678", topic="complaint",
            arrived_at=now - 60, requested_at=now - 50,
        ))  # fmt: skip
        await ami.action("QueuePause", Interface=one_local_agent, Queue=QUEUE, Paused="false")
        ev = await answered  # the citizen pressed 1 on a SIP phone and reached the agent
        assert ev.get("Topic") == "complaint"
        req = await store.get("sip")
        assert req is not None and req.status is CallbackStatus.CONNECTED
        assert req.attempts == 1
        out, _ = await asyncio.wait_for(phone.communicate(), 60)  # the hotline hung up
        assert phone.returncode == 0, out.decode(errors="replace")[-2000:]
    finally:
        answered.cancel()
        if phone.returncode is None:
            phone.kill()
            await phone.wait()
