"""Listening to an agent's call over HTTP with a real Redis and a scripted AMI: the
Originate sent to the supervisor's phone, and every error (unknown agent, no call,
phone not configured, Asterisk refusing at once or a moment later, no AMI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.ami.client import AmiError
from ivr.ami.errors import AmiTimeout
from ivr.ami.events import AnyEvent, parse_event
from ivr.api.app import API_PREFIX, build_api
from ivr.queues.state import Agent, AgentState, QueueState
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenStore

pytestmark = pytest.mark.redis

AGENT = "PJSIP/agent1"
PATH = "/api/agents/PJSIP%2Fagent1/spy"
PHONES = ("PJSIP/supervisor1", "PJSIP/supervisor2")
CHANNEL = "PJSIP/agent1-0000002a"


class ScriptedAmi:
    """Records Originates; refuses at once, or reports a failure event just after."""

    def __init__(self) -> None:
        self.connected = True
        self.originates: list[dict[str, Any]] = []
        self.refuse = ""
        self.fail_later = False
        self._waiters: list[tuple[Callable[[AnyEvent], bool], asyncio.Future[AnyEvent]]] = []
        self.channels: list[dict[str, str]] = []  # CoreShowChannel rows

    async def action(self, name: str, /, **fields_: Any) -> Any:
        assert name == "CoreShowChannels"
        return [{"Response": "Success"}, *self.channels, {"Event": "CoreShowChannelsComplete"}]

    async def originate(
        self,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        variables: Mapping[str, str] = {},
        caller_id: str | None = None,
        timeout_ms: int = 30000,
        async_: bool = True,
        *,
        action_id: str | None = None,
    ) -> str:
        self.originates.append(
            {"channel": channel, "context": context, "exten": exten, **variables}
        )
        if self.refuse:
            raise AmiError(f"AMI Originate failed on 127.0.0.1:5038: {self.refuse}")
        if self.fail_later:
            event = parse_event(
                {"Event": "OriginateResponse", "ActionID": action_id or "", "Response": "Failure",
                 "Reason": "0"}
            )  # fmt: skip
            asyncio.get_running_loop().call_later(0.05, self._deliver, event)
        return action_id or ""

    def _deliver(self, event: AnyEvent) -> None:
        for predicate, waiter in self._waiters:
            if predicate(event) and not waiter.done():
                waiter.set_result(event)

    async def wait_event(
        self,
        predicate: Callable[[AnyEvent], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        names: Sequence[str] | None = None,
    ) -> AnyEvent:
        assert names is None or "OriginateResponse" in names
        waiter: asyncio.Future[AnyEvent] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, waiter))
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise AmiTimeout("no matching event") from None


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    ami: ScriptedAmi
    states: dict[str, QueueState]
    audit: AuditLog
    token: str = ""

    async def spy(self, body: Any, path: str = PATH) -> tuple[int, dict[str, Any]]:
        r = await self.client.post(
            path, json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        answer: dict[str, Any] = await r.json()
        return r.status, answer


@pytest.fixture
async def api(redis_clean: Redis) -> AsyncIterator[Api]:
    agent = Agent(AGENT, "agent1", AgentState.IN_CALL, caller_uniqueid="c.1", channel=CHANNEL)
    states = {
        "complaint": QueueState("complaint", agents={AGENT: agent}),
        "operator": QueueState("operator", agents={AGENT: Agent(AGENT, "agent1")}),
    }
    ami = ScriptedAmi()
    tokens = TokenStore(redis_clean)

    async def provider() -> dict[str, QueueState]:
        return states

    root = web.Application()
    sub = build_api(
        tokens=tokens,
        callbacks=CallbackStore(redis_clean),
        queues=provider,
        spy_ami=ami,
        supervisor_phones=PHONES,
    )
    root.add_subapp(API_PREFIX, sub)
    client = TestClient(TestServer(root))
    await client.start_server()
    a = Api(client, ami, states, AuditLog(redis_clean))
    a.token, _ = await tokens.create("supervisor", "duty supervisor")
    try:
        yield a
    finally:
        await client.close()


@pytest.mark.parametrize(("mode", "options"), [("listen", "q"), ("whisper", "qw"), ("barge", "qB")])
async def test_each_mode_calls_the_supervisor_phone_into_chanspy(
    api: Api, mode: str, options: str
) -> None:
    status, body = await api.spy({"mode": mode, "phone": "PJSIP/supervisor2"})
    assert status == 200, body
    assert body == {
        "agent": AGENT,
        "mode": mode,
        "phone": "PJSIP/supervisor2",
        "spy_channel": CHANNEL,
        "status": "ringing",
    }
    assert api.ami.originates == [
        {"channel": "PJSIP/supervisor2", "context": "ivr-spy", "exten": "s",
         "IVR_SPY_CHANNEL": CHANNEL, "IVR_SPY_OPTIONS": options}
    ]  # fmt: skip
    [entry] = await api.audit.recent(1)
    assert (entry.action, entry.agent, entry.result) == ("spy", AGENT, "ok")
    assert entry.detail == f"{mode} on PJSIP/supervisor2"


async def test_errors_name_the_fix(api: Api) -> None:
    listen = {"mode": "listen", "phone": PHONES[0]}
    status, body = await api.spy(listen, "/api/agents/PJSIP%2Fnobody/spy")
    assert status == 404 and body["error"]["id"] == "unknown-agent"

    status, body = await api.spy({"mode": "listen", "phone": "PJSIP/agent2"})
    assert status == 400 and body["error"]["id"] == "unknown-phone"
    assert all(p in body["error"]["message"] for p in PHONES)
    status, body = await api.spy({"mode": "spy", "phone": PHONES[0]})
    assert status == 400 and "listen, whisper, barge" in body["error"]["message"]

    api.ami.refuse = "Extension does not exist."
    status, body = await api.spy(listen)
    assert status == 502 and "Extension does not exist." in body["error"]["message"]
    api.ami.refuse = ""
    api.ami.fail_later = True
    status, body = await api.spy(listen)
    assert status == 502 and PHONES[0] in body["error"]["message"]
    api.ami.fail_later = False

    api.ami.connected = False
    status, body = await api.spy(listen)
    assert status == 503 and body["error"]["id"] == "ami-unavailable"
    api.ami.connected = True

    agent = api.states["complaint"].agents[AGENT]
    agent.channel = ""  # in a call that started before the server: Asterisk is asked
    api.ami.channels = [
        {"Event": "CoreShowChannel", "Channel": "PJSIP/agent10-00000001", "BridgeId": "b1"},
        {"Event": "CoreShowChannel", "Channel": CHANNEL, "BridgeId": "b2"},
    ]
    status, body = await api.spy(listen)
    assert status == 200 and body["spy_channel"] == CHANNEL, body
    agent.state = AgentState.AVAILABLE
    status, body = await api.spy(listen)
    assert status == 409 and body["error"]["id"] == "agent-not-on-call"
    assert len(api.ami.originates) == 3  # the two Asterisk refused, the one found

    results = [e.result for e in await api.audit.recent(10)]
    assert results == [
        "agent-not-on-call", "ok", "ami-unavailable", "asterisk-refused", "asterisk-refused",
        "bad-request", "unknown-phone", "unknown-agent",
    ]  # fmt: skip


async def test_no_phone_configured_is_a_400_saying_where_to_set_them(redis_clean: Redis) -> None:
    tokens = TokenStore(redis_clean)

    async def provider() -> dict[str, QueueState]:
        return {"complaint": QueueState("complaint", agents={AGENT: Agent(AGENT, channel=CHANNEL)})}

    root = web.Application()
    root.add_subapp(
        API_PREFIX, build_api(tokens=tokens, callbacks=CallbackStore(redis_clean), queues=provider)
    )
    async with TestClient(TestServer(root)) as client:
        token, _ = await tokens.create("supervisor", "duty supervisor")
        r = await client.post(
            PATH, json={"mode": "listen"}, headers={"Authorization": f"Bearer {token}"}
        )
        body = await r.json()
    assert r.status == 400 and body["error"]["id"] == "unknown-phone"
    assert "supervisor_phones in [api]" in body["error"]["message"]


async def test_scope_and_role(api: Api, redis_clean: Redis) -> None:
    """The queue of the agent's call must be within the token's queues; a viewer may
    not listen."""
    tokens = TokenStore(redis_clean)
    listen = {"mode": "listen", "phone": PHONES[0]}
    api.token, _ = await tokens.create("supervisor", "operator desk", queues=["operator"])
    status, body = await api.spy(listen)  # the call is one of complaint's
    assert status == 403 and body["error"]["id"] == "out-of-scope", body
    assert "complaint" in body["error"]["message"]
    api.token, _ = await tokens.create("supervisor", "complaint desk", queues=["complaint"])
    status, body = await api.spy(listen)
    assert status == 200, body
    api.token, _ = await tokens.create("viewer", "wall")
    status, body = await api.spy(listen)
    assert status == 403 and body["error"]["id"] == "forbidden", body
    assert len(api.ami.originates) == 1
