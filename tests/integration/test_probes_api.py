"""GET /api/probes over HTTP with a real Redis: the last results per hotline, newest
first, only the token's hotlines (403 outside, 404 unknown), no number for a viewer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.api.app import API_PREFIX, build_api
from ivr.probes.model import ProbeResult
from ivr.queues.state import QueueState
from ivr.store.callbacks import CallbackStore
from ivr.store.probes import ProbeStore
from ivr.store.tokens import TokenStore

pytestmark = pytest.mark.redis

Client = TestClient[web.Request, web.Application]


async def _no_queues() -> dict[str, QueueState]:
    return {}


@pytest.fixture
async def api(redis_clean: Redis) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    tokens, store = TokenStore(redis_clean), ProbeStore(redis_clean, keep=3)
    for i, outcome in enumerate(["ok", "fallback", "not_answered", "ok"]):
        r = ProbeResult(f"p{i}", "1111", "1111", outcome, 0.5, 1000.0 + i, 1.0)
        await store.add(r.to_dict())
    await store.add(ProbeResult("q", "1555", "1555", "ok", 0.2, 1000.0, 1.0).to_dict())
    root = web.Application()
    root.add_subapp(
        API_PREFIX,
        build_api(
            tokens=tokens,
            callbacks=CallbackStore(redis_clean),
            queues=_no_queues,
            probes=store,
            probe_hotlines=lambda: ["1111", "1555"],
        ),
    )
    client = TestClient(TestServer(root))
    await client.start_server()
    by_role = {
        "viewer": (await tokens.create("viewer", "wall"))[0],
        "supervisor": (await tokens.create("supervisor", "duty"))[0],
        "agency": (await tokens.create("supervisor", "agency", hotlines=["1555"]))[0],
    }
    try:
        yield client, by_role
    finally:
        await client.close()


async def get(api: tuple[Client, dict[str, str]], path: str, who: str) -> tuple[int, Any]:
    client, tokens = api
    r = await client.get(path, headers={"Authorization": f"Bearer {tokens[who]}"})
    return r.status, await r.json()


async def test_the_last_results_of_each_hotline_newest_first(
    api: tuple[Client, dict[str, str]],
) -> None:
    status, body = await get(api, "/api/probes", "supervisor")
    assert status == 200, body
    by = {p["hotline"]: p for p in body["probes"]}
    assert [r["id"] for r in by["1111"]["recent"]] == ["p3", "p2", "p1"]  # keep = 3
    assert by["1111"]["last"]["outcome"] == "ok" and by["1111"]["last"]["published"] == "1111"
    status, body = await get(api, "/api/probes?hotline=1111&limit=1", "viewer")
    assert status == 200 and len(body["probes"][0]["recent"]) == 1
    assert "published" not in body["probes"][0]["last"]  # a viewer sees no number


async def test_a_scoped_token_sees_its_hotlines_only(api: tuple[Client, dict[str, str]]) -> None:
    status, body = await get(api, "/api/probes", "agency")
    assert status == 200 and [p["hotline"] for p in body["probes"]] == ["1555"]
    status, body = await get(api, "/api/probes?hotline=1111", "agency")
    assert status == 403 and body["error"]["id"] == "out-of-scope"
    status, body = await get(api, "/api/probes?hotline=9999", "supervisor")
    assert status == 404 and "9999" in body["error"]["message"]
