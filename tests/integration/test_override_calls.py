"""Supervisors' overrides heard by simulated citizens on the sandbox Asterisk: a
hotline closed now plays its closed prompt, reopened lets the next caller into the
menu; an emergency announcement set is heard first; a closed queue is not joined."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ivr.app import HotlineApp
from ivr.sandbox.simcall import SimCall
from ivr.store import keys
from ivr.store.overrides import OverrideStore
from ivr.store.traces import TraceStore
from ivr.trace import CallTrace
from tests.integration.conftest import SimCaller
from tests.until import until

pytestmark = pytest.mark.sandbox

BY = "token:test"


@pytest.fixture
async def overrides(app: HotlineApp) -> AsyncIterator[OverrideStore]:
    """The app's overrides, none set before or after (the sandbox's Redis is shared)."""
    clean = (keys.hotline_override("1111"), keys.QUEUE_OVERRIDES)
    await app.redis.delete(*clean)
    try:
        yield app.overrides
    finally:
        await app.redis.delete(*clean)


def heard(c: SimCall) -> list[str]:
    return [p.removeprefix("ivr/") for p in c.prompts_started()]


async def saved_trace(traces: TraceStore, c: SimCall) -> CallTrace:
    found: CallTrace = await until(lambda: traces.get(c.uniqueid), what="the call's trace")
    return found


def closed_steps(t: CallTrace) -> list[str]:
    return [s.detail for s in t.steps if s.kind == "closed"]


async def test_closed_now_then_reopened(
    app: HotlineApp, overrides: OverrideStore, call: SimCaller, traces: TraceStore
) -> None:
    await overrides.set_mode("1111", "closed", BY, 0.0)
    c = await call("1111", "", until=lambda c: "ivr/closed-1111" in c.prompts_started())
    assert heard(c)[0] == "closed-1111"  # no greeting, no menu: the closed prompt
    assert not c.queue
    t = await saved_trace(traces, c)
    assert closed_steps(t) == ["override"] and "greeting-1111" not in t.prompts

    await overrides.set_mode("1111", "none", BY, 0.0)
    again = await call("1111", "2")
    assert again.trace is not None and again.trace.prompts[0] == "greeting-1111"
    assert again.queue == "complaint"


async def test_emergency_announcement_is_heard_first(
    app: HotlineApp, overrides: OverrideStore, call: SimCaller, traces: TraceStore
) -> None:
    await overrides.set_emergency("1111", "emergency-flood", BY, 0.0)
    c = await call(
        "1111", "", limit_s=120,
        until=lambda c: "ivr/greeting-1111" in c.prompts_started(),
    )  # fmt: skip
    assert heard(c)[:2] == ["emergency-flood", "greeting-1111"]
    t = await saved_trace(traces, c)
    assert t.prompts[:2] == ["emergency-flood", "greeting-1111"]


async def test_a_closed_queue_is_not_joined(
    app: HotlineApp, overrides: OverrideStore, call: SimCaller, traces: TraceStore
) -> None:
    await overrides.set_queue_mode("complaint", "closed")
    c = await call("1111", "2", until=lambda c: "ivr/closed-1111" in c.prompts_started())
    assert heard(c)[-1] == "closed-1111" and "transfer-to-queue" not in heard(c)
    assert not c.queue
    t = await saved_trace(traces, c)
    assert closed_steps(t) == ["queue complaint closed"]
    assert t.path == ["main", "2"]
