"""Fixtures for tests against the real sandbox: Asterisk 22 and Redis.

``scripts/test.sh`` brings the sandbox up before pytest runs; run alone,
these fixtures bring it up themselves (building the root the first time).
"""

from __future__ import annotations

import gc
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol, TypedDict, Unpack

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.config import PROJECT_ROOT, Settings, load_settings
from ivr.sandbox.pbx import Sandbox
from ivr.sandbox.simcall import SimCall, sim_call
from ivr.store.traces import TraceStore

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def sandbox(base_settings: Settings) -> Iterator[Sandbox]:
    sb = Sandbox(base_settings)
    st = sb.status()
    if not (st.asterisk_running and st.redis_running):
        sb.up()
    yield sb


@pytest.fixture
def hotlines_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped hotline files that a test may edit."""
    d = tmp_path / "dialplans"
    shutil.copytree(PROJECT_ROOT / "dialplans", d)
    return d


@pytest.fixture
def settings(base_settings: Settings, hotlines_dir: Path, tmp_path: Path) -> Settings:
    """The sandbox's settings for one test. The sandbox's SIP agents are not
    registered (nobody staffed): callers wait as they did before the rules of
    ivr.queues.no_agent (``no_agent = "wait"``), except in the tests of those
    rules (test_no_agent_sandbox.py), which set their own."""
    return replace(
        base_settings,
        dialplans_dir=hotlines_dir,
        run_dir=tmp_path / "run",
        http_port=0,
        shutdown_grace_s=5,
        no_agent="wait",
    )


@pytest.fixture
async def app(sandbox: Sandbox, settings: Settings) -> AsyncIterator[HotlineApp]:
    a = HotlineApp(settings)
    await a.start()
    try:
        yield a
    finally:
        await a.stop()


@pytest.fixture
async def ami(sandbox: Sandbox, base_settings: Settings) -> AsyncIterator[AmiClient]:
    s = base_settings
    client = AmiClient(s.ami_host, s.ami_port, s.ami_username, s.ami_secret)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def redis(sandbox: Sandbox, settings: Settings) -> AsyncIterator[Redis]:
    r = Redis.from_url(settings.redis_url)
    try:
        yield r
    finally:
        await r.aclose()


@pytest.fixture
def traces(redis: Redis, settings: Settings) -> TraceStore:
    return TraceStore(redis, settings.trace_ttl_s)


class SimCallOptions(TypedDict, total=False):
    """The keyword arguments of :func:`ivr.sandbox.simcall.sim_call`."""

    caller: str
    delay: float
    listen_only: bool
    limit_s: float
    context: str
    keep: bool
    until: Callable[[SimCall], bool] | None


class SimCaller(Protocol):
    """The ``call`` fixture: ``await call(number, press, **options)``."""

    async def __call__(
        self, number: str, press: str = "", **kw: Unpack[SimCallOptions]
    ) -> SimCall: ...


@pytest.fixture
def call(ami: AmiClient, traces: TraceStore) -> SimCaller:
    """``await call("1111", "2", ...)``: a simulated citizen (see ivr.sandbox.simcall)."""

    async def _call(number: str, press: str = "", **kw: Unpack[SimCallOptions]) -> SimCall:
        kw.setdefault("limit_s", 90.0)
        return await sim_call(ami, traces, number, press, **kw)

    return _call


@pytest.fixture(autouse=True)
def _watchdog(task_watchdog: None) -> None:
    """Every sandbox test reports its pending asyncio tasks if it hangs."""


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect garbage after each test, so that anything a test leaves unclosed is
    reported against that test rather than whichever test the collector runs in."""
    yield
    gc.collect()
