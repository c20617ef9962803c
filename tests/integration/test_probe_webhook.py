"""The probe alert's webhook: a tiny HTTP server gets one alert and one clear."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from ivr.probes.alerts import Alerter
from ivr.probes.model import ProbeResult

pytestmark = pytest.mark.network


def result(outcome: str) -> ProbeResult:
    return ProbeResult("p", "1111", "1111", outcome, None, 0.0, 1.0)


async def test_the_webhook_gets_one_alert_and_one_clear(unused_tcp_port: int) -> None:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        alerter = Alerter(2, f"http://127.0.0.1:{unused_tcp_port}/hook", timeout_s=5)
        for outcome in ["fallback", "not_answered", "fallback", "ok", "ok", "fallback"]:
            await alerter.observe(result(outcome))
    finally:
        await runner.cleanup()
    assert [(b["event"], b["hotline"], b["failures"]) for b in received] == [
        ("probe.alert", "1111", 2),
        ("probe.cleared", "1111", 3),
    ]
    assert received[0]["result"]["outcome"] == "not_answered"


async def test_a_webhook_that_fails_is_logged_never_raised(unused_tcp_port: int) -> None:
    alerter = Alerter(1, f"http://127.0.0.1:{unused_tcp_port}/nobody", timeout_s=1)
    assert await alerter.observe(result("fallback")) == "fire"
    assert await alerter.observe(result("fallback")) is None
