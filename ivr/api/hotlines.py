"""Hotlines and the supervisors' overrides: ``GET /api/hotlines[/{hotline}]``,
``PUT /api/hotlines/{hotline}/override``, ``PUT``/``DELETE
/api/hotlines/{hotline}/emergency`` and ``PUT /api/queues/{queue}/override``.

Overrides (:mod:`ivr.menus.overrides`) live in Redis
(:class:`ivr.store.overrides.OverrideStore`): they survive a restart, apply to
the next call, and each change that changes something is published on the live
stream (``hotline.closed``, ``emergency.set``, ...). Every action is audited;
each answer is the new state.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from ivr.api.action_input import emergency_prompt, override_mode
from ivr.api.actions import json_body
from ivr.api.audit import audited
from ivr.api.auth import TOKEN_INFO, require_role
from ivr.api.errors import NotFound, UnknownQueue
from ivr.api.queues import QUEUE_DEPS, queue_body
from ivr.api.scope import check_hotline, check_queue, visible_hotlines
from ivr.lineup.changes import (
    Change,
    emergency_change,
    hotline_override_change,
    queue_override_change,
)
from ivr.log import api_log, fields
from ivr.menus.hours import now_in_bangkok
from ivr.menus.model import Hotline
from ivr.menus.overrides import HotlineOverride, OverrideMode, emergency_prompts, is_open
from ivr.speech.catalogue import Catalogue
from ivr.store.overrides import OverrideStore

__all__ = ["HOTLINE_DEPS", "HotlineDeps", "hotlines_snapshot", "queue_status"]

Publish = Callable[[Change], Awaitable[None]]


class UnknownHotline(NotFound):
    error_id = "unknown-hotline"


def _no_hotlines() -> Mapping[str, Hotline]:
    return {}


def _no_catalogue() -> Catalogue | None:
    return None


@dataclass(frozen=True)
class HotlineDeps:
    overrides: OverrideStore
    hotlines: Callable[[], Mapping[str, Hotline]] = _no_hotlines
    catalogue: Callable[[], Catalogue | None] = _no_catalogue
    publish: Publish | None = None
    clock: Callable[[], datetime] = field(default=now_in_bangkok)


HOTLINE_DEPS = web.AppKey("hotline_deps", HotlineDeps)
routes = web.RouteTableDef()


def _json(body: Any) -> web.Response:
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def _text(catalogue: Catalogue | None, prompt: str) -> str:
    if catalogue is None or not catalogue.has(prompt, "th"):
        return ""
    return catalogue.text(prompt, "th")


def allowed_prompts(catalogue: Catalogue | None) -> list[str]:
    return emergency_prompts(catalogue.ids) if catalogue is not None else []


def hotline_state(
    h: Hotline, ov: HotlineOverride, catalogue: Catalogue | None, now: datetime
) -> dict[str, Any]:
    """One hotline as the API shows it (HotlineState)."""
    emergency = None
    if ov.emergency:
        emergency = {
            "prompt": ov.emergency,
            "text": _text(catalogue, ov.emergency),
            "set_by": ov.set_by,
            "set_at": ov.set_at,
        }
    return {
        "id": h.id,
        "name": h.name_th or h.id,
        "open": is_open(h.hours.is_open(now), ov.mode),
        "override": ov.mode,
        "emergency": emergency,
        "emergency_prompts": [
            {"prompt": p, "text": _text(catalogue, p)} for p in allowed_prompts(catalogue)
        ],
        "queues": sorted(h.queues),
    }


async def hotlines_snapshot(
    deps: HotlineDeps, visible: Callable[[Iterable[str]], list[str]] = sorted
) -> list[dict[str, Any]]:
    """Every hotline in force among ``visible`` ones, by id (the stream's snapshot and
    ``GET /api/hotlines``)."""
    hotlines = deps.hotlines()
    ids = visible(hotlines)
    found = await deps.overrides.hotlines(ids)
    catalogue, now = deps.catalogue(), deps.clock()
    return [hotline_state(hotlines[i], found[i], catalogue, now) for i in ids]


def _hotline(request: web.Request) -> tuple[HotlineDeps, Hotline]:
    """The hotline of the path (404 naming it), within the token's scope (403)."""
    deps = request.app[HOTLINE_DEPS]
    hid = request.match_info["hotline"]
    h = deps.hotlines().get(hid)
    if h is None:
        known = ", ".join(visible_hotlines(request, deps.hotlines())) or "none"
        raise UnknownHotline(f"no hotline `{hid}` (known: {known})")
    check_hotline(request, hid)
    return deps, h


async def _state(deps: HotlineDeps, h: Hotline) -> dict[str, Any]:
    ov = await deps.overrides.hotline(h.id)
    return hotline_state(h, ov, deps.catalogue(), deps.clock())


async def _publish(deps: HotlineDeps, change: Change) -> None:
    """Tell the stream; a failure there never fails the action (it is done)."""
    if deps.publish is None:
        return
    try:
        await deps.publish(change)
    except Exception as e:
        api_log.warning("override change not published", extra=fields(error=str(e)))


def _by(request: web.Request) -> str:
    return f"token:{request[TOKEN_INFO].id}"


@routes.get("/hotlines")
async def list_hotlines(request: web.Request) -> web.Response:
    visible = functools.partial(visible_hotlines, request)
    return _json({"hotlines": await hotlines_snapshot(request.app[HOTLINE_DEPS], visible)})


@routes.get("/hotlines/{hotline}")
async def hotline_detail(request: web.Request) -> web.Response:
    deps, h = _hotline(request)
    return _json(await _state(deps, h))


@routes.put("/hotlines/{hotline}/override")
async def set_hotline_override(request: web.Request) -> web.Response:
    hid = request.match_info["hotline"]
    async with audited(request, "hotline-override") as note:
        note.detail = f"hotline {hid}"
        require_role(request, "supervisor", "admin")
        deps, h = _hotline(request)
        mode = override_mode(await json_body(request))
        note.detail = f"hotline {hid}: {mode}"
        changed = await deps.overrides.set_mode(h.id, mode, _by(request), time.time())
        state = await _state(deps, h)
        if changed:
            change = hotline_override_change(h.id, mode, state["open"], _by(request))
            await _publish(deps, change)
        return _json(state)


@routes.put("/hotlines/{hotline}/emergency")
async def set_emergency(request: web.Request) -> web.Response:
    hid = request.match_info["hotline"]
    async with audited(request, "set-emergency") as note:
        note.detail = f"hotline {hid}"
        require_role(request, "supervisor", "admin")
        deps, h = _hotline(request)
        catalogue = deps.catalogue()
        prompt = emergency_prompt(await json_body(request), allowed_prompts(catalogue))
        note.detail = f"hotline {hid}: {prompt}"
        if await deps.overrides.set_emergency(h.id, prompt, _by(request), time.time()):
            change = emergency_change(h.id, prompt, _text(catalogue, prompt), _by(request))
            await _publish(deps, change)
        return _json(await _state(deps, h))


@routes.delete("/hotlines/{hotline}/emergency")
async def clear_emergency(request: web.Request) -> web.Response:
    hid = request.match_info["hotline"]
    async with audited(request, "clear-emergency") as note:
        note.detail = f"hotline {hid}"
        require_role(request, "supervisor", "admin")
        deps, h = _hotline(request)
        if await deps.overrides.set_emergency(h.id, None, _by(request), time.time()):
            await _publish(deps, emergency_change(h.id, None, "", _by(request)))
        return _json(await _state(deps, h))


def _hotline_of_queue(hotlines: Mapping[str, Hotline], queue: str) -> Hotline | None:
    """The first hotline (by id) handing calls to ``queue``."""
    return next((hotlines[i] for i in sorted(hotlines) if queue in hotlines[i].queues), None)


@routes.put("/queues/{name}/override")
async def set_queue_override(request: web.Request) -> web.Response:
    queue = request.match_info["name"]
    async with audited(request, "queue-override", queue=queue) as note:
        require_role(request, "supervisor", "admin")
        deps, queues = request.app[HOTLINE_DEPS], request.app[QUEUE_DEPS]
        if queue not in await queues.queues():
            raise UnknownQueue(f"no queue named `{queue}`")
        check_queue(request, queue)
        mode = note.detail = override_mode(await json_body(request))
        plain = queues.plain(queue)  # on a node (complaint@a): the queue on every node
        if await deps.overrides.set_queue_mode(plain, mode):
            body = await queue_body(request, queue)
            owner = _hotline_of_queue(deps.hotlines(), plain)
            hid = owner.id if owner is not None else ""
            change = queue_override_change(plain, hid, mode, body["open"], _by(request))
            await _publish(deps, change)
            return _json(body)
        return _json(await queue_body(request, queue))


def queue_status(
    deps: HotlineDeps,
) -> Callable[[Sequence[str]], Awaitable[dict[str, dict[str, Any]]]]:
    """For the queue summaries: each queue's ``override`` and ``open``: false when the
    queue is closed, else what the first hotline handing calls to it gives (that
    hotline's override over its hours): a queue is reached only through its hotline."""

    async def status(names: Sequence[str]) -> dict[str, dict[str, Any]]:
        modes = await deps.overrides.queue_modes()
        hotlines, now = deps.hotlines(), deps.clock()
        owners = {name: _hotline_of_queue(hotlines, name) for name in names}
        found = await deps.overrides.hotlines(sorted({h.id for h in owners.values() if h}))
        out: dict[str, dict[str, Any]] = {}
        for name, owner in owners.items():
            mode: OverrideMode = modes.get(name, "none")
            line_open = owner is None or is_open(owner.hours.is_open(now), found[owner.id].mode)
            out[name] = {"override": mode, "open": line_open and mode != "closed"}
        return out

    return status
