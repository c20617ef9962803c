"""Simulated citizens: a call placed through the AMI that presses digits like a caller.

``AMI Originate`` of ``Local/s@sim-caller`` into ``[hotlines]``: the ``;1`` half runs
the hotline, the ``;2`` half (the citizen) stays silent, and digits are sent from it
with ``PlayDTMF`` when the IVR is listening — an interruptible prompt or a
``WAIT FOR DIGIT`` seen in ``AGIExecStart`` events. Used by ``ivr call``, the
integration tests and the latency benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from ivr.ami.client import AmiClient, AmiError
from ivr.ami.events import (
    AGIExecEnd,
    AGIExecStart,
    AnyEvent,
    DTMFEnd,
    Hangup,
    OriginateResponse,
    QueueCallerJoin,
    VarSet,
)
from ivr.config import Settings
from ivr.config_redis import redis_target
from ivr.log import fields
from ivr.privacy import mask_phone
from ivr.store.client import redis_client
from ivr.store.traces import TraceStore
from ivr.trace import CallTrace

SIM_CHANNEL = "Local/s@sim-caller"
sim_log = logging.getLogger("ivr.sim")
_STREAM = re.compile(r'^STREAM FILE\s+"?([^"\s]+)"?\s+"?([0-9*#]*)"?', re.IGNORECASE)
_WAIT = re.compile(r"^WAIT FOR DIGIT", re.IGNORECASE)


class SimCallError(Exception):
    """The simulated call could not be placed or did not finish in time."""


@dataclass
class SimCall:
    number: str
    caller: str
    uniqueid: str = ""
    channel: str = ""  # ;1, the hotline side
    pressed: list[str] = field(default_factory=list)
    queue: str = ""  # queue the call joined in Asterisk, if any
    queue_position: int | None = None
    hung_up: bool = False
    trace: CallTrace | None = None
    events: list[AnyEvent] = field(default_factory=list)

    @property
    def caller_leg(self) -> str:
        return self.channel[:-2] + ";2" if self.channel.endswith(";1") else self.channel

    def prompts_started(self) -> list[str]:
        out = []
        for e in self.events:
            if isinstance(e, AGIExecStart) and not isinstance(e, AGIExecEnd):
                m = _STREAM.match(e.command)
                if m:
                    out.append(m.group(1))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "caller": mask_phone(self.caller),
            "uniqueid": self.uniqueid,
            "pressed": self.pressed,
            "queue": self.queue,
            "queue_position": self.queue_position,
            "hung_up": self.hung_up,
            "trace": self.trace.to_dict() if self.trace else None,
        }


def _listening(e: AnyEvent, listen_only: bool) -> float | None:
    """How long to wait before pressing, if this event shows the IVR listening."""
    if not isinstance(e, AGIExecStart) or isinstance(e, AGIExecEnd):
        return None
    if _WAIT.match(e.command):
        return 0.1
    m = _STREAM.match(e.command)
    if m and m.group(2) and not listen_only:
        return -1.0  # caller-chosen delay into the prompt
    return None


@dataclass
class _Keypad:
    """The citizen's finger: the digits still to press and when the next one is due."""

    digits: list[str]
    delay: float  # into an interruptible prompt
    listen_only: bool  # press only when the IVR waits for a digit
    press_at: float | None = None
    armed_by: str = ""  # the AGI command whose listening set ``press_at``

    async def press_if_due(self, ami: AmiClient, result: SimCall, now: float) -> None:
        if self.press_at is None or now < self.press_at or not self.digits:
            return
        digit = self.digits.pop(0)
        self.press_at = None
        if digit == "h":
            await ami.action("Hangup", Channel=result.channel, as_list=False)
        else:
            await ami.action(
                "PlayDTMF", Channel=result.caller_leg, Digit=digit, Duration=120, as_list=False
            )
        result.pressed.append(digit)

    def watch(self, e: AnyEvent) -> None:
        """Arm the next press when the IVR listens; disarm it when that prompt ended."""
        lead = _listening(e, self.listen_only)
        if lead is not None and self.digits and self.press_at is None:
            self.press_at = time.monotonic() + (self.delay if lead < 0 else lead)
            self.armed_by = e.command_id if isinstance(e, AGIExecStart) else ""
        if (
            isinstance(e, AGIExecEnd)
            and self.press_at is not None
            and e.command_id == self.armed_by
            and not _WAIT.match(e.command)
        ):
            self.press_at = None  # the prompt ended before the press: wait for the next


@dataclass
class _Ending:
    """When the call is over: the IVR's trace is in Redis (fetched in the background)
    and Asterisk shows where the call went, each given a little time to arrive."""

    traces: TraceStore
    task: asyncio.Task[CallTrace | None] | None = None
    settle_until: float | None = None

    def over(self, result: SimCall, now: float) -> bool:
        if result.trace is None and (self.task is None or self.task.done()):
            found = None
            if self.task is not None and self.task.exception() is None:
                found = self.task.result()  # (a Redis that is away: not found yet)
            if found is not None:
                result.trace = found
                # a caller handed to a queue first hears its place (queue-wait)
                self.settle_until = time.monotonic() + (30.0 if found.outcome == "queue" else 2.0)
            else:
                self.task = asyncio.create_task(self.traces.get(result.uniqueid))
        ended = result.queue or result.hung_up
        if ended and self.settle_until is None:
            self.settle_until = time.monotonic() + 1.0  # the trace may still be on its way
        if ended and (result.trace is not None or now > (self.settle_until or now)):
            return True
        return (
            result.trace is not None and self.settle_until is not None and now > self.settle_until
        )

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


def _record(result: SimCall, e: AnyEvent) -> bool:
    """Keep an event of this call (its queue join, its hang-up); False if another call's."""
    if getattr(e, "channel", "") != result.channel:
        return False
    result.events.append(e)
    if isinstance(e, QueueCallerJoin) and not result.queue:
        result.queue, result.queue_position = e.queue, e.position
    if isinstance(e, Hangup):
        result.hung_up = True
    return True


async def _next_event(inbox: asyncio.Queue[AnyEvent], wait: float) -> AnyEvent | None:
    try:
        return await asyncio.wait_for(inbox.get(), wait)
    except TimeoutError:
        return None


async def _originate(
    ami: AmiClient, number: str, context: str, caller: str, limit_s: float
) -> tuple[str, AnyEvent]:
    """Place the call: its ``SIM_ID`` and the first event that names its channel.

    That event is the ``VarSet`` of ``SIM_ID`` on the ``;1`` half (Asterisk sets the
    Originate's variables as it creates the channel) or the ``OriginateResponse``,
    whichever comes first: the call does not hang on one event alone. A failed
    ``OriginateResponse`` is an error, here or later (:func:`_check_response`).
    """
    sim_id = f"sim-{uuid.uuid4().hex}"

    def names_the_call(e: AnyEvent) -> bool:
        if isinstance(e, OriginateResponse):
            return e.action_id == sim_id
        return (
            isinstance(e, VarSet)
            and e.variable == "SIM_ID"
            and e.value == sim_id
            and e.channel.endswith(";1")
        )

    # listen before asking: the OriginateResponse can arrive with the reply itself
    named = asyncio.ensure_future(ami.wait_event(names_the_call, timeout=15))
    seen: deque[str] = deque(maxlen=12)  # what came instead, should nothing name the call
    count = [0]

    def note(e: AnyEvent) -> None:
        count[0] += 1
        seen.append(f"{e.name}({e.get('Channel')})")

    unsubscribe = ami.subscribe("*", note)
    try:
        await ami.originate(
            SIM_CHANNEL,
            context,
            number,
            variables={"SIM_HOLD": str(int(limit_s) + 5), "SIM_ID": sim_id},
            caller_id=f'"Sim" <{caller}>',
            action_id=sim_id,
        )
    except BaseException:
        named.cancel()
        unsubscribe()
        raise
    try:
        first = await named
    except AmiError as e:
        raise SimCallError(
            f"originate to {number}@{context}: no sign of the call ({e}); "
            f"{count[0]} other events came, the last: {', '.join(seen)}"
        ) from e
    finally:
        unsubscribe()
    _check_response(first, number, context, sim_id)
    return sim_id, first


def _check_response(e: AnyEvent, number: str, context: str, sim_id: str) -> bool:
    """True if ``e`` is this call's ``OriginateResponse`` (raises if it failed)."""
    if not isinstance(e, OriginateResponse) or e.action_id != sim_id:
        return False
    if e.response.lower() != "success":
        raise SimCallError(f"originate to {number}@{context} failed: {dict(e.raw)}")
    return True


async def sim_call(
    ami: AmiClient,
    traces: TraceStore,
    number: str,
    press: str = "",
    *,
    caller: str = "0899999999",
    delay: float = 0.8,
    listen_only: bool = False,
    limit_s: float = 180.0,
    context: str = "hotlines",
    keep: bool = False,
    until: Callable[[SimCall], bool] | None = None,
) -> SimCall:
    """Place a simulated call, press ``press`` (``h`` hangs up), return what happened.

    Returns once the IVR's trace is in Redis and Asterisk shows where the call
    went (queue join or hang-up), or as soon as ``until(result)`` is true; unless
    ``keep``, the call is then hung up.
    """
    result = SimCall(number=number, caller=caller)
    inbox: asyncio.Queue[AnyEvent] = asyncio.Queue()
    unsubs = [
        ami.subscribe(cls, inbox.put_nowait)
        for cls in (AGIExecStart, AGIExecEnd, DTMFEnd, QueueCallerJoin, Hangup, OriginateResponse)
    ]
    deadline = time.monotonic() + limit_s
    ending = _Ending(traces)
    responded = False
    try:
        sim_id, named = await _originate(ami, number, context, caller, limit_s)
        responded = _check_response(named, number, context, sim_id)
        result.channel = named.get("Channel")
        result.uniqueid = named.get("Uniqueid")
        keypad = _Keypad(list(press), delay, listen_only)
        while time.monotonic() < deadline:
            now = time.monotonic()
            await keypad.press_if_due(ami, result, now)
            e = await _next_event(inbox, 0.05 if keypad.press_at is not None else 0.2)
            if e is not None and _check_response(e, number, context, sim_id):
                responded = True
            if e is not None and _record(result, e):
                keypad.watch(e)
            if until is not None:  # the caller decides when the call is over
                if not keypad.digits and until(result):
                    break
                continue
            if ending.over(result, now):
                break
        else:
            raise SimCallError(f"call to {number} did not finish within {limit_s:.0f} s")
        if result.trace is None:
            with contextlib.suppress(RedisError, OSError):  # Redis away: no trace to show
                result.trace = await traces.get(result.uniqueid)
        return result
    finally:
        for u in unsubs:
            u()
        await ending.close()
        await _close(ami, result, responded, keep)


async def _close(ami: AmiClient, result: SimCall, responded: bool, keep: bool) -> None:
    """Hang the call up unless ``keep``; log a missing ``OriginateResponse``."""
    if result.channel and not responded:
        # seen only as a rare intermittent in long sandbox runs: say so in the log
        sim_log.warning(
            "no OriginateResponse came for a simulated call",
            extra=fields(uniqueid=result.uniqueid, hotline=result.number),
        )
    if result.channel and not keep and not result.hung_up:
        with contextlib.suppress(AmiError):
            await ami.action("Hangup", Channel=result.channel, as_list=False)


def describe(call: SimCall, texts: dict[str, str]) -> list[str]:
    """Human-readable lines: what the caller heard and where the call went."""
    lines = [f"call {call.number} from {mask_phone(call.caller)} (uniqueid {call.uniqueid})"]
    t = call.trace
    if t is not None:
        for step in t.steps:
            if step.kind == "prompt":
                lines.append(
                    f"  {step.at:6.2f}s heard   {step.detail}: {texts.get(step.detail, '')}"
                )
            elif step.kind == "digit":
                lines.append(f"  {step.at:6.2f}s pressed {step.detail}")
            elif step.kind in ("timeout", "invalid", "hangup", "language", "closed"):
                lines.append(f"  {step.at:6.2f}s {step.kind:<7} {step.detail}")
        lines.append(
            f"outcome: {t.outcome} {t.target}".rstrip()
            + (f" (topic {t.topic})" if t.topic else "")
            + f"  path {' > '.join(t.path)}"
        )
    else:
        lines.append("no trace recorded: the application did not handle the call (fallback)")
    if call.queue:
        lines.append(f"asterisk: joined queue {call.queue} at position {call.queue_position}")
    elif call.hung_up:
        lines.append("asterisk: call ended")
    return lines


async def run_sim_call_cli(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.speech.catalogue import load_catalogue

    catalogue = load_catalogue(settings.prompts_dir)
    texts = {i: catalogue.text(i, "th") for i in catalogue.ids}
    ami = AmiClient(
        settings.ami_host, settings.ami_port, settings.ami_username, settings.ami_secret
    )
    redis = redis_client(redis_target(settings))
    try:
        await ami.start()
        call = await sim_call(
            ami,
            TraceStore(redis, settings.trace_ttl_s),
            args.number,
            args.press,
            delay=args.delay,
            listen_only=args.listen,
            limit_s=args.timeout,
        )
    except (AmiError, SimCallError) as e:
        print(f"call: {e}")
        return 1
    finally:
        await ami.close()
        await redis.aclose()
    if args.json:
        print(json.dumps(call.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(describe(call, texts)))
    return 0
