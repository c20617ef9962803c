"""The live-queue API over two Asterisk nodes (a real Redis, scripted AMIs): each node's
queues named on their node with a ``node`` field, the totals over nodes, actions sent
to the queue's own node with the plain name, a node whose AMI is down left out, and
a token's scope reaching a queue on every node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.ami.nodes import NodeAmis
from ivr.api.app import API_PREFIX, build_api
from ivr.api.queues import QueueDeps, number_view, queues_snapshot
from ivr.callbacks.model import CallbackRequest
from ivr.lineup.nodes import NodeLive, NodeQueues
from ivr.queues.state import Agent, AgentState, Caller, QueueState
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenStore
from tests.integration.test_supervisor_api import ScriptedAmi

pytestmark = pytest.mark.redis

AGENT1 = "PJSIP/agent1"  # in complaint on both nodes


class Live:
    """A node's live model as the views read it."""

    def __init__(self, states: dict[str, QueueState]) -> None:
        self.states = states

    async def queues(self) -> dict[str, QueueState]:
        return dict(self.states)


def node_a() -> dict[str, QueueState]:
    return {
        "complaint": QueueState(
            "complaint",
            callers={"a-1.1": Caller("a-1.1", arrived_at=100.0, caller_id="0811111111")},
            agents={AGENT1: Agent(AGENT1, "agent1"), "PJSIP/agent2": Agent("PJSIP/agent2")},
        ),
        "operator": QueueState("operator", agents={"PJSIP/agent5": Agent("PJSIP/agent5")}),
    }


def node_b() -> dict[str, QueueState]:
    return {
        "complaint": QueueState(
            "complaint",
            callers={
                "b-1.1": Caller("b-1.1", arrived_at=90.0, caller_id="0822222222"),
                "b-1.2": Caller("b-1.2", arrived_at=95.0, caller_id="0833333333"),
            },
            agents={AGENT1: Agent(AGENT1, "agent1", AgentState.IN_CALL)},
        ),
    }


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    amis: dict[str, ScriptedAmi]
    callbacks: CallbackStore
    view: NodeQueues
    tokens: dict[str, str] = field(default_factory=dict)

    async def call(
        self, method: str, path: str, who: str = "supervisor", json: Any = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        r = await self.client.request(method, path, headers=headers, json=json)
        body: dict[str, Any] = await r.json()
        return r.status, body


@pytest.fixture
async def api(redis_clean: Redis) -> AsyncIterator[Api]:
    a, b = node_a(), node_b()
    amis = {"a": ScriptedAmi(a), "b": ScriptedAmi(b)}
    view = NodeQueues([NodeLive("a", amis["a"], Live(a)), NodeLive("b", amis["b"], Live(b))])
    tokens = TokenStore(redis_clean)
    callbacks = CallbackStore(redis_clean)
    root = web.Application()
    root.add_subapp(
        API_PREFIX,
        build_api(
            tokens=tokens,
            callbacks=callbacks,
            queues=view.queues,
            ami=NodeAmis({n: cast(AmiClient, x) for n, x in amis.items()}),
            settle_s=0.3,
            nodes=view.connected,
            hotline_queues=lambda: {"1111": ["complaint", "operator"]},
        ),
    )
    api = Api(TestClient(TestServer(root)), amis, callbacks, view)
    await api.client.start_server()
    api.tokens["supervisor"], _ = await tokens.create("supervisor", "duty")
    api.tokens["complaint"], _ = await tokens.create("supervisor", "c", queues=["complaint"])
    try:
        yield api
    finally:
        await api.client.close()


async def test_each_node_s_queues_and_the_totals(api: Api) -> None:
    req = CallbackRequest(
        id="cb1", queue="complaint", hotline="1111", number="0899999999", arrived_at=80.0,
        requested_at=81.0,
    )  # fmt: skip
    assert (await api.callbacks.create(req)).created
    status, body = await api.call("GET", "/api/queues")
    assert status == 200
    by_name = {q["name"]: q for q in body["queues"]}
    assert sorted(by_name) == ["complaint@a", "complaint@b", "operator@a"]
    assert by_name["complaint@b"]["node"] == "b" and by_name["complaint@b"]["callers_waiting"] == 2
    assert by_name["complaint@a"]["pending_callbacks"] == 1  # the queue's, on every node
    assert body["nodes"] == [{"name": "a", "connected": True}, {"name": "b", "connected": True}]
    totals = {t["name"]: t for t in body["totals"]}
    assert totals["complaint"]["callers_waiting"] == 3
    assert totals["complaint"]["nodes"] == ["a", "b"]
    assert totals["complaint"]["pending_callbacks"] == 1  # counted once
    agents = totals["complaint"]["agents"]
    assert (agents["available"], agents["in_call"]) == (2, 1)  # agent1 counts once a node
    assert "node" not in totals["complaint"]
    status, one = await api.call("GET", "/api/queues/complaint@b")
    assert status == 200 and [c["uniqueid"] for c in one["callers"]] == ["b-1.1", "b-1.2"]
    assert [c["place"] for c in one["callers"]] == [2, 3]  # cb1 arrived before them
    assert [cb["id"] for cb in one["callbacks"]] == ["cb1"]


async def test_a_plain_name_is_no_queue_when_there_are_nodes(api: Api) -> None:
    status, body = await api.call("GET", "/api/queues/complaint")
    assert status == 404 and body["error"]["id"] == "unknown-queue"


async def test_an_action_goes_to_the_queue_s_node(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/queues/complaint@b/agents/PJSIP%2Fagent1/pause", json={"reason": "break"}
    )
    assert status == 200, body
    assert body["settled"] and body["queues"][0]["queue"] == "complaint@b"
    assert api.amis["a"].actions == []
    [sent] = api.amis["b"].actions
    assert (sent["Action"], sent["Queue"], sent["Interface"]) == ("QueuePause", "complaint", AGENT1)


async def test_pausing_an_agent_everywhere_pauses_it_on_each_node(api: Api) -> None:
    status, body = await api.call(
        "POST", "/api/agents/PJSIP%2Fagent1/pause", json={"reason": "lunch"}
    )
    assert status == 200, body
    assert sorted(q["queue"] for q in body["queues"]) == ["complaint@a", "complaint@b"]
    for node in ("a", "b"):
        assert [(x["Action"], x.get("Queue")) for x in api.amis[node].actions] == [
            ("QueuePause", "complaint")
        ]


async def test_a_node_whose_ami_is_down_is_left_out(api: Api) -> None:
    api.amis["b"].connected = False
    _, body = await api.call("GET", "/api/queues")
    assert sorted(q["name"] for q in body["queues"]) == ["complaint@a", "operator@a"]
    assert body["nodes"][1] == {"name": "b", "connected": False}
    assert {t["name"]: t["callers_waiting"] for t in body["totals"]}["complaint"] == 1


async def test_a_scoped_token_reaches_its_queue_on_every_node(api: Api) -> None:
    _, body = await api.call("GET", "/api/queues", who="complaint")
    assert sorted(q["name"] for q in body["queues"]) == ["complaint@a", "complaint@b"]
    assert [t["name"] for t in body["totals"]] == ["complaint"]
    status, _ = await api.call("GET", "/api/queues/operator@a", who="complaint")
    assert status == 403


async def test_the_snapshot_carries_the_nodes_and_totals(api: Api) -> None:
    deps = QueueDeps(api.callbacks, api.view.queues, nodes=api.view.connected)
    snap = await queues_snapshot(deps, number_view("supervisor"))
    assert sorted(q["name"] for q in snap["queues"]) == ["complaint@a", "complaint@b", "operator@a"]
    assert {t["name"] for t in snap["totals"]} == {"complaint", "operator"}
    assert [n["name"] for n in snap["nodes"]] == ["a", "b"]
