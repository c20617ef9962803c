"""``GET /api/openapi.json``: the OpenAPI description of the whole API, without a token.

The description is kept as YAML beside this module (``openapi.yaml``: comments, and
anchors for the response sets several operations share), read once and served as
JSON. ``tests/unit/test_openapi.py`` checks it names every route of the API and no
route that does not exist; the schemathesis test checks the running server's
answers against it.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import yaml
from aiohttp import web

__all__ = ["OPENAPI_ROUTE", "openapi_spec", "routes"]

OPENAPI_ROUTE = "openapi"  # the route's name: the token middleware lets it through

routes = web.RouteTableDef()


@functools.cache
def openapi_spec() -> dict[str, Any]:
    """The description as a dict (read from the package once)."""
    text = resources.files("ivr.api").joinpath("openapi.yaml").read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    if not isinstance(spec, dict):  # pragma: no cover - the shipped file is a mapping
        raise TypeError("ivr/api/openapi.yaml must be a mapping")
    return spec


@functools.cache
def _body() -> bytes:
    return json.dumps(openapi_spec(), ensure_ascii=False).encode()


@routes.get("/openapi.json", name=OPENAPI_ROUTE)
async def serve_openapi(request: web.Request) -> web.Response:
    del request
    return web.Response(
        body=_body(), content_type="application/json", headers={"Cache-Control": "no-cache"}
    )
