"""``POST /api/agents/{agent}/spy``: a supervisor listens to an agent's call, whispers
to the agent, or barges in.

Body ``{"mode": "listen"|"whisper"|"barge", "phone": "PJSIP/supervisor1"}``. The
server finds the agent's current call in the live model (``Agent.channel``, the
agent's own channel from ``AgentConnect``; for a call that started before the server
did, Asterisk's ``CoreShowChannels``), then sends an asynchronous AMI
``Originate`` to the supervisor's phone (one of ``[api] supervisor_phones``). When
the supervisor answers, the dialplan context ``ivr-spy``
(``dialplans/extensions_hotline.conf``) checks the two channel variables it gets,
``IVR_SPY_CHANNEL`` (the agent's channel) and ``IVR_SPY_OPTIONS`` (``q``, ``qw`` or
``qB``), and runs ``ChanSpy(<channel>,<options>E)``: quiet, whisper or barge, ending
when the agent's call ends.

The answer ``{"agent", "mode", "phone", "spy_channel", "status": "ringing"}`` names in
``spy_channel`` the agent's channel that will be spied on. Errors: 404 unknown agent,
403 outside the token's queues, 409 ``agent-not-on-call``, 400 ``unknown-phone``
listing the configured phones, 502 with Asterisk's message when the Originate is
refused (at once, or by an ``OriginateResponse`` failure within ``fail_wait_s``), 503
without the AMI. Every attempt is audited (``spy``, its mode and phone in the detail).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from ivr.ami.errors import AmiError, AmiTimeout
from ivr.ami.events import AnyEvent
from ivr.ami.ports import Originator
from ivr.api.action_input import (
    SpyRequest,
    check_agent,
    member_channel,
    spy_channel,
    spy_request,
)
from ivr.api.actions import json_body
from ivr.api.audit import audited
from ivr.api.auth import require_role
from ivr.api.errors import AmiUnavailable, AsteriskRefused, Conflict, UnknownAgent
from ivr.api.queues import QueuesProvider
from ivr.api.scope import check_queue, visible_queues
from ivr.log import api_log, fields
from ivr.queues.state import AgentState

__all__ = ["SPY_CONTEXT", "SPY_DEPS", "SpyAmi", "SpyDeps", "routes"]

#: The dialplan context the supervisor's answered phone runs.
SPY_CONTEXT = "ivr-spy"


class SpyAmi(Originator, Protocol):
    """What listening needs of :class:`ivr.ami.client.AmiClient`."""

    @property
    def connected(self) -> bool: ...

    async def wait_event(
        self,
        predicate: Callable[[AnyEvent], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        names: Sequence[str] | None = None,
    ) -> AnyEvent: ...


@dataclass(frozen=True)
class SpyDeps:
    ami: SpyAmi | None
    queues: QueuesProvider
    phones: tuple[str, ...]
    ring_timeout_s: float = 30.0  # how long the supervisor's phone rings
    fail_wait_s: float = 1.0  # how long a quick OriginateResponse failure is waited for
    # several Asterisk nodes: the AMI of the node a queue is on (``complaint@a``)
    node_ami: Callable[[str], SpyAmi] | None = None

    def ami_of(self, queue: str) -> SpyAmi | None:
        """The AMI that reaches the agent's call in ``queue``: its node's."""
        return self.node_ami(queue) if self.node_ami is not None and queue else self.ami


SPY_DEPS = web.AppKey("spy_deps", SpyDeps)

routes = web.RouteTableDef()


async def _agent_call(request: web.Request, deps: SpyDeps, agent: str) -> tuple[str, str]:
    """The channel of the agent's current call ("" when on none) and its queue, after
    the scope check: the queue of that call, or with no call one of the agent's queues."""
    states = await deps.queues()
    queues = sorted(q for q, st in states.items() if agent in st.agents)
    if not queues:
        raise UnknownAgent(f"agent `{agent}` is a member of no queue")
    on_call = [(q, states[q].agents[agent].channel) for q in queues]
    on_call = [(q, c) for q, c in on_call if c]
    if on_call:
        queue, channel = on_call[0]
        check_queue(request, queue)
        return channel, queue
    talking = [q for q in queues if states[q].agents[agent].state is AgentState.IN_CALL]
    if talking:  # a call the model saw start before this server did: ask Asterisk
        check_queue(request, talking[0])
        return await _asterisk_channel(deps.ami_of(talking[0]), agent), talking[0]
    if not visible_queues(request, queues):
        check_queue(request, queues[0])
    return "", queues[0]


async def _asterisk_channel(ami: SpyAmi | None, agent: str) -> str:
    """The agent's bridged channel as Asterisk lists it ("" when unknown)."""
    if ami is None or not ami.connected:
        return ""
    try:
        rows = await ami.action("CoreShowChannels")
    except AmiError:
        return ""
    return member_channel(agent, [r for r in rows if isinstance(r, dict)] if rows else [])


async def _originate(
    deps: SpyDeps, ami: SpyAmi | None, spy: SpyRequest, channel: str, agent: str
) -> None:
    """Call the supervisor's phone into ``ivr-spy``; 502 when Asterisk refuses it."""
    if ami is None or not ami.connected:
        raise AmiUnavailable("the AMI is not connected to Asterisk; try again shortly")
    action_id = f"spy-{uuid.uuid4().hex[:12]}"
    # listen before asking: a failure can come with the reply itself
    failed = asyncio.ensure_future(
        ami.wait_event(
            lambda e: (
                e.name == "OriginateResponse"
                and e.get("ActionID") == action_id
                and e.get("Response").lower() != "success"
            ),
            timeout=deps.fail_wait_s,
            names=["OriginateResponse"],  # named: the AMI mask keeps to the call class
        )
    )
    try:
        await ami.originate(
            spy.phone,
            SPY_CONTEXT,
            "s",
            variables={"IVR_SPY_CHANNEL": channel, "IVR_SPY_OPTIONS": spy.options},
            caller_id=f'"{spy.mode} {_plain(agent)}" <spy>',
            timeout_ms=int(deps.ring_timeout_s * 1000),
            action_id=action_id,
        )
    except AmiError as e:
        failed.cancel()
        raise AsteriskRefused(f"Asterisk refused to call {spy.phone}: {e}") from None
    except BaseException:
        failed.cancel()
        raise
    try:
        event = await failed
    except AmiTimeout:
        return  # no quick failure: the supervisor's phone is ringing
    reason = event.get("Reason") or "?"
    raise AsteriskRefused(
        f"Asterisk could not call {spy.phone} (OriginateResponse Failure, reason {reason}): "
        "check that the phone is registered and reachable"
    )


def _plain(text: str) -> str:
    """``text`` fit for a caller ID name (no quotes, angle brackets or line breaks)."""
    return "".join(c for c in text if c not in '"<>\r\n')[:40]


@routes.post("/agents/{agent}/spy")
async def spy(request: web.Request) -> web.Response:
    deps = request.app[SPY_DEPS]
    agent = request.match_info["agent"]
    async with audited(request, "spy", agent=agent) as note:
        require_role(request, "supervisor", "admin")
        check_agent(agent)
        channel, queue = await _agent_call(request, deps, agent)
        wanted = spy_request(await json_body(request), deps.phones)
        note.detail = f"{wanted.mode} on {wanted.phone}"
        if not channel or not spy_channel(channel):
            raise Conflict(
                f"agent `{agent}` is on no call now; try again while it talks to a caller",
                error_id="agent-not-on-call",
            )
        await _originate(deps, deps.ami_of(queue), wanted, channel, agent)
        api_log.info(
            "supervisor phone called to listen",
            extra=fields(agent=agent, mode=wanted.mode, phone=wanted.phone, channel=channel),
        )
        body = {
            "agent": agent,
            "mode": wanted.mode,
            "phone": wanted.phone,
            "spy_channel": channel,
            "status": "ringing",
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})
