"""Reachability probes against the real sandbox: a Local channel into [from-public],
the context the citizens' calls enter, as `ivr probe` places it there."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.probes.alerts import Alerter
from ivr.probes.call import place_probe
from ivr.probes.command import probe_config
from ivr.probes.service import ProbeService
from ivr.probes.settings import ProbeTarget
from ivr.store.probes import ProbeStore
from ivr.store.traces import TraceStore

pytestmark = pytest.mark.sandbox


async def test_probe_reaches_the_greeting_and_keeps_no_trace(
    app: HotlineApp, ami: AmiClient, settings: Settings, redis: Redis
) -> None:
    store = ProbeStore(redis, keep=5)
    service = ProbeService(ami, probe_config(settings), Alerter(3), store=store)
    result = await service.probe(ProbeTarget("1111", "1111", 0.0))
    assert result.outcome == "ok", result
    assert result.answer_s is not None and 0 <= result.answer_s < 10
    assert result.duration_s < 10
    assert (await store.recent("1111", 1))[0]["id"] == result.id
    recent = await TraceStore(redis, settings.trace_ttl_s).recent(20)
    assert all(t.started_at < result.at for t in recent), "a probe left a trace"


async def test_probe_with_the_server_away_reports_the_fallback(
    ami: AmiClient, settings: Settings
) -> None:
    # no `app` fixture: nothing listens for FastAGI, the dialplan's fallback answers
    result = await place_probe(ami, ProbeTarget("1111", "1111", 0.0), probe_config(settings))
    assert result.outcome == "fallback", result
    assert result.label() == "answered by the fallback, application unreachable"
    assert result.answer_s is not None


async def test_probe_of_a_number_not_in_the_dialplan_reports_not_answered(
    ami: AmiClient, settings: Settings
) -> None:
    result = await place_probe(ami, ProbeTarget("9999", "9999", 0.0), probe_config(settings))
    assert result.outcome == "not_answered", result
    assert result.answer_s is None
