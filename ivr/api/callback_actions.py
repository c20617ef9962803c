"""Supervisor actions on callbacks: ``DELETE /api/callbacks/{id}`` cancels a pending
one, ``POST /api/callbacks/{id}/retry`` puts a failed one back in line, due now,
``PATCH /api/callbacks/{id}`` with ``{"not_before": <epoch s>}`` moves a pending
one's next attempt (its place in line stays; answered with the callback as a
queue's ``callbacks`` list shows it).

Both go through one atomic store transition (:class:`ivr.store.callbacks.CallbackStore`):
a callback being dialled is never cancelled (409 naming its state). Answers carry the
callback with its number masked; every attempt is audited (:mod:`ivr.api.audit`).
A callback of a queue outside the token's scope is 403 (:mod:`ivr.api.scope`).
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ivr.api.action_input import not_before
from ivr.api.actions import json_body
from ivr.api.audit import audited
from ivr.api.auth import TOKEN_INFO, require_role
from ivr.api.errors import Conflict, UnknownCallback
from ivr.api.queues import QUEUE_DEPS, callback_item
from ivr.api.scope import check_queue
from ivr.callbacks.model import CallbackRequest
from ivr.privacy import mask_phone
from ivr.store.callback_scripts import Transition

routes = web.RouteTableDef()


def _view(cb: CallbackRequest | None) -> dict[str, Any] | None:
    if cb is None:
        return None
    return {
        "id": cb.id,
        "queue": cb.queue,
        "status": cb.status.value,
        "attempts": cb.attempts,
        "number": mask_phone(cb.number),
        "next_attempt_at": cb.next_attempt_at,
        "last_result": cb.last_result,
    }


def _refused(rid: str, t: Transition | None, wanted: str) -> None:
    """The API error when the transition was not done (unknown, booked, wrong state)."""
    if t is None:
        raise UnknownCallback(f"no callback `{rid}`")
    if t.status == "booked":
        raise Conflict(
            f"callback `{rid}`: its number already has the live callback `{t.other}`",
            error_id="number-already-booked",
        )
    if not t.done:
        state = "being dialled (dialing)" if t.status == "dialing" else t.status
        raise Conflict(
            f"callback `{rid}` is {state}: only a {wanted} callback can be changed so",
            error_id=f"callback-{t.status or 'unknown'}",
        )


def _checked(rid: str, t: Transition | None, wanted: str) -> web.Response:
    _refused(rid, t, wanted)
    assert t is not None
    return web.json_response({"callback": _view(t.request)}, headers={"Cache-Control": "no-store"})


async def _in_scope(request: web.Request, rid: str) -> None:
    """404 for an unknown callback, 403 when its queue is outside the token's scope."""
    cb = await request.app[QUEUE_DEPS].callbacks.get(rid)
    if cb is None:
        raise UnknownCallback(f"no callback `{rid}`")
    check_queue(request, cb.queue)


async def _transition(request: web.Request, action: str, expected: str) -> web.Response:
    """Cancel a pending callback or retry a failed one (``expected``: the status it
    must have), audited as ``action``."""
    rid = request.match_info["id"]
    async with audited(request, action, callback=rid):
        require_role(request, "supervisor", "admin")
        await _in_scope(request, rid)
        by = f"token:{request[TOKEN_INFO].id}"
        store = request.app[QUEUE_DEPS].callbacks
        do = store.cancel_pending if expected == "pending" else store.retry_failed
        return _checked(rid, await do(rid, by=by), expected)


@routes.delete("/callbacks/{id}")
async def cancel_callback(request: web.Request) -> web.Response:
    return await _transition(request, "cancel-callback", "pending")


@routes.post("/callbacks/{id}/retry")
async def retry_callback(request: web.Request) -> web.Response:
    return await _transition(request, "retry-callback", "failed")


@routes.patch("/callbacks/{id}")
async def move_callback(request: web.Request) -> web.Response:
    rid = request.match_info["id"]
    async with audited(request, "move-callback", callback=rid) as note:
        require_role(request, "supervisor", "admin")
        store = request.app[QUEUE_DEPS].callbacks
        known = await store.get(rid)
        if known is None:
            raise UnknownCallback(f"no callback `{rid}`")
        check_queue(request, known.queue)
        at = not_before(await json_body(request), time.time())
        note.detail = f"not before {at:.0f}"
        t = await store.move_pending(rid, at, by=f"token:{request[TOKEN_INFO].id}")
        _refused(rid, t, "pending")
        assert t is not None and t.request is not None
        body = {"queue": t.request.queue, **callback_item(t.request, mask_phone)}
        return web.json_response(body, headers={"Cache-Control": "no-store"})
