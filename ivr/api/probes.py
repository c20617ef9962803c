"""``GET /api/probes``: the last reachability probes of each hotline the token sees.

``?hotline=<id>`` keeps one hotline (404 unknown, 403 outside the token's scope);
``?limit=N`` (1 to 50, default 10) results per hotline, newest first. The
published number dialled is left out for viewers (they see no number at all).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ivr.api.auth import TOKEN_INFO, require_role
from ivr.api.errors import BadRequest, NotFound
from ivr.api.scope import check_hotline, visible_hotlines
from ivr.store.probes import ProbeStore

__all__ = ["PROBE_DEPS", "ProbeDeps", "routes"]

MAX_LIMIT = 50


class UnknownProbeHotline(NotFound):
    error_id = "unknown-hotline"


def _none() -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class ProbeDeps:
    store: ProbeStore
    hotlines: Callable[[], Sequence[str]] = _none  # the hotlines probed or served


PROBE_DEPS = web.AppKey("probe_deps", ProbeDeps)
routes = web.RouteTableDef()


def _limit(query: Any) -> int:
    for name in query:
        if name not in ("limit", "hotline"):
            raise BadRequest(f"unknown query parameter `{name}` (allowed: hotline, limit)")
    raw = query.get("limit")
    if raw is None:
        return 10
    try:
        n = int(raw)
    except ValueError:
        raise BadRequest(f"limit must be a whole number, not {raw!r}") from None
    if not 1 <= n <= MAX_LIMIT:
        raise BadRequest(f"limit must be from 1 to {MAX_LIMIT}, not {n}")
    return n


@routes.get("/probes")
async def list_probes(request: web.Request) -> web.Response:
    require_role(request, "viewer", "supervisor", "admin")
    deps = request.app[PROBE_DEPS]
    limit = _limit(request.query)
    known = list(deps.hotlines())
    wanted = request.query.get("hotline")
    if wanted is not None:
        if wanted not in known:
            shown = ", ".join(visible_hotlines(request, known)) or "none"
            raise UnknownProbeHotline(f"no hotline `{wanted}` (known: {shown})")
        check_hotline(request, wanted)
        names = [wanted]
    else:
        names = visible_hotlines(request, known)
    found = await deps.store.recent_many(names, limit)
    viewer = request[TOKEN_INFO].role == "viewer"
    out = []
    for h in names:
        recent = [_shown(r, viewer) for r in found.get(h, [])]
        out.append({"hotline": h, "last": recent[0] if recent else None, "recent": recent})
    return web.json_response({"probes": out})


def _shown(result: dict[str, Any], viewer: bool) -> dict[str, Any]:
    return {k: v for k, v in result.items() if not (viewer and k == "published")}
