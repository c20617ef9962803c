"""Who the caller is and what it may choose, for the wallboard page:

* ``GET /api/me`` -> ``{"id", "name", "role"}``: the token's own identity, so a page
  knows whether to offer actions (``viewer`` tokens get none);
* ``GET /api/pause-reasons`` -> ``{"pause_reasons": [...]}``: the reasons a pause
  may give (``[queues] pause_reasons``), in the configured order.
"""

from __future__ import annotations

from aiohttp import web

from ivr.api.actions import ACTION_DEPS
from ivr.api.auth import TOKEN_INFO

routes = web.RouteTableDef()

_NO_STORE = {"Cache-Control": "no-store"}


@routes.get("/me")
async def me(request: web.Request) -> web.Response:
    info = request[TOKEN_INFO]
    body = {"id": info.id, "name": info.name, "role": info.role}
    return web.json_response(body, headers=_NO_STORE)


@routes.get("/pause-reasons")
async def pause_reasons(request: web.Request) -> web.Response:
    reasons = list(request.app[ACTION_DEPS].pause_reasons)
    return web.json_response({"pause_reasons": reasons}, headers=_NO_STORE)
