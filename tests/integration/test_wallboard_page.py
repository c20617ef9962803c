"""The wallboard page as the server serves it: the page and its assets at ``/``
outside the token check, each with the strict Content-Security-Policy and no inline
code for it to forbid; and the two small API resources the page reads (``/api/me``,
``/api/pause-reasons``) behind it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.api.app import API_PREFIX, build_api
from ivr.api.page import ASSETS, CSP, WEB_DIR, add_page
from ivr.queues.state import QueueState
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenStore

Client = TestClient[web.Request, web.Application]


async def _no_queues() -> dict[str, QueueState]:
    return {}


@pytest.fixture
async def page() -> AsyncIterator[Client]:
    root = web.Application()
    add_page(root)
    client = TestClient(TestServer(root))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.mark.network
@pytest.mark.parametrize("path", sorted(ASSETS))
async def test_each_asset_is_served_with_the_policy(page: Client, path: str) -> None:
    r = await page.get(path)
    assert r.status == 200
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["Content-Type"].startswith(ASSETS[path][1].split(";")[0])
    assert r.headers["Cache-Control"] == "no-cache" and "ETag" in r.headers
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.network
async def test_nothing_else_is_served(page: Client) -> None:
    for path in ("/index.html", "/../pyproject.toml", "/web/wallboard.js", "/api/me"):
        assert (await page.get(path)).status == 404, path


def test_the_policy_is_strict_and_the_page_has_no_inline_code() -> None:
    assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP
    assert "frame-ancestors 'none'" in CSP and "connect-src 'self'" in CSP
    html = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son\w+\s*=", html), "no inline event handlers"
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html
    for name in ("wallboard.js", "stream.js", "i18n.js"):
        code = (WEB_DIR / name).read_text(encoding="utf-8")
        assert "innerHTML" not in code and "eval(" not in code, name
    # the token never goes to the URL or a cookie, only sessionStorage
    code = (WEB_DIR / "wallboard.js").read_text(encoding="utf-8")
    assert "sessionStorage" in code and "document.cookie" not in code
    assert "localStorage.setItem(TOKEN" not in code


@pytest.mark.redis
async def test_me_and_pause_reasons(redis_clean: Redis) -> None:
    tokens = TokenStore(redis_clean)
    root = web.Application()
    api = build_api(
        tokens=tokens,
        callbacks=CallbackStore(redis_clean),
        queues=_no_queues,
        pause_reasons=["break", "lunch"],
    )
    root.add_subapp(API_PREFIX, api)
    token, info = await tokens.create("supervisor", "duty supervisor")
    auth = {"Authorization": f"Bearer {token}"}
    async with TestClient(TestServer(root)) as client:
        r = await client.get("/api/me", headers=auth)
        assert r.status == 200
        assert await r.json() == {"id": info.id, "name": "duty supervisor", "role": "supervisor"}
        r = await client.get("/api/pause-reasons", headers=auth)
        assert r.status == 200 and await r.json() == {"pause_reasons": ["break", "lunch"]}
        r = await client.get("/api/me")
        assert r.status == 401
        assert (await r.json())["error"]["id"] == "missing-token"
