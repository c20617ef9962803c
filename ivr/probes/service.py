"""Probing as a service: one probe's result kept, published, alerted on and told
to ``on_result``; the scheduler of ``ivr serve`` probing each hotline at its interval.

What a result goes to (each failing alone is logged, never stops the others):
the last results in Redis (:class:`ivr.store.probes.ProbeStore`), a ``probe.result``
event on the stream, the alert (:class:`ivr.probes.alerts.Alerter`) and the
``on_result`` hook (the history). With a leader lease, only the lease holder
probes: several instances do not call the published numbers several times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ivr.log import fields, server_log
from ivr.probes.alerts import Alerter
from ivr.probes.call import ProbeAmi, ProbeConfig, place_probe
from ivr.probes.model import ProbeResult
from ivr.probes.settings import ProbeTarget
from ivr.store.lease import LeaderLease
from ivr.store.probes import ProbeStore
from ivr.tasks import cancel_and_wait

__all__ = ["ProbeService", "due_targets"]

ResultHook = Callable[[ProbeResult], Awaitable[None]]
Prober = Callable[[ProbeTarget], Awaitable[ProbeResult]]


def due_targets(
    targets: Sequence[ProbeTarget], last: dict[str, float], now: float
) -> list[ProbeTarget]:
    """The targets whose interval has passed since their last probe (never probed: due)."""
    return [
        t
        for t in targets
        if t.interval_s > 0 and now - last.get(t.hotline, float("-inf")) >= t.interval_s
    ]


class ProbeService:
    def __init__(
        self,
        ami: ProbeAmi,
        cfg: ProbeConfig,
        alerter: Alerter | None,
        *,
        store: ProbeStore | None = None,
        publish: Callable[[dict[str, Any]], Awaitable[object]] | None = None,
        on_result: ResultHook | None = None,
        prober: Prober | None = None,
    ) -> None:
        self.ami = ami
        self.cfg = cfg
        self.alerter = alerter
        self.store = store
        self.publish = publish
        self.on_result = on_result  # the history's hook (wired by the app)
        self._prober = prober or (lambda t: place_probe(self.ami, t, self.cfg))

    async def probe(self, target: ProbeTarget) -> ProbeResult:
        """Probe ``target`` once and tell everyone who keeps or shows the result."""
        result = await self._prober(target)
        data = result.to_dict()
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = []
        if self.alerter is not None:
            alerter = self.alerter
            steps.append(("alert", lambda: alerter.observe(result)))
        if self.store is not None:
            store = self.store
            steps.append(("store", lambda: store.add(data)))
        if self.publish is not None:
            publish = self.publish
            steps.append(
                ("stream", lambda: publish({"kind": "probe.result", "queue": "", "data": data}))
            )
        if self.on_result is not None:
            hook = self.on_result
            steps.append(("history", lambda: hook(result)))
        for what, step in steps:
            try:
                await step()
            except Exception as e:  # one sink failing never keeps the next one out
                server_log.warning(
                    "probe result not told",
                    extra=fields(to=what, hotline=result.hotline, error=str(e)),
                )
        return result

    async def probe_all(self, targets: Sequence[ProbeTarget]) -> list[ProbeResult]:
        """Probe every target at once (one call each); results in the targets' order."""
        return list(await asyncio.gather(*(self.probe(t) for t in targets)))

    async def run(
        self,
        targets: Callable[[], Sequence[ProbeTarget]],
        lease: LeaderLease | None = None,
        tick_s: float = 5.0,
    ) -> None:
        """The scheduler: every ``tick_s``, probe the hotlines that are due (a hotline
        still being probed waits for its call to end)."""
        last: dict[str, float] = {}
        running: dict[str, asyncio.Task[ProbeResult]] = {}
        try:
            while True:
                running = {h: t for h, t in running.items() if not t.done()}
                if lease is None or await lease.acquire():
                    now = time.monotonic()
                    for target in due_targets(targets(), last, now):
                        if target.hotline not in running:
                            last[target.hotline] = now
                            running[target.hotline] = asyncio.create_task(self.probe(target))
                await asyncio.sleep(tick_s)
        finally:
            await cancel_and_wait(list(running.values()), log=server_log, what="probe")
            if lease is not None:
                await lease.release()
