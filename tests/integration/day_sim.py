"""A day of simulated callers for the report's proof (tests/integration/test_report_day.py).

Every kind of call the daily report counts is placed on the sandbox, mostly at
once, and counted here as it is placed: the expected figures. Timings are kept
short with a few seconds' targets (``SL_S``, ``SHORT_S``) set for the queue
``complaint`` in the test's settings, and agents held paused, then let go, so
that who waited how long is decided by the test, not by luck:

* ``complaint`` (simulated agents, ``Local/…@sim-agent``): callers answered
  beyond the target (they waited while every agent was paused, at least
  ``SL_S + 2`` s), callers answered within it (placed once agents are free),
  long abandons (hang up after ``SHORT_S + 3`` s) and short ones (at once);
* ``operator`` (nobody staffed, ``no_agent = "message"``): callers sent there by
  menu timeouts, by wrong keys, or by 0 after a wrong key: each meets the
  no-agent rule and hears the message;
* ``after-hours`` (nobody staffed, ``no_agent = "callback"``): two callers book a
  callback; once an agent is staffed, one is connected and the other never
  answers (a number ending in 9 in ``[sim-citizen]``): failed after one attempt;
* the menus: self-service (an information page, then hang up), a hang-up in a
  sub-menu; and one reachability probe, which must count nowhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.ami.client import AmiClient
from ivr.ami.events import AnyEvent
from ivr.sandbox.simcall import SimCall
from tests.integration.conftest import SimCaller
from tests.until import until

SL_S = 6  # complaint's service-level target in the test (seconds)
SHORT_S = 4  # complaint's short-abandon threshold in the test (seconds)
LATE, ON_TIME, LONG_ABANDON, SHORT_ABANDON = 4, 4, 3, 2
SELF_SERVICE, TIMEOUTS, WRONG_THEN_0, WRONG_3 = 3, 2, 2, 1
AGENTS = [f"Local/rday{i}@sim-agent/n" for i in range(LATE + ON_TIME)]
CALLBACK_AGENTS = [f"Local/rdaycb{i}@sim-agent/n" for i in range(2)]
QUEUES = ("complaint", "operator", "after-hours")
CB_OK, CB_FAIL = "0811100010", "0811100029"  # [sim-citizen]: 0 answers, 9 never does


@dataclass
class Placed:
    """What the test placed: uniqueids per kind, in the order placed."""

    kinds: dict[str, list[str]] = field(default_factory=dict)
    probe_id: str = ""
    events: list[tuple[str, str]] = field(default_factory=list)  # (event, uniqueid) of queues

    def add(self, kind: str, c: SimCall) -> SimCall:
        self.kinds.setdefault(kind, []).append(c.uniqueid)
        return c

    def count(self, *kinds: str) -> int:
        return sum(len(self.kinds.get(k, [])) for k in kinds)

    @property
    def all(self) -> list[str]:
        return [u for ids in self.kinds.values() for u in ids]


def expected_queues(p: Placed) -> dict[str, dict[str, int]]:
    """Each queue's counted figures, from what was placed."""
    to_operator = p.count("timeouts", "wrong_then_0", "wrong_3")
    zero = {"answered": 0, "answered_within_sl": 0, "abandoned": 0, "short_abandoned": 0,
            "callbacks_requested": 0, "callbacks_connected": 0, "callbacks_failed": 0,
            "no_agent": 0, "max_wait": 0}  # fmt: skip
    complaint = {**zero,
        "offered": p.count("late", "on_time", "long_abandon", "short_abandon"),
        "answered": p.count("late", "on_time"), "answered_within_sl": p.count("on_time"),
        "abandoned": p.count("long_abandon"), "short_abandoned": p.count("short_abandon"),
    }  # fmt: skip
    operator = {**zero, "offered": to_operator, "no_agent": to_operator}
    after_hours = {**zero, "offered": p.count("callback"), "no_agent": p.count("callback"),
                   "callbacks_requested": 2, "callbacks_connected": 1,
                   "callbacks_failed": 1}  # fmt: skip
    return {"complaint": complaint, "operator": operator, "after-hours": after_hours}


def expected_hotline(p: Placed) -> dict[str, Any]:
    queues = expected_queues(p)
    totals = {k: sum(q[k] for q in queues.values()) for k in queues["complaint"]}
    wrong_keys = p.count("wrong_then_0") + 3 * p.count("wrong_3")
    return {
        "totals": totals,
        "queues": queues,
        "arrived": len(p.all),
        "self_service": p.count("self_service"),
        "queued": sum(q["offered"] for q in queues.values()),
        "main": {"timeouts": 3 * p.count("timeouts"), "wrong_keys": wrong_keys},
    }


async def pause(ami: AmiClient, queue: str, members: list[str], paused: bool) -> None:
    for m in members:
        await ami.action("QueuePause", Interface=m, Queue=queue, Paused=str(paused).lower())


@dataclass
class Day:
    """Places the day's calls; ``placed`` holds them once :meth:`run` returns."""

    ami: AmiClient
    call: SimCaller
    pending_callbacks: Callable[[], Awaitable[int]]
    probe: Callable[[], Awaitable[str]]
    placed: Placed = field(default_factory=Placed)
    joined: dict[str, float] = field(default_factory=dict)
    numbers: int = 0

    def caller(self) -> str:
        self.numbers += 1
        return f"08222{self.numbers:05d}"

    async def queued(self, kind: str) -> SimCall:
        """A caller who presses 2 (complaint) and stays in the queue."""
        c = await self.call("1111", "2", keep=True, caller=self.caller(),
                            until=lambda c: bool(c.queue), limit_s=60)  # fmt: skip
        self.joined[c.uniqueid] = time.monotonic()
        return self.placed.add(kind, c)

    async def abandon(self, kind: str, after_s: float) -> None:
        c = await self.queued(kind)
        await asyncio.sleep(after_s)  # the caller's patience, not a wait for a condition
        await self.ami.action("Hangup", Channel=c.channel)

    async def menu(self, kind: str, press: str, caller: str = "") -> None:
        c = await self.call("1111", press, caller=caller or self.caller(),
                            until=lambda c: c.hung_up, limit_s=60)  # fmt: skip
        self.placed.add(kind, c)

    async def book(self, number: str) -> None:
        """4 (after-hours, nobody staffed), 1 accepts the callback, 1 confirms the
        number; the caller leaves once told it is booked."""
        c = await self.call(
            "1111", "411", caller=number, limit_s=60,
            until=lambda c: "ivr/callback-accepted" in c.prompts_started(),
        )  # fmt: skip
        self.placed.add("callback", c)

    async def callbacks(self) -> None:
        """Two callers book a callback in after-hours; then agents are staffed there."""
        await asyncio.gather(self.book(CB_OK), self.book(CB_FAIL))
        await until(lambda: _equals(self.pending_callbacks(), 2), 20, "two callbacks booked")
        for m in CALLBACK_AGENTS:
            await self.ami.action("QueueAdd", Queue="after-hours", Interface=m,
                                  MemberName=m.split("/")[1].split("@")[0])  # fmt: skip

    async def complaint(self) -> None:
        """Late callers and abandons wait while every agent is paused; once the late
        ones have waited SL_S + 2 s and the abandons are gone, the agents go back to
        work and the callers on time are placed."""
        waiting = [self.queued("late") for _ in range(LATE)]
        long = [self.abandon("long_abandon", SHORT_S + 3) for _ in range(LONG_ABANDON)]
        short = [self.abandon("short_abandon", 0.3) for _ in range(SHORT_ABANDON)]
        await asyncio.gather(*waiting, *long, *short)
        last = max(self.joined.values())
        await until(lambda: time.monotonic() - last >= SL_S + 2, 30, "the late callers waited")
        answered, stop = _answers(self.ami)
        try:
            await pause(self.ami, "complaint", AGENTS, paused=False)
            await until(lambda: len(answered) >= LATE, 20, "the late callers answered")
            await asyncio.gather(*(self.queued("on_time") for _ in range(ON_TIME)))
            await until(lambda: len(answered) >= LATE + ON_TIME, 20, "callers on time answered")
        finally:
            stop()

    def _watch(self, e: AnyEvent) -> None:
        """The queue events that end a call's row in history, as the test sees them
        (told when a row never completes)."""
        if e.name in ("AgentConnect", "AgentComplete", "QueueCallerAbandon"):
            self.placed.events.append((e.name, e.get("Uniqueid")))

    async def run(self) -> Placed:
        stop = self.ami.subscribe("*", self._watch)
        try:
            return await self._run()
        finally:
            stop()

    async def _run(self) -> Placed:
        menus = [
            *(self.menu("self_service", "1h") for _ in range(SELF_SERVICE)),
            *(self.menu("timeouts", "") for _ in range(TIMEOUTS)),
            *(self.menu("wrong_then_0", "70") for _ in range(WRONG_THEN_0)),
            *(self.menu("wrong_3", "777") for _ in range(WRONG_3)),
            self.menu("hangup_in_menu", "3h"),
        ]
        probe = asyncio.ensure_future(self.probe())
        await asyncio.gather(self.complaint(), self.callbacks(), *menus)
        self.placed.probe_id = await probe
        return self.placed


def _answers(ami: AmiClient) -> tuple[list[str], Callable[[], None]]:
    """The complaint callers the simulated agents answer from now on (their
    channels' paths), and how to stop counting."""
    seen: list[str] = []

    def on(e: AnyEvent) -> None:
        if e.get("UserEvent") == "SimAgentAnswered" and e.get("Path") == "main>2":
            seen.append(e.get("Path"))

    return seen, ami.subscribe("UserEvent", on)


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
