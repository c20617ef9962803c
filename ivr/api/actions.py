"""Supervisor actions on agents, through the AMI, each answered with the agent's new
state as the live model sees it:

* ``POST /api/queues/{queue}/agents/{agent}/pause`` ``{"reason": "break"}`` and
  ``.../unpause``: in one queue (``QueuePause`` with ``Queue``);
* ``POST /api/agents/{agent}/pause`` and ``.../unpause``: in every queue of the agent;
* ``PUT /api/queues/{queue}/agents/{agent}`` ``{"penalty": 0, "name": "..."}``: add
  (``QueueAdd``); ``DELETE`` the same path: remove (``QueueRemove``). With a
  :class:`~ivr.store.members.MemberStore` the member is remembered (forgotten)
  first, and put back as it was when Asterisk refuses: the server re-adds the
  members it remembers after Asterisk restarts (:mod:`ivr.lineup.members`).

An agent is named by its member interface as the model keys it (``Agent.interface``),
URL-encoded in the path: ``PJSIP%2Fagent1`` for ``PJSIP/agent1``. After Asterisk
accepts, the answer waits (at most ``settle_s``) for the model to show the change;
``"settled": false`` says it had not yet. Every attempt is audited (:mod:`ivr.api.audit`).
A queue outside the token's scope is 403 (:mod:`ivr.api.scope`); an action on an agent
in all of their queues acts only in the queues the token reaches (one ``QueuePause``
per queue when those are not all the agent's queues), 403 when it reaches none.
With several Asterisk nodes a queue is named on its node (``complaint@a``): each
action goes to that node (:class:`ivr.lineup.nodes.NodeAmis`), and an agent's pause
in all of its queues is one ``QueuePause`` per queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from ivr.ami.errors import AmiError
from ivr.api.action_input import check_agent, member_to_add, parse_body, pause_reason
from ivr.api.audit import audited
from ivr.api.auth import require_role
from ivr.api.errors import (
    AmiUnavailable,
    ApiError,
    AsteriskRefused,
    Forbidden,
    UnknownAgent,
    UnknownQueue,
)
from ivr.api.queues import QueuesProvider
from ivr.api.scope import check_queue, visible_queues
from ivr.queues.nodes import node_of
from ivr.queues.state import Agent, AgentState, QueueState
from ivr.store.members import AddedMember, MemberStore


class AmiActions(Protocol):
    """What the actions need of :class:`ivr.ami.client.AmiClient`."""

    @property
    def connected(self) -> bool: ...

    async def action(self, name: str, /, **fields_: Any) -> Any: ...


@dataclass(frozen=True)
class ActionDeps:
    ami: AmiActions | None
    queues: QueuesProvider
    pause_reasons: tuple[str, ...]
    settle_s: float = 3.0
    members: MemberStore | None = None  # members added here, re-added after a restart


ACTION_DEPS = web.AppKey("action_deps", ActionDeps)

# did the change show in this queue's model? (agent None: not a member there)
Shown = Callable[[Agent | None], bool]

routes = web.RouteTableDef()


async def json_body(request: web.Request) -> object:
    """The request's JSON body, or None when it has none."""
    return parse_body(await request.read())


def _agent_path(request: web.Request) -> str:
    return check_agent(request.match_info["agent"])


async def _queue(request: web.Request, queue: str) -> QueueState:
    """The queue's state: 404 when unknown, 403 when outside the token's scope."""
    state = (await request.app[ACTION_DEPS].queues()).get(queue)
    if state is None:
        raise UnknownQueue(f"no queue named `{queue}`")
    check_queue(request, queue)
    return state


async def _member(request: web.Request, queue: str, agent: str) -> None:
    if agent not in (await _queue(request, queue)).agents:
        raise UnknownAgent(f"agent `{agent}` is not a member of queue `{queue}`")


async def _queues_of(request: web.Request, agent: str) -> tuple[list[str], bool]:
    """The agent's queues in the token's scope, and whether they are all its queues
    (404 when the agent is in no queue, 403 when in none of the scope)."""
    states = await request.app[ACTION_DEPS].queues()
    found = sorted(q for q, st in states.items() if agent in st.agents)
    if not found:
        raise UnknownAgent(f"agent `{agent}` is a member of no queue")
    reached = visible_queues(request, found)
    if not reached:
        raise Forbidden(
            f"agent `{agent}` is a member only of queues this token may not reach "
            "(ask an admin for a token that covers them)",
            error_id="out-of-scope",
        )
    return reached, reached == found and not any(node_of(q) for q in found)


async def _send(deps: ActionDeps, name: str, **headers: str) -> None:
    ami = deps.ami
    if ami is None or not ami.connected:
        raise AmiUnavailable("the AMI is not connected to Asterisk; try again shortly")
    try:
        await ami.action(name, **headers)
    except AmiError as e:
        raise AsteriskRefused(f"Asterisk refused {name}: {e}") from None


def _view(queue: str, agent: Agent | None) -> dict[str, Any]:
    if agent is None:
        return {"queue": queue, "member": False}
    return {
        "queue": queue,
        "member": True,
        "name": agent.name,
        "state": agent.state.value,
        "paused_reason": agent.paused_reason,
        "since": agent.since,
    }


async def _answer(
    deps: ActionDeps, agent: str, queues: Sequence[str], shown: Shown
) -> web.Response:
    """The agent's state in ``queues`` once the model shows the change (or ``settle_s``)."""
    deadline = time.monotonic() + deps.settle_s
    while True:
        states = await deps.queues()
        found = {q: states[q].agents.get(agent) if q in states else None for q in queues}
        settled = all(shown(a) for a in found.values())
        if settled or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    body = {"agent": agent, "settled": settled, "queues": [_view(q, found[q]) for q in queues]}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def _paused(reason: str) -> Shown:
    return lambda a: a is not None and a.state is AgentState.PAUSED and a.paused_reason == reason


def _unpaused(a: Agent | None) -> bool:
    return a is not None and a.state is not AgentState.PAUSED


async def _pause(request: web.Request, queue: str | None, paused: bool) -> web.Response:
    """Pause or unpause ``agent`` in ``queue`` (None: every queue of the agent)."""
    deps = request.app[ACTION_DEPS]
    agent = request.match_info["agent"]
    action = "pause" if paused else "unpause"
    async with audited(request, action, queue=queue or "", agent=agent) as note:
        require_role(request, "supervisor", "admin")
        check_agent(agent)
        if queue is None:
            targets, everywhere = await _queues_of(request, agent)
        else:
            await _member(request, queue, agent)
            targets, everywhere = [queue], False
        headers = {"Interface": agent, "Paused": "true" if paused else "false"}
        if paused:
            reason = note.detail = pause_reason(await json_body(request), deps.pause_reasons)
            headers["Reason"] = reason
        # all the agent's queues at once, or each queue the token reaches in turn
        for target in [None] if everywhere else targets:
            await _send(deps, "QueuePause", **headers, **({"Queue": target} if target else {}))
        return await _answer(deps, agent, targets, _paused(reason) if paused else _unpaused)


@routes.post("/queues/{queue}/agents/{agent}/pause")
async def pause_in_queue(request: web.Request) -> web.Response:
    return await _pause(request, request.match_info["queue"], True)


@routes.post("/queues/{queue}/agents/{agent}/unpause")
async def unpause_in_queue(request: web.Request) -> web.Response:
    return await _pause(request, request.match_info["queue"], False)


@routes.post("/agents/{agent}/pause")
async def pause_everywhere(request: web.Request) -> web.Response:
    return await _pause(request, None, True)


@routes.post("/agents/{agent}/unpause")
async def unpause_everywhere(request: web.Request) -> web.Response:
    return await _pause(request, None, False)


@routes.put("/queues/{queue}/agents/{agent}")
async def add_member(request: web.Request) -> web.Response:
    deps = request.app[ACTION_DEPS]
    queue, agent = request.match_info["queue"], request.match_info["agent"]
    async with audited(request, "add-agent", queue=queue, agent=agent) as note:
        require_role(request, "supervisor", "admin")
        member = member_to_add(_agent_path(request), await json_body(request))
        await _queue(request, queue)
        note.detail = f"penalty {member.penalty}"
        headers = {"Queue": queue, "Interface": agent, "Penalty": str(member.penalty)}
        if member.name:
            headers["MemberName"] = member.name
        kept = AddedMember(queue, agent, member.penalty, member.name)
        before = await deps.members.remember(kept) if deps.members is not None else None
        try:
            await _send(deps, "QueueAdd", **headers)
        except ApiError:
            if deps.members is not None:  # nothing half-done: as remembered before
                await deps.members.restore(before, queue, agent)
            raise
        return await _answer(deps, agent, [queue], lambda a: a is not None)


@routes.delete("/queues/{queue}/agents/{agent}")
async def remove_member(request: web.Request) -> web.Response:
    deps = request.app[ACTION_DEPS]
    queue, agent = request.match_info["queue"], request.match_info["agent"]
    async with audited(request, "remove-agent", queue=queue, agent=agent):
        require_role(request, "supervisor", "admin")
        await _member(request, queue, _agent_path(request))
        before = await deps.members.forget(queue, agent) if deps.members is not None else None
        try:
            await _send(deps, "QueueRemove", Queue=queue, Interface=agent)
        except ApiError:
            if deps.members is not None and before is not None:
                await deps.members.restore(before, queue, agent)
            raise
        return await _answer(deps, agent, [queue], lambda a: a is None)
