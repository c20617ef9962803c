"""One probe call through the AMI: place it, watch its events, hang it up.

The call goes out through ``dial_template`` (production: the agency's trunk to the
published number, ``PJSIP/{number}@pstn``; the sandbox: ``Local/{number}@from-public``,
the context the citizens' calls enter) and, once answered, its near end runs the
``[ivr-probe]`` context (silence). It carries ``IVR_PROBE=1`` and ``IVR_PROBE_ID``
(inherited by the far end inside this Asterisk), so the hotline route announces
the greeting (``IVR_PROBE_GREETING``), the dialplan never puts it in a queue, and the
figures never count it. The probe hangs up as soon as the outcome is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ivr.ami.client import AmiError
from ivr.ami.events import AnyEvent
from ivr.ami.ports import Originator
from ivr.log import fields, server_log
from ivr.probes.model import ProbeResult, ProbeWatch, classify
from ivr.probes.settings import ProbeTarget

__all__ = ["ProbeAmi", "ProbeConfig", "place_probe"]

_WATCHED = ("OriginateResponse", "VarSet", "Hangup")


class ProbeAmi(Originator, Protocol):
    """What a probe uses of :class:`ivr.ami.client.AmiClient` (or of every Asterisk
    node's, :class:`ivr.lineup.nodes.NodeAmis`: placed through one, heard from all)."""

    def subscribe(
        self, event: str, handler: Callable[[AnyEvent], Awaitable[None] | None]
    ) -> Callable[[], None]: ...


@dataclass(frozen=True)
class ProbeConfig:
    dial_template: str = "PJSIP/{number}@pstn"
    context: str = "ivr-probe"
    caller_id: str = ""
    ring_timeout_s: float = 20.0
    greeting_timeout_s: float = 10.0


async def place_probe(
    ami: ProbeAmi,
    target: ProbeTarget,
    cfg: ProbeConfig,
    *,
    clock: Callable[[], float] = time.time,
) -> ProbeResult:
    """Probe ``target`` once; never raises (an AMI problem is an ``error`` result)."""
    probe_id = uuid.uuid4().hex[:16]
    at, t0 = clock(), time.monotonic()
    watch = ProbeWatch(action_id=f"probe-{probe_id}", probe_id=probe_id, started=t0)
    inbox: asyncio.Queue[AnyEvent] = asyncio.Queue()
    unsubs = [ami.subscribe(name, inbox.put_nowait) for name in _WATCHED]
    try:
        await _originate(ami, target, cfg, watch)
        await _watch(inbox, watch, cfg)
        outcome, answer_s, detail = classify(watch)
    except (AmiError, OSError) as e:
        outcome, answer_s, detail = "error", None, str(e)
    finally:
        for u in unsubs:
            u()
        if watch.channel and not watch.hung_up:
            with contextlib.suppress(AmiError, OSError):
                await ami.action("Hangup", Channel=watch.channel, as_list=False)
    result = ProbeResult(
        id=probe_id,
        hotline=target.hotline,
        published=target.number,
        outcome=outcome,
        answer_s=answer_s,
        at=at,
        duration_s=round(time.monotonic() - t0, 3),
        detail=detail,
    )
    server_log.info(
        "probe", extra=fields(hotline=target.hotline, outcome=outcome, answer_s=answer_s)
    )
    return result


async def _originate(
    ami: ProbeAmi, target: ProbeTarget, cfg: ProbeConfig, watch: ProbeWatch
) -> None:
    await ami.originate(
        cfg.dial_template.format(number=target.number),
        cfg.context,
        "s",
        variables={"__IVR_PROBE": "1", "__IVR_PROBE_ID": watch.probe_id},
        # the name carries the probe id back in through a trunk ([from-public])
        caller_id=f'"{watch.probe_id}" <{cfg.caller_id}>' if cfg.caller_id else None,
        timeout_ms=int(cfg.ring_timeout_s * 1000),
        action_id=watch.action_id,
    )


async def _watch(inbox: asyncio.Queue[AnyEvent], watch: ProbeWatch, cfg: ProbeConfig) -> None:
    """Feed the call's events to ``watch`` until its outcome is known (or time is up)."""
    limit = watch.started + cfg.ring_timeout_s + cfg.greeting_timeout_s + 5.0
    while True:
        now = time.monotonic()
        if watch.decided(now, cfg.greeting_timeout_s) or now > limit:
            return
        with contextlib.suppress(TimeoutError):
            event = await asyncio.wait_for(inbox.get(), 0.2)
            watch.feed(event, time.monotonic())
