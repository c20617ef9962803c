"""Record the raw AMI byte stream of the sandbox under SIP calls, for bench.ami_events.

SIPp citizens call hotline 1111 over SIP (RTP echoed back, so Asterisk reports
RTCP as on a real line), walk its menu with SIP INFO digits (9, 9, 9: the main
menu again and again, then 2: into the ``complaint`` queue), wait in the queue and
hang up; one SIPp agent (agent1) answers queue calls. The hotline server runs in
this process, as ``ivr serve`` would. A separate AMI session logged in as the
sandbox's user (``read = all``, every event on) writes every byte Asterisk sends
it, as read, to a gzip file: what a server whose AMI user receives everything has
to read.

    .venv/bin/python -m bench.record_stream [--calls 30] [--rate 2] [--hold 30]
        [--out tests/fixtures/ami/stream-1111.ami.gz]

Needs the sandbox up (``ivr sandbox up``), ``sipp`` (Debian ``sip-tester``) and
no ``ivr serve`` on the AGI port. The callers are anonymous (``sipp``): the
stream holds no phone number (:func:`scrub` replaces anything like one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import re
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Final

from ivr.app import HotlineApp
from ivr.config import PROJECT_ROOT, Settings, load_settings

OUT: Final = PROJECT_ROOT / "tests" / "fixtures" / "ami" / "stream-1111.ami.gz"
AGENT_XML: Final = PROJECT_ROOT / "deploy" / "sandbox" / "sipp" / "agent.xml"

#: A citizen: INVITE 1111, the greeting, 9 9 9 (the menu again), 2 (complaint
#: queue), HOLD seconds in the queue, BYE. Digits are SIP INFO (application/dtmf-relay).
CITIZEN_XML: Final = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="citizen">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=citizen 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
@@DIGITS@@
  <pause milliseconds="@@HOLD_MS@@"/>
  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 20 BYE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"""

DIGIT_XML: Final = """  <pause milliseconds="@@WAIT_MS@@"/>
  <send retrans="500"><![CDATA[
INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: @@CSEQ@@ INFO
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=@@DIGIT@@
Duration=160
]]></send>
  <recv response="200"/>
"""

#: (digit, seconds into the prompt before pressing it)
WALK: Final = (("9", 3.0), ("9", 2.0), ("9", 2.0), ("2", 2.0))

#: a Thai phone number (0 and 8 to 9 more digits) as a whole word, but not the
#: escape digits of STREAM FILE ("0123456789*#")
PHONE = re.compile(rb"(?<![0-9.])(?!0123456789)0[0-9]{8,9}(?![0-9.])")


def citizen_xml(hold_s: float) -> str:
    steps = [
        DIGIT_XML.replace("@@WAIT_MS@@", str(int(wait * 1000)))
        .replace("@@CSEQ@@", str(2 + i))
        .replace("@@DIGIT@@", digit)
        for i, (digit, wait) in enumerate(WALK)
    ]
    return CITIZEN_XML.replace("@@DIGITS@@", "".join(steps)).replace(
        "@@HOLD_MS@@", str(int(hold_s * 1000))
    )


def scrub(stream: bytes) -> tuple[bytes, int]:
    """The stream with every phone-like number replaced by as many X (stale channels
    of other test runs can carry the sandbox's made-up numbers), and how many."""
    found = PHONE.findall(stream)
    return PHONE.sub(lambda m: b"X" * len(m[0]), stream), len(found)


async def _record(s: Settings, into: list[bytes], ready: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection(s.ami_host, s.ami_port)
    login = (
        f"Action: Login\r\nUsername: {s.ami_username}\r\nSecret: {s.ami_secret}\r\n"
        "Events: on\r\nActionID: record-1\r\n\r\n"
    )
    writer.write(login.encode())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            into.append(data)
            ready.set()
    finally:
        writer.close()


def _sipp(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["sipp", *args, "-nostdin", "-trace_err", "-error_file", "/dev/null"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _save(out: Path, stream: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(stream, 9, mtime=0))


async def main(calls: int, rate: float, hold_s: float, out: Path) -> None:
    s = load_settings()
    app = HotlineApp(replace(s, http_port=0))
    await app.start()
    chunks: list[bytes] = []
    ready = asyncio.Event()
    recorder = asyncio.ensure_future(_record(s, chunks, ready))
    await asyncio.wait_for(ready.wait(), 10)
    work = Path(tempfile.mkdtemp(prefix="bench-sipp-"))
    (work / "citizen.xml").write_text(citizen_xml(hold_s), encoding="utf-8")
    target = f"{s.ami_host}:{s.sip_port}"
    agent = _sipp(["-sf", str(AGENT_XML), "-i", "127.0.0.1", "-p", "5101", "-mp", "16100"])
    t0 = time.monotonic()
    try:
        citizens = _sipp(
            ["-sf", str(work / "citizen.xml"), "-s", "1111", target, "-i", "127.0.0.1",
             "-p", "5070", "-mp", "16200", "-rtp_echo", "-m", str(calls), "-r", str(rate),
             "-l", str(calls)]
        )  # fmt: skip
        code = await asyncio.to_thread(citizens.wait, 60 + calls / rate + hold_s * 2)
        await asyncio.sleep(3)  # the last hangups' events
    finally:
        agent.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            agent.wait(5)
        recorder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await recorder
        await app.stop()
    stream, scrubbed = scrub(b"".join(chunks))
    _save(out, stream)
    print(
        f"{calls} calls (sipp exit {code}) in {time.monotonic() - t0:.0f} s: "
        f"{len(stream)} bytes, {stream.count(b'Event: ')} events, {scrubbed} phone-like"
        f" numbers scrubbed -> {out}"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--calls", type=int, default=30)
    p.add_argument("--rate", type=float, default=2.0, help="new calls a second")
    p.add_argument("--hold", type=float, default=30.0, help="seconds in the queue")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args()
    asyncio.run(main(a.calls, a.rate, a.hold, a.out))
