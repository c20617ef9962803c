"""Supervisor actions over HTTP with a real Redis and a scripted AMI: pauses with a
reason, members added and removed, callbacks cancelled and retried, every error
code, and the audit entries each attempt leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.ami.client import AmiError
from ivr.api.app import API_PREFIX, build_api
from ivr.callbacks.model import CallbackRequest
from ivr.queues.state import Agent, AgentState, QueueState
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenStore
from tests.until import until

pytestmark = pytest.mark.redis

AGENT1 = "PJSIP/agent1"
AGENT1_URL = "PJSIP%2Fagent1"
NUMBER = "0899999999"


class ScriptedAmi:
    """Stands in for AmiClient: records actions and applies them to the model, as the
    AMI events would, unless told to refuse or to keep the model unchanged."""

    def __init__(self, states: dict[str, QueueState]) -> None:
        self.states = states
        self.connected = True
        self.actions: list[dict[str, str]] = []
        self.refuse = ""  # Asterisk's message when it refuses
        self.reflect = True

    async def action(self, name: str, /, **fields_: Any) -> dict[str, str]:
        act = {"Action": name, **{k: str(v) for k, v in fields_.items()}}
        self.actions.append(act)
        if self.refuse:
            raise AmiError(f"AMI {name} failed on 127.0.0.1:5038: {self.refuse}")
        if self.reflect:
            self._apply(act)
        return {"Response": "Success"}

    def _apply(self, act: dict[str, str]) -> None:
        iface = act["Interface"]
        queues = [act["Queue"]] if "Queue" in act else list(self.states)
        for q in queues:
            st = self.states[q]
            if act["Action"] == "QueueAdd":
                st.agents[iface] = Agent(iface, act.get("MemberName", iface))
            elif act["Action"] == "QueueRemove":
                st.agents.pop(iface, None)
            elif iface in st.agents:
                paused = act["Paused"] == "true"
                agent = st.agents[iface]
                agent.state = AgentState.PAUSED if paused else AgentState.AVAILABLE
                agent.paused_reason = act.get("Reason", "") if paused else ""


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    ami: ScriptedAmi
    callbacks: CallbackStore
    audit: AuditLog
    states: dict[str, QueueState]
    tokens: dict[str, str] = field(default_factory=dict)

    async def call(
        self, method: str, path: str, role: str = "supervisor", json: Any = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        r = await self.client.request(method, path, headers=headers, json=json)
        body: dict[str, Any] = await r.json()
        return r.status, body


def model() -> dict[str, QueueState]:
    def agents(*names: str) -> dict[str, Agent]:
        return {n: Agent(n, n.split("/")[1]) for n in names}

    return {
        "complaint": QueueState("complaint", agents=agents(AGENT1, "PJSIP/agent2")),
        "operator": QueueState("operator", agents=agents(AGENT1, "PJSIP/agent5")),
    }


@pytest.fixture
async def api(redis_clean: Redis) -> AsyncIterator[Api]:
    states = model()
    ami = ScriptedAmi(states)
    tokens, callbacks, audit = (
        TokenStore(redis_clean),
        CallbackStore(redis_clean),
        AuditLog(redis_clean),
    )

    async def provider() -> dict[str, QueueState]:
        return states

    root = web.Application()
    sub = build_api(
        tokens=tokens, callbacks=callbacks, queues=provider, ami=ami, audit=audit, settle_s=0.3
    )
    root.add_subapp(API_PREFIX, sub)
    client = TestClient(TestServer(root))
    await client.start_server()
    a = Api(client, ami, callbacks, audit, states)
    a.tokens["supervisor"], _ = await tokens.create("supervisor", "duty supervisor")
    a.tokens["admin"], _ = await tokens.create("admin", "telephony admin")
    try:
        yield a
    finally:
        await client.close()


# -- pauses --------------------------------------------------------------------------
async def test_pause_in_one_queue_answers_the_new_state(api: Api) -> None:
    path = f"/api/queues/complaint/agents/{AGENT1_URL}/pause"
    status, body = await api.call("POST", path, json={"reason": "training"})
    assert status == 200, body
    assert api.ami.actions == [
        {"Action": "QueuePause", "Interface": AGENT1, "Paused": "true", "Reason": "training",
         "Queue": "complaint"}
    ]  # fmt: skip
    assert body["agent"] == AGENT1 and body["settled"] is True
    [q] = body["queues"]
    assert q["queue"] == "complaint" and q["state"] == "paused" and q["paused_reason"] == "training"
    assert api.states["operator"].agents[AGENT1].state is AgentState.AVAILABLE
    status, body = await api.call("POST", f"/api/queues/complaint/agents/{AGENT1_URL}/unpause")
    assert status == 200 and body["queues"][0]["state"] == "available"
    assert api.ami.actions[-1]["Paused"] == "false" and "Reason" not in api.ami.actions[-1]


async def test_pause_in_every_queue_of_the_agent(api: Api) -> None:
    status, body = await api.call(
        "POST", f"/api/agents/{AGENT1_URL}/pause", json={"reason": "break"}
    )
    assert status == 200, body
    assert "Queue" not in api.ami.actions[0]
    assert [(q["queue"], q["state"]) for q in body["queues"]] == [
        ("complaint", "paused"), ("operator", "paused"),
    ]  # fmt: skip
    status, body = await api.call("POST", f"/api/agents/{AGENT1_URL}/unpause")
    assert status == 200 and {q["state"] for q in body["queues"]} == {"available"}


async def test_a_change_the_model_does_not_show_is_answered_unsettled(api: Api) -> None:
    api.ami.reflect = False
    path = f"/api/queues/complaint/agents/{AGENT1_URL}/pause"
    status, body = await api.call("POST", path, json={"reason": "meeting"})
    assert status == 200 and body["settled"] is False
    assert body["queues"][0]["state"] == "available"


async def test_add_and_remove_a_member(api: Api) -> None:
    path = "/api/queues/complaint/agents/PJSIP%2Fagent9"
    status, body = await api.call("PUT", path, json={"interface": "PJSIP/agent9", "penalty": 2})
    assert status == 200, body
    assert api.ami.actions[-1] == {
        "Action": "QueueAdd", "Queue": "complaint", "Interface": "PJSIP/agent9", "Penalty": "2"
    }  # fmt: skip
    assert body["queues"][0]["member"] is True
    status, body = await api.call("DELETE", path)
    assert status == 200, body
    assert api.ami.actions[-1]["Action"] == "QueueRemove"
    assert body["queues"] == [{"queue": "complaint", "member": False}]


# -- errors --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "error_id", "named"),
    [
        ("POST", "/api/queues/nope/agents/PJSIP%2Fagent1/pause", "unknown-queue", "nope"),
        ("POST", "/api/queues/complaint/agents/PJSIP%2Fagent7/pause", "unknown-agent", "agent7"),
        ("POST", "/api/agents/PJSIP%2Fagent7/pause", "unknown-agent", "PJSIP/agent7"),
        ("DELETE", "/api/queues/complaint/agents/PJSIP%2Fagent5", "unknown-agent", "agent5"),
        ("PUT", "/api/queues/nope/agents/PJSIP%2Fagent9", "unknown-queue", "nope"),
        ("DELETE", "/api/callbacks/cb-none", "unknown-callback", "cb-none"),
        ("POST", "/api/callbacks/cb-none/retry", "unknown-callback", "cb-none"),
    ],
)
async def test_unknown_things_are_404_naming_them(
    api: Api, method: str, path: str, error_id: str, named: str
) -> None:
    status, body = await api.call(
        method, path, json={"reason": "break"} if "pause" in path else None
    )
    assert status == 404 and body["error"]["id"] == error_id
    assert named in body["error"]["message"]
    assert api.ami.actions == []


@pytest.mark.parametrize("body", [{"reason": "lunch-at-home"}, {}, {"reason": 3}, None])
async def test_a_reason_not_in_the_list_is_400_listing_them(api: Api, body: Any) -> None:
    path = f"/api/queues/complaint/agents/{AGENT1_URL}/pause"
    status, answer = await api.call("POST", path, json=body)
    assert status == 400 and answer["error"]["id"] == "unknown-reason"
    for reason in ("break", "lunch", "training", "meeting", "admin"):
        assert reason in answer["error"]["message"]
    assert api.ami.actions == []


async def test_bad_bodies_and_agents_are_400(api: Api) -> None:
    status, body = await api.call("PUT", "/api/queues/complaint/agents/agent9", json={})
    assert status == 400 and "PJSIP%2Fagent1" in body["error"]["message"]
    path = "/api/queues/complaint/agents/PJSIP%2Fagent9"
    for bad in ({"interface": "PJSIP/other"}, {"penalty": -1}, {"colour": "red"}, [1]):
        status, body = await api.call("PUT", path, json=bad)
        assert status == 400 and body["error"]["id"] == "bad-request", bad
    r = await api.client.put(
        path, data="{not json", headers={"Authorization": f"Bearer {api.tokens['supervisor']}"}
    )
    assert r.status == 400


async def test_asterisk_refusing_is_502_with_its_message(api: Api) -> None:
    api.ami.refuse = "Interface not found"
    path = f"/api/queues/complaint/agents/{AGENT1_URL}/pause"
    status, body = await api.call("POST", path, json={"reason": "break"})
    assert status == 502 and body["error"]["id"] == "asterisk-refused"
    assert "Interface not found" in body["error"]["message"]


async def test_no_ami_connection_is_503(api: Api) -> None:
    api.ami.connected = False
    status, body = await api.call("POST", f"/api/agents/{AGENT1_URL}/unpause")
    assert status == 503 and body["error"]["id"] == "ami-unavailable"
    assert api.ami.actions == []


# -- callbacks -----------------------------------------------------------------------
async def book(api: Api, rid: str, number: str = NUMBER) -> None:
    req = CallbackRequest(
        id=rid, queue="complaint", hotline="1111", number=number, arrived_at=1.0, requested_at=2.0
    )
    assert (await api.callbacks.create(req)).created


async def test_cancel_a_pending_callback(api: Api) -> None:
    await book(api, "cb1")
    status, body = await api.call("DELETE", "/api/callbacks/cb1")
    assert status == 200, body
    assert body["callback"]["status"] == "cancelled"
    assert body["callback"]["number"] == "089*****99"
    assert await api.callbacks.pending("complaint") == []
    status, body = await api.call("DELETE", "/api/callbacks/cb1")
    assert status == 409 and "cancelled" in body["error"]["message"]


async def test_a_callback_being_dialled_is_never_cancelled(api: Api) -> None:
    await book(api, "cb1")
    assert await api.callbacks.claim("cb1", "instance-a", until=9e9)
    status, body = await api.call("DELETE", "/api/callbacks/cb1")
    assert status == 409 and body["error"]["id"] == "callback-dialing"
    assert "dialing" in body["error"]["message"]
    got = await api.callbacks.get("cb1")
    assert got is not None and got.status.value == "dialing"


async def test_retry_a_failed_callback_now(api: Api) -> None:
    await book(api, "cb1")
    status, body = await api.call("POST", "/api/callbacks/cb1/retry")
    assert status == 409 and body["error"]["id"] == "callback-pending"
    assert await api.callbacks.claim("cb1", "a", until=9e9)
    assert await api.callbacks.release("cb1", "a", "no-answer", None, 1)
    status, body = await api.call("POST", "/api/callbacks/cb1/retry")
    assert status == 200, body
    assert body["callback"]["status"] == "pending"
    assert [c.id for c in await api.callbacks.pending("complaint")] == ["cb1"]
    assert await api.callbacks.claim("cb1", "b", until=9e9)  # due now


async def test_retry_refused_while_the_number_has_another_live_callback(api: Api) -> None:
    await book(api, "cb1")
    assert await api.callbacks.claim("cb1", "a", until=9e9)
    assert await api.callbacks.release("cb1", "a", "busy", None, 1)
    await book(api, "cb2")
    status, body = await api.call("POST", "/api/callbacks/cb1/retry")
    assert status == 409 and body["error"]["id"] == "number-already-booked"
    assert "cb2" in body["error"]["message"]


# -- audit ---------------------------------------------------------------------------
async def test_every_attempt_is_audited_newest_first(api: Api) -> None:
    await book(api, "cb1")
    path = f"/api/queues/complaint/agents/{AGENT1_URL}/pause"
    await api.call("POST", path, json={"reason": "break"})
    await api.call("POST", path, json={"reason": "nap"})
    await api.call("DELETE", "/api/callbacks/cb1")
    status, body = await api.call("GET", "/api/audit?limit=10", role="admin")
    assert status == 200, body
    entries = body["entries"]
    assert [(e["action"], e["result"]) for e in entries] == [
        ("cancel-callback", "ok"), ("pause", "unknown-reason"), ("pause", "ok"),
    ]  # fmt: skip
    assert entries[0]["callback"] == "cb1" and entries[0]["token_name"] == "duty supervisor"
    assert entries[2]["queue"] == "complaint" and entries[2]["agent"] == AGENT1
    assert entries[2]["detail"] == "break" and entries[2]["token_id"]
    assert entries[0]["at"] >= entries[2]["at"]
    _, body = await api.call("GET", "/api/audit?limit=1", role="admin")
    assert len(body["entries"]) == 1
    assert NUMBER not in str(await api.audit.recent(100))


async def test_audit_is_for_admins_only(api: Api) -> None:
    status, body = await api.call("GET", "/api/audit")
    assert status == 403 and body["error"]["id"] == "forbidden"
    for bad in ("limit=0", "limit=x", "since=1"):
        status, body = await api.call("GET", f"/api/audit?{bad}", role="admin")
        assert status == 400, bad


async def test_refusals_are_audited_with_the_error_id(api: Api) -> None:
    api.ami.connected = False
    await api.call("POST", f"/api/agents/{AGENT1_URL}/unpause")
    entries = await until(lambda: api.audit.recent(5), what="an audit entry")
    assert entries[0].result == "ami-unavailable" and entries[0].action == "unpause"
