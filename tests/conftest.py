"""Fixtures shared by every test folder."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest
from redis.asyncio import Redis

from ivr.config import load_settings

# tests/failover (minutes of SIGKILLs) runs from scripts/failover.sh, which sets
# IVR_FAILOVER=1; the test command leaves it out.
collect_ignore = [] if os.environ.get("IVR_FAILOVER") else ["failover"]

# Before pytest-timeout (pyproject: timeout) fails a hung test, print what every
# asyncio task is waiting on: the main thread's stack alone only shows the loop idle.
TASK_DUMP_AFTER_S = 200.0


def dump_tasks(label: str) -> None:
    out = io.StringIO()
    tasks = asyncio.all_tasks()
    print(f"\n== {label}: {len(tasks)} asyncio task(s) still pending", file=out)
    for task in tasks:
        print(f"-- {task.get_name()} {task.get_coro()!r}", file=out)
        task.print_stack(limit=12, file=out)
    sys.stderr.write(out.getvalue())
    sys.stderr.flush()


@pytest.fixture
async def task_watchdog(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Used (autouse) by the sandbox test folders, whose tests wait on real servers."""
    handle = asyncio.get_running_loop().call_later(
        TASK_DUMP_AFTER_S, dump_tasks, f"{request.node.nodeid} still running"
    )
    try:
        yield
    finally:
        handle.cancel()


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
