"""Supervisor actions against the real sandbox: a supervisor pauses agent1 in
``complaint`` through the API of a running server, Asterisk shows it paused with the
reason (``QueueStatus``), the answer carries the new state, and the unpause undoes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.store.audit import AuditLog
from ivr.store.tokens import TokenStore
from tests.until import until

pytestmark = pytest.mark.sandbox

QUEUE = "complaint"
AGENT = "PJSIP/agent1"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, redis_url=settings.redis_url.rsplit("/", 1)[0] + "/12")


@pytest.fixture
async def clean(redis: Redis, ami: AmiClient) -> AsyncIterator[None]:
    await redis.flushdb()
    try:
        yield
    finally:
        await ami.action("QueuePause", Interface=AGENT, Queue=QUEUE, Paused="false")
        await redis.flushdb()


async def api_post(app: HotlineApp, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    """POST on the server's own HTTP port with a fresh supervisor token."""
    token, _ = await TokenStore(app.redis).create("supervisor", "sandbox supervisor")
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://{host}:{port}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        answer: dict[str, Any] = await resp.json()
        return resp.status, answer


async def member_row(ami: AmiClient) -> dict[str, str]:
    """Asterisk's own QueueMember row of agent1 in complaint."""
    reply = await ami.action("QueueStatus", Queue=QUEUE, Member=AGENT)
    rows = reply if isinstance(reply, list) else [reply]
    for row in rows:
        if row.get("Event") == "QueueMember" and AGENT in (
            row.get("Location"),
            row.get("Interface"),
        ):
            return dict(row)
    return {}


async def test_supervisor_pauses_an_agent_with_a_reason(
    app: HotlineApp, ami: AmiClient, clean: None
) -> None:
    path = f"/api/queues/{QUEUE}/agents/PJSIP%2Fagent1"
    status, body = await api_post(app, path + "/pause", {"reason": "training"})
    assert status == 200, body
    assert body["settled"] is True
    assert body["queues"][0]["state"] == "paused"
    assert body["queues"][0]["paused_reason"] == "training"
    row = await until(lambda: _paused_row(ami, "1"), within=10, what="Asterisk shows agent1 paused")
    assert row.get("PausedReason") == "training"

    status, body = await api_post(app, path + "/unpause")
    assert status == 200, body
    assert body["queues"][0]["state"] != "paused"
    await until(lambda: _paused_row(ami, "0"), within=10, what="Asterisk shows agent1 unpaused")

    entries = await AuditLog(app.redis).recent(5)
    assert [(e.action, e.result) for e in entries] == [("unpause", "ok"), ("pause", "ok")]


async def _paused_row(ami: AmiClient, paused: str) -> dict[str, str] | None:
    row = await member_row(ami)
    return row if row.get("Paused") == paused else None
