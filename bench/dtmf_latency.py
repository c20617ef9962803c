"""Time from a DTMF digit to the start of the next prompt, on the sandbox.

A simulated citizen presses 1 a few hundred times in a menu whose option 1 plays
an information page (and every key interrupts). Both ends are timestamped by
Asterisk itself (``timestampevents``): the ``DTMFEnd`` of the digit and the start
of the next prompt (``AGIExecStart`` of ``STREAM FILE`` for this server,
``Newexten`` of ``Background`` for the baseline: the same step done by the
dialplan alone, with no application server).

    .venv/bin/python -m bench.dtmf_latency [--steps 300] [--calls 6]

Needs the sandbox up (``ivr sandbox up``) and no ``ivr serve`` on the AGI port:
the server under test runs in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from ivr.ami.client import AmiClient, AmiError
from ivr.ami.events import AnyEvent
from ivr.app import HotlineApp
from ivr.config import PROJECT_ROOT, load_settings

QUICK = (
    ("greeting: greeting-1111", "greeting: back"),
    ("prompt: menu-main-1111", "prompt: transfer-to-queue"),
    ("info: info-services-1111", "info: back"),
)


def _prompt_start(e: AnyEvent) -> bool:
    if e.name == "AGIExecStart":
        return e.get("Command").upper().startswith("STREAM FILE")
    return e.name == "Newexten" and e.get("Application").lower() == "background"


async def _one_call(
    ami: AmiClient, context: str, exten: str, presses: int, delay: float, digits: str
) -> list[float]:
    events: asyncio.Queue[AnyEvent] = asyncio.Queue()
    unsub = ami.subscribe("*", events.put_nowait)
    action_id = f"bench-{uuid.uuid4().hex}"
    answered = asyncio.ensure_future(
        ami.wait_event(
            lambda e: e.name == "OriginateResponse" and e.get("ActionID") == action_id, 15
        )
    )
    await ami.originate(
        "Local/s@sim-caller", context, exten, variables={"SIM_HOLD": "600"}, action_id=action_id
    )
    resp = await answered
    chan = resp.get("Channel")
    leg = chan[:-2] + ";2"
    latencies: list[float] = []
    pressed_at: float | None = None
    done = 0
    try:
        while done < presses:
            e = await asyncio.wait_for(events.get(), 30)
            if e.get("Channel") != chan:
                continue
            if e.name == "DTMFEnd" and e.get("Direction") == "Received":
                pressed_at = e.timestamp
            elif _prompt_start(e):
                if pressed_at is not None and e.timestamp is not None:
                    latencies.append(e.timestamp - pressed_at)
                    pressed_at = None
                    done += 1
                await asyncio.sleep(delay)
                digit = digits[done % len(digits)]
                await ami.action("PlayDTMF", Channel=leg, Digit=digit, Duration=80)
    finally:
        unsub()
        with contextlib.suppress(AmiError):
            await ami.action("Hangup", Channel=chan)
    return latencies


def _summary(name: str, xs: list[float]) -> str:
    ms = sorted(x * 1000 for x in xs)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{name:<34} n={len(ms):4d}  median {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms"


async def main(steps: int, calls: int, delay: float) -> None:
    settings = load_settings()
    work = Path(tempfile.mkdtemp(prefix="bench-")) / "dialplans"
    shutil.copytree(PROJECT_ROOT / "dialplans", work)
    hotline = work / "hotlines" / "1111.yaml"
    text = hotline.read_text(encoding="utf-8")
    for old, new in QUICK:
        text = text.replace(old, new)
    hotline.write_text(text, encoding="utf-8")
    app = HotlineApp(replace(settings, dialplans_dir=work, http_port=0))
    await app.start()
    ami = AmiClient(settings.ami_host, settings.ami_port, settings.ami_username,
                    settings.ami_secret)  # fmt: skip
    await ami.start()
    per_call = max(1, steps // calls)
    ours: list[float] = []
    native: list[float] = []
    t0 = time.monotonic()
    try:
        for _ in range(calls):  # interleaved, so machine noise hits both alike
            ours += await _one_call(ami, "hotlines", "1111", per_call, delay, "1")
            # alternating digits: Newexten is only sent when the extension changes
            native += await _one_call(ami, "bench-native", "s", per_call, delay, "12")
    finally:
        await ami.close()
        await app.stop()
        shutil.rmtree(work.parent, ignore_errors=True)
    print(f"DTMF digit -> next prompt starts ({time.monotonic() - t0:.0f} s of calls)")
    print(_summary("baseline: dialplan Background", native))
    print(_summary("this server: FastAGI menu engine", ours))
    print(
        "ratio of medians (server / baseline): "
        f"{statistics.median(ours) / statistics.median(native):.2f}; "
        f"extra median {1000 * (statistics.median(ours) - statistics.median(native)):.2f} ms"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--calls", type=int, default=6)
    p.add_argument("--delay", type=float, default=0.25, help="seconds into a prompt per press")
    a = p.parse_args()
    asyncio.run(main(a.steps, a.calls, a.delay))
