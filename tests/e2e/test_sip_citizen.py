"""Real SIP calls: SIPp dials 1111 on the sandbox's PJSIP, sends RFC 4733 DTMF 2
and is handed to the complaint queue by the server running in this process; a
SIPp agent phone at agent1's address is qualified and answers the call."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from ivr.ami.client import AmiClient
from ivr.ami.events import AnyEvent, QueueCallerJoin
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.store.traces import TraceStore
from tests.until import until

pytestmark = [pytest.mark.sandbox, pytest.mark.sip]

SCENARIO = Path(__file__).with_name("citizen_presses.xml")
AGENT_PHONE = Path(__file__).resolve().parents[2] / "deploy" / "sandbox" / "sipp" / "agent.xml"
DTMF = Path("/usr/share/sip-tester")


def citizen_call(
    settings: Settings, cwd: Path, digit: str = "2"
) -> Awaitable[asyncio.subprocess.Process]:
    """The citizen's phone; it stays in the queue until Asterisk hangs up."""
    return asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{settings.sip_port}",
        "-sf", str(SCENARIO), "-s", "1111",
        "-i", "127.0.0.1", "-p", "5061", "-mp", "16000",
        "-m", "1", "-l", "1", "-nostdin", "-timeout", "120s",
        "-key", "digit_pcap", str(DTMF / f"dtmf_2833_{digit}.pcap"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=cwd,  # SIPp writes its error log into the working folder
    )  # fmt: skip


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (Debian sip-tester) missing")
async def test_sip_caller_presses_2_and_reaches_the_complaint_queue(
    app: HotlineApp, ami: AmiClient, traces: TraceStore, settings: Settings, tmp_path: Path
) -> None:
    joins: list[QueueCallerJoin] = []
    ami.subscribe(QueueCallerJoin, joins.append)
    started = time.time()
    proc = await citizen_call(settings, tmp_path)
    sip_joins: Callable[[], list[QueueCallerJoin]] = lambda: [  # noqa: E731
        j for j in joins if j.channel.startswith("PJSIP/anonymous")
    ]
    await until(sip_joins, within=90.0, what="the SIP citizen in a queue")
    await ami.action("Hangup", Channel=sip_joins()[0].channel)  # the citizen leaves the line
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]

    recent = [t for t in await traces.recent(20) if t.started_at >= started]
    sip = [t for t in recent if t.channel.startswith("PJSIP/anonymous")]
    assert len(sip) == 1, [t.channel for t in recent]
    t = sip[0]
    assert t.outcome == "queue" and t.target == "complaint" and t.topic == "complaint"
    assert t.path == ["main", "2"]
    assert t.prompts[0] == "greeting-1111"
    assert t.caller == "081*****78"  # the From number, masked
    assert any(j.queue == "complaint" and j.channel == t.channel for j in joins)


async def _agent1_status(ami: AmiClient) -> str:
    reply = await ami.action("QueueStatus", Queue="complaint", Member="PJSIP/agent1")
    for item in reply if isinstance(reply, list) else []:
        if item.get("Event") == "QueueMember" and item.get("Location") == "PJSIP/agent1":
            return str(item.get("Status"))
    return ""


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (Debian sip-tester) missing")
async def test_a_sip_phone_at_agent1_is_qualified_and_answers_the_citizen(
    app: HotlineApp, ami: AmiClient, settings: Settings, tmp_path: Path
) -> None:
    """Nobody at 127.0.0.1:5101: agent1 is unavailable (qualify). A SIP phone there
    answers the OPTIONS, becomes available, and takes the citizen's call."""
    deadline = time.monotonic() + 20  # the first qualify comes within seconds of a start
    while await _agent1_status(ami) != "5":  # AST_DEVICE_UNAVAILABLE
        assert time.monotonic() < deadline, "agent1 shows available with no phone there"
        await asyncio.sleep(0.5)
    connects: list[AnyEvent] = []
    ami.subscribe(
        "AgentConnect",
        lambda e: connects.append(e) if e.get("Interface") == "PJSIP/agent1" else None,
    )
    phone = await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(AGENT_PHONE), "-i", "127.0.0.1", "-p", "5101",
        "-mp", "16100", "-nostdin", "-timeout", "90s",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30  # qualify_frequency is 10 s
        while await _agent1_status(ami) != "1":  # AST_DEVICE_NOT_INUSE
            assert time.monotonic() < deadline, "agent1 never became available"
            await asyncio.sleep(0.5)
        proc = await citizen_call(settings, tmp_path)
        await until(lambda: connects, within=90.0, what="agent1's phone answering the citizen")
        # the agent's phone waits for a BYE: the citizen ends the call from Asterisk
        await ami.action("Hangup", Channel=connects[0].get("Channel"))
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
        assert len(connects) == 1  # the SIP phone answered the citizen
    finally:
        if phone.returncode is None:
            phone.terminate()
        await phone.wait()
