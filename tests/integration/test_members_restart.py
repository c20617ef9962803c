"""Queue members added through the API survive an Asterisk restart on the real
sandbox (``persistentmembers = no``): the server remembers them in Redis and adds them
back when Asterisk is fully booted; a member added by hand is not brought back, and
a member removed through the API is forgotten."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient, AmiError
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.sandbox.pbx import Sandbox
from ivr.store.members import AddedMember, MemberStore
from ivr.store.tokens import TokenStore
from tests.until import until

pytestmark = pytest.mark.sandbox

QUEUE = "complaint"
KEPT = "Local/keep1@sim-agent/n"
BY_HAND = "Local/hand1@sim-agent/n"
PATH = f"/api/queues/{QUEUE}/agents/Local%2Fkeep1%40sim-agent%2Fn"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, redis_url=settings.redis_url.rsplit("/", 1)[0] + "/9")


@pytest.fixture
async def clean(redis: Redis, ami: AmiClient) -> AsyncIterator[None]:
    await redis.flushdb()
    try:
        yield
    finally:
        for member in (KEPT, BY_HAND):
            try:
                await ami.action("QueueRemove", Queue=QUEUE, Interface=member)
            except AmiError:
                pass  # not there
        await redis.flushdb()


async def api_call(app: HotlineApp, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    token, _ = await TokenStore(app.redis).create("supervisor", "sandbox supervisor")
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            f"http://{host}:{port}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        return resp.status, await resp.json()


async def members(ami: AmiClient) -> dict[str, dict[str, str]]:
    """Asterisk's own QueueMember rows of the queue, by interface."""
    reply = await ami.action("QueueStatus", Queue=QUEUE)
    rows = reply if isinstance(reply, list) else [reply]
    return {
        r.get("Location") or r.get("Interface", ""): dict(r)
        for r in rows
        if r.get("Event") == "QueueMember"
    }


def _model_members(app: HotlineApp) -> set[str]:
    state = app.live.states.get(QUEUE)
    return set(state.agents) if state is not None else set()


async def test_members_added_by_the_api_come_back_after_a_restart(
    app: HotlineApp, sandbox: Sandbox, ami: AmiClient, clean: None
) -> None:
    status, body = await api_call(app, "PUT", PATH, {"name": "keep1", "penalty": 2})
    assert status == 200, body
    await ami.action("QueueAdd", Queue=QUEUE, Interface=BY_HAND, MemberName="hand1")
    assert {KEPT, BY_HAND} <= set(await members(ami))

    logins = app.ami.logins
    await asyncio.to_thread(sandbox.stop_asterisk)
    await asyncio.to_thread(sandbox.start_asterisk)
    await until(
        lambda: app.ami.connected and ami.connected and app.ami.logins > logins,
        within=60.0,
        what="the AMI logged in again",
    )

    async def restored() -> dict[str, str] | None:
        return (await members(ami)).get(KEPT)

    row = await until(restored, within=20, what="the API's member added back")
    assert row["Name"] == "keep1" and row["Penalty"] == "2" and row["Membership"] == "dynamic"
    assert BY_HAND not in await members(ami)  # only what the server added
    await until(lambda: KEPT in _model_members(app), within=10, what="the model shows it")

    status, body = await api_call(app, "DELETE", PATH)
    assert status == 200, body
    assert await MemberStore(app.redis).all() == []
    await app.members.restore()  # as at the next boot: nothing to add back
    assert KEPT not in await members(ami)


async def test_a_refused_add_is_not_remembered(app: HotlineApp, clean: None) -> None:
    store = MemberStore(app.redis)
    await store.remember(AddedMember(QUEUE, "PJSIP/agent1", 0, "agent1"))  # as if it were ours
    status, body = await api_call(app, "PUT", f"/api/queues/{QUEUE}/agents/PJSIP%2Fagent1")
    assert status == 502, body  # Asterisk: already there (a member of queues.conf)
    assert await store.all() == [AddedMember(QUEUE, "PJSIP/agent1", 0, "agent1")]  # as before
    status, body = await api_call(app, "PUT", f"/api/queues/{QUEUE}/agents/PJSIP%2Fagent2")
    assert status == 502, body
    assert [m.interface for m in await store.all()] == ["PJSIP/agent1"]
