"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest
from redis.asyncio import Redis

from ivr.config import load_settings


@pytest.fixture
async def redis_clean() -> AsyncIterator[Redis]:
    """A real Redis database (number 15 of the configured server), emptied first.

    Store tests use it; the sandbox's Redis is started by scripts/test.sh.
    """
    u = urlparse(load_settings().redis_url)
    r = Redis(host=u.hostname or "127.0.0.1", port=u.port or 6379, db=15)
    try:
        await r.ping()
    except Exception as e:  # pragma: no cover - environment problem, said clearly
        pytest.fail(f"no Redis at {u.hostname}:{u.port} ({e}) — run `ivr sandbox up`")
    await r.flushdb()
    try:
        yield r
    finally:
        await r.flushdb()
        await r.aclose()
