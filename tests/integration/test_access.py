"""Roles, scopes and expiry over HTTP with a real Redis and a scripted AMI: a viewer
reads but never acts and never sees a phone number; a token limited to some hotlines
or queues sees and touches only those (403 naming anything else, 404 still for
unknown names); an expired token is 401 ``expired-token``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.api.app import API_PREFIX, build_api
from ivr.callbacks.model import CallbackRequest
from ivr.queues.state import Agent, Caller, QueueState
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenStore
from tests.integration.test_supervisor_api import ScriptedAmi
from tests.until import until

pytestmark = pytest.mark.redis

AGENT1 = "PJSIP/agent1"  # in complaint, operator and health
AGENT1_URL = "PJSIP%2Fagent1"
CALLER = "0811111111"
CALLBACK_NUMBER = "0899999999"
HOTLINES = {"1111": ["complaint", "operator"], "1555": ["health", "operator"]}


def model() -> dict[str, QueueState]:
    def agents(*names: str) -> dict[str, Agent]:
        return {n: Agent(n, n.split("/")[1]) for n in names}

    caller = Caller(uniqueid="c1", arrived_at=1.0, caller_id=CALLER, topic="complaint")
    return {
        "complaint": QueueState("complaint", {"c1": caller}, agents(AGENT1, "PJSIP/agent2")),
        "operator": QueueState("operator", agents=agents(AGENT1)),
        "health": QueueState("health", agents=agents(AGENT1, "PJSIP/agent9")),
        "social": QueueState("social"),
    }


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    ami: ScriptedAmi
    tokens: TokenStore
    callbacks: CallbackStore
    audit: AuditLog
    by_role: dict[str, str] = field(default_factory=dict)

    async def call(
        self, method: str, path: str, who: str, json: Any = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.by_role[who]}"}
        r = await self.client.request(method, path, headers=headers, json=json)
        body: dict[str, Any] = await r.json()
        return r.status, body


@pytest.fixture
async def api(redis_clean: Redis) -> AsyncIterator[Api]:
    states = model()
    tokens = TokenStore(redis_clean)

    async def provider() -> dict[str, QueueState]:
        return states

    a = Api(
        None,  # type: ignore[arg-type]  # set below
        ScriptedAmi(states),
        tokens,
        CallbackStore(redis_clean),
        AuditLog(redis_clean),
    )
    root = web.Application()
    sub = build_api(
        tokens=tokens,
        callbacks=a.callbacks,
        queues=provider,
        ami=a.ami,
        audit=a.audit,
        settle_s=0.3,
        hotline_queues=lambda: HOTLINES,
    )
    root.add_subapp(API_PREFIX, sub)
    a.client = TestClient(TestServer(root))
    await a.client.start_server()
    for who, role, scope in [
        ("viewer", "viewer", {}),
        ("supervisor", "supervisor", {}),
        ("admin", "admin", {}),
        ("agency", "supervisor", {"hotlines": ["1111"]}),  # complaint, operator
        ("health", "supervisor", {"queues": ["health"]}),
        ("agency-admin", "admin", {"hotlines": ["1111"]}),
    ]:
        a.by_role[who], _ = await tokens.create(role, who, **scope)  # type: ignore[arg-type]
    try:
        yield a
    finally:
        await a.client.close()


async def book(api: Api, rid: str, queue: str) -> None:
    req = CallbackRequest(
        id=rid, queue=queue, hotline="1111", number=CALLBACK_NUMBER, arrived_at=1.0,
        requested_at=2.0,
    )  # fmt: skip
    assert (await api.callbacks.create(req)).created


# -- viewers -------------------------------------------------------------------------
async def test_viewer_reads_queues_without_any_number(api: Api) -> None:
    await book(api, "cb1", "complaint")
    status, body = await api.call("GET", "/api/queues", "viewer")
    assert status == 200 and len(body["queues"]) == 4
    status, body = await api.call("GET", "/api/queues/complaint", "viewer")
    assert status == 200
    assert [c["number"] for c in body["callers"]] == [None]
    assert [c["number"] for c in body["callbacks"]] == [None]
    text = json.dumps(body)
    assert "081" not in text and "089" not in text  # not even masked
    _, sup = await api.call("GET", "/api/queues/complaint", "supervisor")
    assert sup["callers"][0]["number"] == "081*****11"


ACTIONS = [
    ("POST", f"/api/queues/complaint/agents/{AGENT1_URL}/pause", {"reason": "break"}),
    ("POST", f"/api/queues/complaint/agents/{AGENT1_URL}/unpause", None),
    ("POST", f"/api/agents/{AGENT1_URL}/pause", {"reason": "break"}),
    ("POST", f"/api/agents/{AGENT1_URL}/unpause", None),
    ("PUT", "/api/queues/complaint/agents/PJSIP%2Fagent7", {"penalty": 0}),
    ("DELETE", "/api/queues/complaint/agents/PJSIP%2Fagent2", None),
    ("DELETE", "/api/callbacks/cb1", None),
    ("POST", "/api/callbacks/cb1/retry", None),
    ("GET", "/api/audit", None),
    ("GET", "/api/queues/complaint?unmask=1&reason=x", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ACTIONS)
async def test_viewer_may_not_act(api: Api, method: str, path: str, body: Any) -> None:
    await book(api, "cb1", "complaint")
    status, answer = await api.call(method, path, "viewer", json=body)
    assert status == 403 and answer["error"]["id"] == "forbidden", answer
    assert "viewer" in answer["error"]["message"]
    assert api.ami.actions == []
    assert [c.id for c in await api.callbacks.pending("complaint")] == ["cb1"]


# -- scopes --------------------------------------------------------------------------
async def test_scoped_token_lists_only_its_queues(api: Api) -> None:
    _, body = await api.call("GET", "/api/queues", "agency")
    assert [q["name"] for q in body["queues"]] == ["complaint", "operator"]
    _, body = await api.call("GET", "/api/queues", "health")
    assert [q["name"] for q in body["queues"]] == ["health"]


async def test_queue_outside_scope_is_403_naming_it_unknown_is_404(api: Api) -> None:
    status, body = await api.call("GET", "/api/queues/health", "agency")
    assert status == 403 and body["error"]["id"] == "out-of-scope"
    assert "`health`" in body["error"]["message"] and "1111" in body["error"]["message"]
    status, body = await api.call("GET", "/api/queues/nope", "agency")
    assert status == 404 and body["error"]["id"] == "unknown-queue"
    status, _ = await api.call("GET", "/api/queues/operator", "agency")
    assert status == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"/api/queues/health/agents/{AGENT1_URL}/pause", {"reason": "break"}),
        ("POST", f"/api/queues/health/agents/{AGENT1_URL}/unpause", None),
        ("PUT", "/api/queues/health/agents/PJSIP%2Fagent7", {"penalty": 0}),
        ("DELETE", "/api/queues/health/agents/PJSIP%2Fagent9", None),
        ("POST", "/api/agents/PJSIP%2Fagent9/pause", {"reason": "break"}),
        ("DELETE", "/api/callbacks/cb-health", None),
        ("POST", "/api/callbacks/cb-health/retry", None),
    ],
)
async def test_actions_outside_scope_are_403(api: Api, method: str, path: str, body: Any) -> None:
    await book(api, "cb-health", "health")
    status, answer = await api.call(method, path, "agency", json=body)
    assert status == 403 and answer["error"]["id"] == "out-of-scope", answer
    named = "agent9" if "agents/PJSIP%2Fagent9/pause" in path else "health"
    assert named in answer["error"]["message"]
    assert api.ami.actions == []
    assert [c.id for c in await api.callbacks.pending("health")] == ["cb-health"]
    entries = await api.audit.recent(1)
    assert entries[0].result == "out-of-scope"


async def test_pause_everywhere_acts_only_in_queues_in_scope(api: Api) -> None:
    status, body = await api.call(
        "POST", f"/api/agents/{AGENT1_URL}/pause", "agency", json={"reason": "lunch"}
    )
    assert status == 200, body
    assert [q["queue"] for q in body["queues"]] == ["complaint", "operator"]
    assert body["settled"] is True
    assert sorted(a["Queue"] for a in api.ami.actions) == ["complaint", "operator"]
    # the same action by an unlimited token: one QueuePause for every queue of the agent
    api.ami.actions.clear()
    status, body = await api.call("POST", f"/api/agents/{AGENT1_URL}/unpause", "supervisor")
    assert status == 200 and len(body["queues"]) == 3
    assert len(api.ami.actions) == 1 and "Queue" not in api.ami.actions[0]


async def test_actions_in_scope_succeed(api: Api) -> None:
    await book(api, "cb1", "complaint")
    path = f"/api/queues/operator/agents/{AGENT1_URL}/pause"
    status, _ = await api.call("POST", path, "agency", json={"reason": "break"})
    assert status == 200
    status, body = await api.call("DELETE", "/api/callbacks/cb1", "agency")
    assert status == 200 and body["callback"]["status"] == "cancelled"
    status, _ = await api.call("DELETE", "/api/callbacks/nope", "agency")
    assert status == 404


async def test_audit_needs_an_unlimited_admin(api: Api) -> None:
    status, body = await api.call("GET", "/api/audit", "agency-admin")
    assert status == 403 and body["error"]["id"] == "out-of-scope"
    status, _ = await api.call("GET", "/api/audit", "admin")
    assert status == 200


async def test_scoped_admin_unmasks_only_in_scope(api: Api) -> None:
    path = "/api/queues/{}?unmask=1&reason=ticket%207"
    status, body = await api.call("GET", path.format("complaint"), "agency-admin")
    assert status == 200 and body["callers"][0]["number"] == CALLER
    status, body = await api.call("GET", path.format("health"), "agency-admin")
    assert status == 403 and body["error"]["id"] == "out-of-scope"
    results = [(e.queue, e.result) for e in await api.audit.recent(5)]
    assert results == [("health", "out-of-scope"), ("complaint", "ok")]


# -- expiry --------------------------------------------------------------------------
async def test_expired_token_is_401_saying_so(api: Api) -> None:
    token, info = await api.tokens.create("supervisor", "short", lifetime_s=0.2)
    api.by_role["short"] = token
    status, _ = await api.call("GET", "/api/queues", "short")
    assert status == 200
    await until(lambda: info.expired(), what="the token's expiry")
    status, body = await api.call("GET", "/api/queues", "short")
    assert status == 401 and body["error"]["id"] == "expired-token"
    assert "expired" in body["error"]["message"] and "ivr tokens create" in body["error"]["message"]
