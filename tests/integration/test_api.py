"""The live-queue API over HTTP: tokens, errors as JSON, masking, places in line."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.api.app import API_PREFIX, build_api
from ivr.api.queues import Estimator, PlaceOf, QueuesProvider
from ivr.callbacks.model import CallbackRequest
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenStore

pytestmark = pytest.mark.redis

NOW = time.time()  # renewed before each test: waits are measured against the clock
CALLER_1 = "0811111111"
CALLER_2 = "0822222222"
CALLBACK_NUMBER = "0899999999"


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    global NOW
    NOW = time.time()


def complaint_queue() -> QueueState:
    callers = {
        "c1": Caller(uniqueid="c1", arrived_at=NOW - 100, caller_id=CALLER_1, topic="complaint"),
        "c2": Caller(
            uniqueid="c2",
            arrived_at=NOW - 20,
            caller_id=CALLER_2,
            topic="track-complaint",
            state=CallerState.ANNOUNCING,
        ),
    }
    agents = {
        "PJSIP/agent1": Agent("PJSIP/agent1", "Somchai", AgentState.IN_CALL, NOW - 50, "", 4),
        "PJSIP/agent2": Agent("PJSIP/agent2", "Malee", AgentState.PAUSED, NOW - 10, "lunch", 2),
    }
    return QueueState(name="complaint", callers=callers, agents=agents)


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: TokenStore
    callbacks: CallbackStore
    states: dict[str, QueueState]
    supervisor: str = ""
    admin: str = ""
    estimates: list[int] = field(default_factory=list)  # pending callbacks seen by the estimator

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


async def start(
    redis: Redis,
    *,
    estimator: Estimator | None = None,
    place_of: PlaceOf | None = None,
    queues: QueuesProvider | None = None,
) -> tuple[
    TestClient[web.Request, web.Application], TokenStore, CallbackStore, dict[str, QueueState]
]:
    tokens, callbacks = TokenStore(redis), CallbackStore(redis)
    states = {"complaint": complaint_queue(), "operator": QueueState(name="operator")}

    async def provider() -> dict[str, QueueState]:
        return states

    root = web.Application()
    root.add_subapp(
        API_PREFIX,
        build_api(
            tokens=tokens,
            callbacks=callbacks,
            queues=queues or provider,
            estimator=estimator,
            place_of=place_of,
        ),
    )
    client = TestClient(TestServer(root))
    await client.start_server()
    return client, tokens, callbacks, states


@pytest.fixture
async def api(redis_clean: Redis) -> AsyncIterator[Api]:
    seen: list[int] = []

    def estimator(state: QueueState, callbacks: list[CallbackRequest]) -> float | None:
        seen.append(len(callbacks))
        return 42.04 if state.callers else None

    client, tokens, callbacks, states = await start(redis_clean, estimator=estimator)
    a = Api(client, tokens, callbacks, states, estimates=seen)
    a.supervisor, _ = await tokens.create("supervisor", "wallboard")
    a.admin, _ = await tokens.create("admin", "telephony admin")
    try:
        yield a
    finally:
        await client.close()


async def add_callback(api: Api, rid: str, arrived_at: float, number: str) -> None:
    res = await api.callbacks.create(
        CallbackRequest(
            id=rid,
            queue="complaint",
            hotline="1111",
            number=number,
            arrived_at=arrived_at,
            requested_at=arrived_at + 30,
        )
    )
    assert res.created


# -- authentication ----------------------------------------------------------------
async def test_missing_token_is_401(api: Api) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}):
        r = await api.client.get("/api/queues", headers=headers)
        assert r.status == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        body = await r.json()
        assert body["error"]["id"] == "missing-token"
        assert body["error"]["message"]


async def test_wrong_token_is_401(api: Api) -> None:
    r = await api.client.get("/api/queues", headers=api.auth("ivr_not-a-real-token"))
    assert r.status == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await r.json())["error"]["id"] == "invalid-token"


async def test_revoked_token_is_401(api: Api) -> None:
    token, info = await api.tokens.create("supervisor", "temp")
    assert (await api.client.get("/api/queues", headers=api.auth(token))).status == 200
    assert await api.tokens.revoke(info.id)
    r = await api.client.get("/api/queues", headers=api.auth(token))
    assert r.status == 401
    assert (await r.json())["error"]["id"] == "invalid-token"


async def test_unknown_route_needs_a_token_then_is_json_404(api: Api) -> None:
    r = await api.client.get("/api/nothing-here")
    assert r.status == 401
    r = await api.client.get("/api/nothing-here", headers=api.auth(api.supervisor))
    assert r.status == 404
    assert (await r.json())["error"]["id"] == "not-found"
    r = await api.client.post("/api/queues", headers=api.auth(api.supervisor))
    assert r.status == 405
    assert (await r.json())["error"]["id"] == "method-not-allowed"


# -- queues ------------------------------------------------------------------------
async def test_supervisor_lists_queues(api: Api) -> None:
    await add_callback(api, "cb1", NOW - 60, CALLBACK_NUMBER)
    r = await api.client.get("/api/queues", headers=api.auth(api.supervisor))
    assert r.status == 200
    assert r.headers["Cache-Control"] == "no-store"
    queues = {q["name"]: q for q in (await r.json())["queues"]}
    assert set(queues) == {"complaint", "operator"}
    c = queues["complaint"]
    assert c["callers_waiting"] == 2
    assert 100 <= c["longest_wait_s"] < 160
    assert c["estimated_wait_s"] == 42.0
    assert c["pending_callbacks"] == 1
    assert c["agents"]["in_call"] == 1 and c["agents"]["paused"] == 1
    assert c["agents"]["available"] == 0
    o = queues["operator"]
    assert o["callers_waiting"] == 0 and o["longest_wait_s"] == 0
    assert o["estimated_wait_s"] is None and o["pending_callbacks"] == 0
    assert 1 in api.estimates


async def test_unknown_queue_is_json_404(api: Api) -> None:
    r = await api.client.get("/api/queues/nope", headers=api.auth(api.supervisor))
    assert r.status == 404
    body = await r.json()
    assert body["error"]["id"] == "unknown-queue"
    assert "nope" in body["error"]["message"]


@pytest.mark.parametrize("query", ["unmask=maybe", "unmaks=1", "limit=5"])
async def test_bad_query_parameter_is_400(api: Api, query: str) -> None:
    r = await api.client.get(f"/api/queues/complaint?{query}", headers=api.auth(api.admin))
    assert r.status == 400
    assert (await r.json())["error"]["id"] == "bad-request"
    r = await api.client.get("/api/queues?x=1", headers=api.auth(api.supervisor))
    assert r.status == 400


async def test_queue_detail_masks_numbers(api: Api) -> None:
    await add_callback(api, "cb1", NOW - 60, CALLBACK_NUMBER)
    r = await api.client.get("/api/queues/complaint", headers=api.auth(api.supervisor))
    assert r.status == 200
    text = await r.text()
    for raw in (CALLER_1, CALLER_2, CALLBACK_NUMBER):
        assert raw not in text
    body = await r.json()
    assert [c["number"] for c in body["callers"]] == ["081*****11", "082*****22"]
    assert [c["topic"] for c in body["callers"]] == ["complaint", "track-complaint"]
    assert body["callers"][1]["state"] == "announcing"
    assert 95 <= body["callers"][0]["wait_s"] < 160
    cb = body["callbacks"][0]
    assert cb["number"] == "089*****99"
    assert cb["id"] == "cb1" and cb["status"] == "pending" and cb["attempts"] == 0
    assert cb["arrived_at"] == NOW - 60
    assert set(cb) >= {"next_attempt_at", "last_result"}
    assert body["agents"] == [
        {
            "interface": "PJSIP/agent1",
            "name": "Somchai",
            "state": "in_call",
            "since": NOW - 50,
            "paused_reason": "",
            "calls_taken": 4,
        },
        {
            "interface": "PJSIP/agent2",
            "name": "Malee",
            "state": "paused",
            "since": NOW - 10,
            "paused_reason": "lunch",
            "calls_taken": 2,
        },
    ]


async def test_supervisor_may_not_unmask(api: Api) -> None:
    path = "/api/queues/complaint?unmask=1&reason=curious"
    r = await api.client.get(path, headers=api.auth(api.supervisor))
    assert r.status == 403
    assert (await r.json())["error"]["id"] == "forbidden"
    assert CALLER_1 not in await r.text()


async def test_admin_unmasks_and_is_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    await add_callback(api, "cb1", NOW - 60, CALLBACK_NUMBER)
    masked = await api.client.get("/api/queues/complaint", headers=api.auth(api.admin))
    assert CALLER_1 not in await masked.text()  # an admin sees masked numbers by default
    path = "/api/queues/complaint?unmask=1&reason=complaint%20follow-up%20ticket%2042"
    with caplog.at_level(logging.INFO, logger="ivr.api"):
        r = await api.client.get(path, headers=api.auth(api.admin))
    assert r.status == 200
    body = await r.json()
    assert [c["number"] for c in body["callers"]] == [CALLER_1, CALLER_2]
    assert body["callbacks"][0]["number"] == CALLBACK_NUMBER
    logged = [rec for rec in caplog.records if rec.getMessage() == "phone numbers shown unmasked"]
    assert len(logged) == 1
    info = logged[0].__dict__["fields"]
    assert info["token_name"] == "telephony admin" and info["queue"] == "complaint"
    assert info["reason"] == "complaint follow-up ticket 42"
    (entry,) = await AuditLog(api.tokens.redis).recent(10)
    assert (entry.action, entry.queue, entry.result) == ("unmask", "complaint", "ok")
    assert entry.detail == "complaint follow-up ticket 42"


@pytest.mark.parametrize("query", ["unmask=1", "unmask=1&reason=", "unmask=1&reason=%20"])
async def test_unmask_needs_a_reason(api: Api, query: str) -> None:
    r = await api.client.get(f"/api/queues/complaint?{query}", headers=api.auth(api.admin))
    assert r.status == 400
    body = await r.json()
    assert body["error"]["id"] == "reason-required" and "reason=" in body["error"]["message"]
    assert CALLER_1 not in json.dumps(body)
    (entry,) = await AuditLog(api.tokens.redis).recent(10)
    assert (entry.action, entry.result) == ("unmask", "reason-required")


async def test_reason_without_unmask_is_400(api: Api) -> None:
    r = await api.client.get("/api/queues/complaint?reason=x", headers=api.auth(api.admin))
    assert r.status == 400


async def test_places_count_callbacks_that_arrived_earlier(api: Api) -> None:
    # c1 arrived 100 s ago, c2 20 s ago; callbacks keep their callers' original arrival
    await add_callback(api, "before-all", NOW - 200, "0811000001")
    await add_callback(api, "between", NOW - 60, "0811000002")
    await add_callback(api, "after-all", NOW - 5, "0811000003")
    r = await api.client.get("/api/queues/complaint", headers=api.auth(api.supervisor))
    body = await r.json()
    assert [(c["uniqueid"], c["place"]) for c in body["callers"]] == [("c1", 2), ("c2", 4)]
    assert [cb["id"] for cb in body["callbacks"]] == ["before-all", "between", "after-all"]
    assert body["pending_callbacks"] == 3


async def test_injected_place_of_is_used(redis_clean: Redis) -> None:
    def place_of(state: QueueState, uniqueid: str, callbacks: Sequence[CallbackRequest]) -> int:
        return 10 + len(uniqueid)

    client, tokens, _, _ = await start(redis_clean, place_of=place_of)
    try:
        token, _ = await tokens.create("supervisor", "")
        r = await client.get("/api/queues/complaint", headers={"Authorization": f"Bearer {token}"})
        body = await r.json()
        assert [c["place"] for c in body["callers"]] == [12, 12]
        assert body["estimated_wait_s"] is None  # no estimator given
    finally:
        await client.close()


async def test_store_failure_is_json_503(redis_clean: Redis) -> None:
    async def broken() -> dict[str, QueueState]:
        raise RedisConnectionError("connection refused")

    client, tokens, _, _ = await start(redis_clean, queues=broken)
    try:
        token, _ = await tokens.create("supervisor", "")
        r = await client.get("/api/queues", headers={"Authorization": f"Bearer {token}"})
        assert r.status == 503
        assert (await r.json())["error"]["id"] == "store-unavailable"
    finally:
        await client.close()
