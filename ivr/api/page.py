"""The wallboard page: ``GET /`` and its two assets, static files shipped in ``ivr/web``.

Served by the server's root application, outside the ``/api`` token check: the page
holds no data of its own; it asks for a token and reads ``/api/stream`` with it.
Every answer carries a strict Content-Security-Policy (scripts and styles from this
origin only, no inline code, requests only to this origin, never framed) and is
revalidated on each load (``no-cache`` with ``ETag``/``Last-Modified``), so a server
upgrade reaches every wall screen at its next reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

__all__ = ["ASSETS", "CSP", "WEB_DIR", "add_page"]

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# path -> (file in WEB_DIR, content type)
ASSETS: Mapping[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/wallboard.js": ("wallboard.js", "text/javascript; charset=utf-8"),
    "/i18n.js": ("i18n.js", "text/javascript; charset=utf-8"),
    "/stream.js": ("stream.js", "text/javascript; charset=utf-8"),
    "/wallboard.css": ("wallboard.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _route(path: str, name: str, content_type: str) -> web.RouteDef:
    async def handler(_request: web.Request) -> web.FileResponse:
        headers = {**_HEADERS, "Content-Type": content_type}
        return web.FileResponse(WEB_DIR / name, headers=headers)

    return web.get(path, handler)


def add_page(app: web.Application) -> None:
    """Serve the wallboard page and its assets on ``app`` (the server's root application)."""
    app.add_routes([_route(path, name, ctype) for path, (name, ctype) in ASSETS.items()])
