"""Live-queue resources: ``GET /api/queues`` and ``GET /api/queues/{name}``.

Queue states come from an injected provider and pending callbacks from the
:class:`CallbackStore`; the wait estimate and the place in line may be injected
too (the defaults: no estimate, and :func:`ivr.lineup.places.place_of`: the
place given by original arrival among live callers and pending callbacks).
With a ``today`` provider (:meth:`ivr.lineup.figures.FigureRecorder.today`),
each queue also carries ``today``: its figures since midnight Bangkok time. Each
queue carries ``override`` (a supervisor's: none, closed, open) and ``open``.
Phone numbers are masked (PDPA) and never shown to a ``viewer`` token (``null``);
an admin token may ask for them in full with ``?unmask=1&reason=...``: each such
access is logged and written to the audit log with its reason. A token limited to
some hotlines or queues sees only its queues (:mod:`ivr.api.scope`).

With several Asterisk nodes (``nodes``: each node's AMI logged in or not) a queue is
named on its node (``complaint@a``, :mod:`ivr.queues.nodes`) and carries ``node``;
its callbacks, today's figures and override are the queue's on every node (read by
the plain name). ``GET /api/queues`` and the snapshot then add ``nodes`` (each
node, ``connected``) and ``totals``: each queue over every node it is on.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ivr.api.audit import audited
from ivr.api.auth import TOKEN_INFO, require_role
from ivr.api.errors import BadRequest, UnknownQueue
from ivr.api.scope import check_queue, visible_queues
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.lineup.nodes import totals
from ivr.lineup.places import place_of as place_by_arrival
from ivr.lineup.places import places as places_by_arrival
from ivr.log import api_log, fields
from ivr.privacy import mask_phone
from ivr.queues.nodes import base_queue, node_of, renamed
from ivr.queues.state import QueueState
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import Role

QueuesProvider = Callable[[], Awaitable[dict[str, QueueState]]]
# estimated wait (s) of a caller arriving now, from the queue and its pending callbacks
Estimator = Callable[[QueueState, list[CallbackRequest]], float | None]
# 1-based place of a live caller (by uniqueid), counting pending callbacks that arrived
# earlier: the signature of ivr.lineup.places.place_of
PlaceOf = Callable[[QueueState, str, Sequence[CallbackRequest]], int]
# today's figures of each named queue (ivr.lineup.figures.FigureRecorder.today)
TodayProvider = Callable[[Sequence[str]], Awaitable[dict[str, dict[str, Any]]]]
# how a phone number is shown: masked, in full (unmask), or not at all (None, viewers)
Number = Callable[[str], str | None]
# each named queue's "override" and "open" (ivr.api.hotlines.queue_status)
StatusProvider = Callable[[Sequence[str]], Awaitable[dict[str, dict[str, Any]]]]
# several Asterisk nodes: each node's name and whether its AMI is logged in
NodesProvider = Callable[[], Mapping[str, bool]]


@dataclass(frozen=True)
class QueueDeps:
    callbacks: CallbackStore
    queues: QueuesProvider
    estimator: Estimator | None = None
    place_of: PlaceOf | None = None
    today: TodayProvider | None = None
    status: StatusProvider | None = None
    nodes: NodesProvider | None = None  # None: one Asterisk node

    def plain(self, name: str) -> str:
        """The queue ``name`` is of on every node (its callbacks, figures, override)."""
        return base_queue(name) if self.nodes is not None else name

    def own(self, state: QueueState) -> QueueState:
        """``state`` under its plain name, as the places and estimates count its
        callbacks (those of the queue on every node)."""
        return renamed(state, self.plain(state.name))


QUEUE_DEPS = web.AppKey("queue_deps", QueueDeps)

routes = web.RouteTableDef()

_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no", ""})


def _check_query(query: Mapping[str, str], allowed: Collection[str]) -> None:
    for name in query:
        if name not in allowed:
            hint = f"allowed: {', '.join(sorted(allowed))}" if allowed else "none is taken"
            raise BadRequest(f"unknown query parameter `{name}` ({hint})")


def _flag(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadRequest(f"query parameter `{name}` must be 1 or 0, not {query[name]!r}")


def _json(body: Any) -> web.Response:
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def _seconds(x: float) -> float:
    return round(max(0.0, x), 1)


def _summary(
    state: QueueState, callbacks: list[CallbackRequest], deps: QueueDeps, now: float
) -> dict[str, Any]:
    waits = [now - c.arrived_at for c in state.callers.values()]
    estimate = deps.estimator(deps.own(state), callbacks) if deps.estimator else None
    body = {
        "name": state.name,
        "callers_waiting": len(state.callers),
        "longest_wait_s": _seconds(max(waits, default=0.0)),
        "estimated_wait_s": None if estimate is None else _seconds(estimate),
        "agents": state.agents_by_state(),
        "pending_callbacks": sum(cb.status is CallbackStatus.PENDING for cb in callbacks),
        "dialling_callbacks": sum(cb.status is CallbackStatus.DIALING for cb in callbacks),
    }
    if deps.nodes is not None and node_of(state.name):
        body["node"] = node_of(state.name)
    return body


async def _today(deps: QueueDeps, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Today's figures of ``names`` (empty without a provider)."""
    if deps.today is None:
        return {}
    return await deps.today(sorted({deps.plain(n) for n in names}) if deps.nodes else names)


def _add_today(body: dict[str, Any], today: Mapping[str, dict[str, Any]], deps: QueueDeps) -> None:
    if deps.today is not None:
        body["today"] = today.get(deps.plain(body["name"]))


async def _add_status(bodies: list[dict[str, Any]], deps: QueueDeps) -> None:
    """Each queue's ``override`` and ``open`` (open, no override, without a provider)."""
    names = sorted({deps.plain(b["name"]) for b in bodies})
    got = await deps.status(names) if deps.status is not None else {}
    for body in bodies:
        body.update(got.get(deps.plain(body["name"]), {"override": "none", "open": True}))


async def node_totals(
    deps: QueueDeps, states: Mapping[str, QueueState], names: Sequence[str], now: float
) -> dict[str, Any]:
    """With several nodes: each node (``connected``) and each queue of ``names`` over
    every node it is on (``totals``); nothing with one node."""
    if deps.nodes is None:
        return {}
    out = []
    for queue, state in totals(states, names).items():
        body = _summary(state, await deps.callbacks.pending(queue), deps, now)
        body["nodes"] = sorted({node_of(n) for n in names if base_queue(n) == queue})
        out.append(body)
    today = await _today(deps, [b["name"] for b in out])
    for body in out:
        _add_today(body, today, deps)
    await _add_status(out, deps)
    nodes = [{"name": n, "connected": up} for n, up in deps.nodes().items()]
    return {"nodes": nodes, "totals": out}


def _callers(
    state: QueueState,
    callbacks: list[CallbackRequest],
    place_of: PlaceOf,
    number: Number,
    now: float,
) -> list[dict[str, Any]]:
    in_order = state.callers_in_order()
    if place_of is place_by_arrival:  # every place in one sort, not a scan per caller
        placed = places_by_arrival(state, callbacks)
    else:
        placed = {c.uniqueid: place_of(state, c.uniqueid, callbacks) for c in in_order}
    return [
        {
            "uniqueid": c.uniqueid,
            "place": placed[c.uniqueid],
            "wait_s": _seconds(now - c.arrived_at),
            "arrived_at": c.arrived_at,
            "topic": c.topic,
            "state": c.state.value,
            "number": number(c.caller_id),
        }
        for c in in_order
    ]


def _agents(state: QueueState) -> list[dict[str, Any]]:
    return [
        {
            "interface": a.interface,
            "name": a.name,
            "state": a.state.value,
            "since": a.since,
            "paused_reason": a.paused_reason,
            "calls_taken": a.calls_taken,
        }
        for a in sorted(state.agents.values(), key=lambda a: a.interface)
    ]


def callback_item(cb: CallbackRequest, number: Number) -> dict[str, Any]:
    """One callback as a queue's ``callbacks`` list shows it."""
    return {
        "id": cb.id,
        "status": cb.status.value,
        "attempts": cb.attempts,
        "number": number(cb.number),
        "topic": cb.topic,
        "arrived_at": cb.arrived_at,
        "requested_at": cb.requested_at,
        "next_attempt_at": cb.next_attempt_at,
        "last_result": cb.last_result,
    }


def _callbacks(callbacks: list[CallbackRequest], number: Number) -> list[dict[str, Any]]:
    return [callback_item(cb, number) for cb in callbacks]


@routes.get("/queues")
async def list_queues(request: web.Request) -> web.Response:
    _check_query(request.query, ())
    deps = request.app[QUEUE_DEPS]
    states = await deps.queues()
    names = visible_queues(request, states)
    now = time.time()
    out = []
    today = await _today(deps, names)
    for name in names:
        callbacks = await deps.callbacks.pending(deps.plain(name))
        out.append(_summary(states[name], callbacks, deps, now))
        _add_today(out[-1], today, deps)
    await _add_status(out, deps)
    return _json({"queues": out, **await node_totals(deps, states, names, now)})


def number_view(role: Role) -> Number:
    """How a role sees phone numbers: masked, or not at all for a viewer."""
    return _hidden if role == "viewer" else mask_phone


def _hidden(raw: str) -> None:
    del raw


def _plain(raw: str) -> str:
    return raw


async def queue_body(
    request: web.Request, name: str, number: Number | None = None
) -> dict[str, Any]:
    """One queue as ``GET /api/queues/{name}`` shows it (404 naming an unknown one,
    403 outside the token's scope); numbers as the token's role sees them unless
    ``number`` says otherwise."""
    if number is None:
        number = number_view(request[TOKEN_INFO].role)
    deps = request.app[QUEUE_DEPS]
    state = (await deps.queues()).get(name)
    if state is None:
        raise UnknownQueue(f"no queue named `{name}`")
    check_queue(request, name)
    callbacks = await deps.callbacks.pending(deps.plain(name))
    now = time.time()
    place_of = deps.place_of or place_by_arrival
    body = _summary(state, callbacks, deps, now)
    body.update(
        callers=_callers(deps.own(state), callbacks, place_of, number, now),
        agents=_agents(state),
        callbacks=_callbacks(callbacks, number),
    )
    _add_today(body, await _today(deps, [name]), deps)
    await _add_status([body], deps)
    return body


def _unmask_reason(query: Mapping[str, str]) -> str:
    reason = query.get("reason", "").strip()
    if not reason:
        raise BadRequest(
            "unmasking phone numbers needs a reason: add `&reason=...` (it is written "
            "to the audit log)",
            error_id="reason-required",
        )
    return reason


@routes.get("/queues/{name}")
async def queue_detail(request: web.Request) -> web.Response:
    _check_query(request.query, ("unmask", "reason"))
    name = request.match_info["name"]
    if not _flag(request.query, "unmask"):
        if "reason" in request.query:
            raise BadRequest("`reason` is taken only with `unmask=1`")
        return _json(await queue_body(request, name))
    async with audited(request, "unmask", queue=name) as note:
        info = require_role(request, "admin")
        note.detail = reason = _unmask_reason(request.query)
        body = await queue_body(request, name, _plain)
        api_log.warning(
            "phone numbers shown unmasked",
            extra=fields(
                token_id=info.id,
                token_name=info.name,
                queue=name,
                reason=reason,
                callers=len(body["callers"]),
                callbacks=len(body["callbacks"]),
                remote=request.remote,
            ),
        )
        return _json(body)


async def queues_snapshot(
    deps: QueueDeps,
    number: Number,
    visible: Callable[[Iterable[str]], list[str]] = sorted,
) -> dict[str, Any]:
    """Every queue (among ``visible`` ones) as ``GET /api/queues`` shows it, with its
    callers in order, its agents (``members``) and its pending callbacks: the live
    stream's snapshot."""
    states = await deps.queues()
    now = time.time()
    place_of = deps.place_of or place_by_arrival
    out = []
    names = visible(states)
    today = await _today(deps, names)
    for name in names:
        state = states[name]
        callbacks = await deps.callbacks.pending(deps.plain(name))
        body = _summary(state, callbacks, deps, now)
        body.update(
            callers=_callers(deps.own(state), callbacks, place_of, number, now),
            members=_agents(state),
            callbacks=_callbacks(callbacks, number),
        )
        _add_today(body, today, deps)
        out.append(body)
    await _add_status(out, deps)
    return {"queues": out, **await node_totals(deps, states, names, now)}
