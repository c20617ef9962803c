"""A real SIP call: SIPp dials 1111 on the sandbox's PJSIP, sends RFC 4733 DTMF 2
and is handed to the complaint queue by the server running in this process."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from ivr.ami.events import QueueCallerJoin
from ivr.app import HotlineApp

pytestmark = [pytest.mark.sandbox, pytest.mark.sip]

SCENARIO = Path(__file__).with_name("citizen_presses.xml")
DTMF = Path("/usr/share/sip-tester")


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (Debian sip-tester) missing")
async def test_sip_caller_presses_2_and_reaches_the_complaint_queue(
    app: HotlineApp, ami, traces, settings
) -> None:
    joins: list[QueueCallerJoin] = []
    ami.subscribe(QueueCallerJoin, joins.append)
    started = time.time()
    proc = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{settings.sip_port}",
        "-sf", str(SCENARIO), "-s", "1111",
        "-i", "127.0.0.1", "-p", "5061", "-mp", "16000",
        "-m", "1", "-l", "1", "-nostdin", "-timeout", "40s",
        "-key", "digit_pcap", str(DTMF / "dtmf_2833_2.pcap"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
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
