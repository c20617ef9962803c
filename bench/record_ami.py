"""Record real AMI queue traffic from the sandbox into test fixtures.

Each scenario drives simulated callers (``Local/s@sim-caller`` originated into
``[ivr-queue]``) and a simulated agent (``Local/<name>@sim-agent/n`` added with
``QueueAdd``) through one queue, and writes:

* ``<scenario>.jsonl``: every queue-related AMI event, one raw event (header ->
  value) per line, in the order received;
* ``<scenario>.queuestatus.jsonl``: the items of one ``QueueStatus`` reply taken
  while callers were waiting (the first item is the response, the last
  ``QueueStatusComplete``).

The demo agents (PJSIP/agent1..8, nobody answers at their SIP contact) are paused
while recording, except where a scenario rings one on purpose, and restored
afterwards.

    .venv/bin/python -m bench.record_ami [--out tests/fixtures/ami] [--only NAME]

Needs the sandbox up (``ivr sandbox up``); it does not need ``ivr serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from ivr.ami.client import AmiClient, Reply
from ivr.ami.events import AnyEvent
from ivr.config import PROJECT_ROOT, load_settings

QUEUE: Final = "complaint"
OUT: Final = PROJECT_ROOT / "tests" / "fixtures" / "ami"
DEMO_AGENTS: Final = tuple(f"PJSIP/agent{i}" for i in range(1, 5))
SIM_AGENT: Final = "Local/rec1@sim-agent/n"
LOOP_CONTEXT: Final = "rec-queue-loop"
#: The hotline's queue loop, with a 4 s Queue() timeout and a 1 s "announcement".
LOOP_DIALPLAN: Final = (
    (1, "Set", "QUEUESTATUS="),
    (2, "Queue", "${IVR_QUEUE},,,,4,,,,${QUEUEPOSITION}"),
    (3, "GotoIf", '$["${QUEUESTATUS}" != "TIMEOUT"]?6'),
    (4, "Wait", "1"),
    (5, "Goto", "s,1"),
    (6, "Hangup", ""),
)

#: Events the queue model reads, and a few that help to read a recording.
KEEP: Final = frozenset(
    {
        "QueueCallerJoin",
        "QueueCallerLeave",
        "QueueCallerAbandon",
        "AgentCalled",
        "AgentRingNoAnswer",
        "AgentConnect",
        "AgentComplete",
        "AgentDump",
        "QueueMemberStatus",
        "QueueMemberPause",
        "QueueMemberAdded",
        "QueueMemberRemoved",
        "QueueMemberPenalty",
        "QueueMemberRinginuse",
        "Hangup",
        "OriginateResponse",
    }
)


class Recorder:
    """Collects the kept events of one scenario while it runs."""

    def __init__(self, ami: AmiClient) -> None:
        self.ami = ami
        self.events: list[dict[str, str]] = []
        self.status: list[dict[str, str]] = []
        self.channels: list[str] = []  # caller channels in the queue, in join order
        self._unsubscribe: Callable[[], None] | None = None

    @contextmanager
    def recording(self) -> Iterator[None]:
        def keep(e: AnyEvent) -> None:
            if e.name not in KEEP:
                return
            if e.name == "QueueCallerJoin" and e.get("Queue") == QUEUE:
                self.channels.append(e.get("Channel"))
            self.events.append(dict(e.raw))

        self._unsubscribe = self.ami.subscribe("*", keep)
        try:
            yield
        finally:
            self._unsubscribe()

    async def originate(self, hold_s: int, talk_s: int = 4, context: str = "ivr-queue") -> None:
        await self.ami.originate(
            "Local/s@sim-caller",
            context,
            "s",
            variables={
                "IVR_QUEUE": QUEUE,
                "SIM_HOLD": str(hold_s),
                "__SIM_TALK": str(talk_s),
            },
        )

    async def queue_status(self) -> None:
        reply = await self.ami.action("QueueStatus", Queue=QUEUE)
        self.status = _items(reply)

    async def wait_for(self, name: str, count: int, within_s: float, uniqueid: str = "") -> None:
        """Until ``count`` recorded events named ``name`` (of one call if ``uniqueid``)."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            seen = sum(
                1
                for e in self.events
                if e.get("Event") == name and (not uniqueid or e.get("Uniqueid") == uniqueid)
            )
            if seen >= count:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"recording: fewer than {count} {name} events in {within_s:g}s")

    def save(self, out: Path, name: str) -> None:
        out.mkdir(parents=True, exist_ok=True)
        _write(out / f"{name}.jsonl", self.events)
        if self.status:
            _write(out / f"{name}.queuestatus.jsonl", self.status)
        print(f"{name}: {len(self.events)} events, {len(self.status)} QueueStatus items")


def _items(reply: Reply) -> list[dict[str, str]]:
    return list(reply) if isinstance(reply, list) else [reply]


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


async def _pause(ami: AmiClient, interface: str, paused: bool, reason: str = "") -> None:
    await ami.action(
        "QueuePause",
        Queue=QUEUE,
        Interface=interface,
        Paused="true" if paused else "false",
        Reason=reason,
    )


async def _add_agent(ami: AmiClient, paused: bool) -> None:
    await ami.action(
        "QueueAdd",
        Queue=QUEUE,
        Interface=SIM_AGENT,
        MemberName="rec1",
        Paused="true" if paused else "false",
    )


async def _remove_agent(ami: AmiClient) -> None:
    await ami.action("QueueRemove", Queue=QUEUE, Interface=SIM_AGENT)


# --------------------------------------------------------------------------- scenarios


async def answered(rec: Recorder) -> None:
    """One simulated agent answers three callers in turn (talk 4 s, wrap-up 5 s)."""
    ami = rec.ami
    await _add_agent(ami, paused=True)
    for _ in range(3):
        await rec.originate(hold_s=90)
        await asyncio.sleep(1.0)
    await rec.wait_for("QueueCallerJoin", 3, 10)
    await rec.queue_status()
    await _pause(ami, SIM_AGENT, False)
    await rec.wait_for("AgentComplete", 3, 60)
    await asyncio.sleep(1.0)
    await _remove_agent(ami)
    await asyncio.sleep(0.5)


async def abandon(rec: Recorder) -> None:
    """Four callers wait with the agent paused; two hang up (abandon), two are answered."""
    ami = rec.ami
    await _add_agent(ami, paused=True)
    await _pause(ami, SIM_AGENT, True, reason="lunch")
    for hold in (6, 9, 90, 90):
        await rec.originate(hold_s=hold)
        await asyncio.sleep(1.0)
    await rec.wait_for("QueueCallerJoin", 4, 10)
    await rec.queue_status()
    await rec.wait_for("QueueCallerAbandon", 2, 20)
    await _pause(ami, SIM_AGENT, False)
    await rec.wait_for("AgentComplete", 2, 45)
    await asyncio.sleep(1.0)
    await _remove_agent(ami)
    await asyncio.sleep(0.5)


async def loop(rec: Recorder) -> None:
    """Callers loop out of ``Queue()`` on its timeout and back in, as the hotline does.

    A temporary context (added with ``DialplanExtensionAdd``, removed afterwards)
    runs ``Queue(q,,,,4,,,,${QUEUEPOSITION})``, waits 1 s (the announcement) and
    re-enters at the place it left. The status is taken while the first caller is
    out of the queue; then the agent answers everyone.
    """
    ami = rec.ami
    await _add_agent(ami, paused=True)
    for priority, app, data in LOOP_DIALPLAN:
        await ami.action(
            "DialplanExtensionAdd",
            Context=LOOP_CONTEXT,
            Extension="s",
            Priority=priority,
            Application=app,
            ApplicationData=data,
            Replace="true",
        )
    try:
        for _ in range(3):
            await rec.originate(hold_s=90, talk_s=3, context=LOOP_CONTEXT)
            await asyncio.sleep(1.0)
        await rec.wait_for("QueueCallerJoin", 3, 10)
        first = next(e for e in rec.events if e.get("Event") == "QueueCallerJoin")
        uid = first["Uniqueid"]
        for spell in (1, 2):
            await rec.wait_for("QueueCallerLeave", spell, 15, uniqueid=uid)
        await rec.queue_status()  # the first caller is out, announcing
        await rec.wait_for("QueueCallerJoin", 3, 10, uniqueid=uid)
        await _pause(ami, SIM_AGENT, False)
        await rec.wait_for("AgentComplete", 3, 60)
        await asyncio.sleep(1.0)
    finally:
        await ami.action("DialplanExtensionRemove", Context=LOOP_CONTEXT, Extension="s")
        await _remove_agent(ami)
    await asyncio.sleep(0.5)


async def redirect(rec: Recorder) -> None:
    """A caller is redirected out of ``Queue()`` and back into ``[ivr-queue]``.

    app_queue counts a redirect out of the queue as an abandon (QueueCallerAbandon,
    then QueueCallerLeave) and the caller rejoins at the end of the queue.
    """
    ami = rec.ami
    await _add_agent(ami, paused=True)
    for _ in range(3):
        await rec.originate(hold_s=90, talk_s=3)
        await asyncio.sleep(1.0)
    await rec.wait_for("QueueCallerJoin", 3, 10)
    first = rec.channels[0]
    await ami.action("Redirect", Channel=first, Context="ivr-queue", Exten="s", Priority=1)
    await rec.wait_for("QueueCallerJoin", 4, 10)
    await asyncio.sleep(0.5)
    await rec.queue_status()
    await _pause(ami, SIM_AGENT, False)
    await rec.wait_for("AgentComplete", 3, 60)
    await asyncio.sleep(1.0)
    await _remove_agent(ami)
    await asyncio.sleep(0.5)


async def ring_no_answer(rec: Recorder) -> None:
    """Only a demo agent (nobody at its SIP contact) is unpaused: it is rung in vain."""
    ami = rec.ami
    await _pause(ami, DEMO_AGENTS[0], False)
    await rec.originate(hold_s=20)
    await rec.wait_for("QueueCallerJoin", 1, 10)
    await asyncio.sleep(1.5)
    await rec.queue_status()
    await rec.wait_for("AgentRingNoAnswer", 1, 30)
    await rec.wait_for("QueueCallerAbandon", 1, 30)
    await _pause(ami, DEMO_AGENTS[0], True)
    await asyncio.sleep(0.5)


SCENARIOS: Final[dict[str, Callable[[Recorder], Awaitable[None]]]] = {
    "answered": answered,
    "abandon": abandon,
    "loop": loop,
    "redirect": redirect,
    "ring_no_answer": ring_no_answer,
}


async def main(out: Path, only: list[str]) -> int:
    settings = load_settings()
    ami = AmiClient(
        settings.ami_host,
        settings.ami_port,
        settings.ami_username,
        settings.ami_secret,
        action_timeout=settings.ami_action_timeout,
    )
    await ami.start()
    try:
        before = _items(await ami.action("QueueStatus", Queue=QUEUE))
        was_paused = {
            m.get("Location", ""): m.get("Paused") == "1"
            for m in before
            if m.get("Event") == "QueueMember"
        }
        for agent in DEMO_AGENTS:
            await _pause(ami, agent, True, reason="recording")
        try:
            for name, scenario in SCENARIOS.items():
                if only and name not in only:
                    continue
                rec = Recorder(ami)
                with rec.recording():
                    await scenario(rec)
                rec.save(out, name)
                await asyncio.sleep(6)  # let wrap-up end before the next scenario
        finally:
            for agent in DEMO_AGENTS:
                await _pause(ami, agent, was_paused.get(agent, False))
    finally:
        await ami.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT, help="fixture folder")
    parser.add_argument("--only", action="append", default=[], choices=sorted(SCENARIOS))
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.out, args.only)))
