"""The alert after failures in a row: a webhook POST with a JSON body, and the log.

Per hotline, :func:`ivr.probes.model.alert_step` decides; this module sends. The
body: ``{"event": "probe.alert" | "probe.cleared", "hotline", "failures",
"result": <the probe result>}``. A webhook that fails is logged, never retried
(the next failure or success does not fire again: the state moved on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from ivr.log import fields, server_log
from ivr.probes.model import AlertState, ProbeResult, alert_step

__all__ = ["Alerter"]


class Alerter:
    def __init__(
        self,
        alert_after: int,
        webhook_url: str = "",
        timeout_s: float = 5.0,
        session: Callable[[], aiohttp.ClientSession] = aiohttp.ClientSession,
    ) -> None:
        self.alert_after = alert_after
        self.webhook_url = webhook_url
        self.timeout_s = timeout_s
        self._session = session
        self.states: dict[str, AlertState] = {}

    async def observe(self, result: ProbeResult) -> str | None:
        """Step the hotline's state; send and return ``"fire"``/``"clear"`` when due."""
        state = self.states.get(result.hotline, AlertState())
        new, action = alert_step(state, result, self.alert_after)
        self.states[result.hotline] = new
        if action is None:
            return None
        body = {
            "event": "probe.alert" if action == "fire" else "probe.cleared",
            "hotline": result.hotline,
            "failures": new.failures if action == "fire" else state.failures,
            "result": result.to_dict(),
        }
        log = server_log.error if action == "fire" else server_log.warning
        log(
            "probe alert: hotline unreachable" if action == "fire" else "probe alert cleared",
            extra=fields(hotline=result.hotline, outcome=result.outcome, failures=body["failures"]),
        )
        await self._post(body)
        return action

    async def _post(self, body: dict[str, Any]) -> None:
        if not self.webhook_url:
            return
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with self._session() as http:
                async with http.post(self.webhook_url, json=body, timeout=timeout) as resp:
                    if resp.status >= 300:
                        raise aiohttp.ClientError(f"HTTP {resp.status}")
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            server_log.error(
                "probe webhook not delivered: check [probe] webhook_url",
                extra=fields(event=body["event"], hotline=body["hotline"], error=str(e)),
            )
