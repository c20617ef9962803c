"""Reachability probes: the outcome read from a probe call's AMI events, the alert's
state machine (fires once, clears once) and where a result goes (the webhook itself:
tests/integration/test_probe_webhook.py)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from ivr.ami.events import AnyEvent, parse_event
from ivr.config import ConfigError, load_settings
from ivr.probes.alerts import Alerter
from ivr.probes.call import ProbeConfig
from ivr.probes.model import AlertState, ProbeResult, ProbeWatch, alert_step, classify
from ivr.probes.service import ProbeService, due_targets
from ivr.probes.settings import ProbeTarget, probe_targets
from ivr.queues.figures import Targets, increment
from tests.until import until

ACTION, PID, CHAN = "probe-abc", "abc", "Local/1111@from-public-0001;1"


def ev(**headers: str) -> AnyEvent:
    return parse_event(headers)


def answered() -> AnyEvent:
    return ev(Event="OriginateResponse", ActionID=ACTION, Response="Success", Channel=CHAN)


def varset(name: str, value: str = PID) -> AnyEvent:
    return ev(Event="VarSet", Channel="Local/1111@from-public-0001;2", Variable=name, Value=value)


def watch_of(*timed: tuple[float, AnyEvent]) -> ProbeWatch:
    w = ProbeWatch(action_id=ACTION, probe_id=PID, started=100.0)
    for at, e in timed:
        w.feed(e, at)
    return w


def test_answered_with_the_greeting_is_ok_with_the_time_to_answer() -> None:
    w = watch_of((101.5, answered()), (102.0, varset("IVR_PROBE_GREETING")))
    assert w.decided(102.0, 10.0)
    assert classify(w) == ("ok", 1.5, "greeting started")
    assert w.channel == CHAN


def test_the_fallback_answering_means_the_application_was_not_reached() -> None:
    w = watch_of((100.4, answered()), (100.5, varset("IVR_PROBE_FALLBACK")))
    assert w.decided(100.5, 10.0)
    outcome, answer_s, _ = classify(w)
    assert (outcome, answer_s) == ("fallback", 0.4)
    result = ProbeResult("abc", "1111", "1111", outcome, answer_s, 0.0, 1.0)
    assert result.label() == "answered by the fallback, application unreachable"
    assert result.failed and not result.ok


def test_answered_without_a_greeting_is_decided_after_the_greeting_timeout() -> None:
    w = watch_of((101.0, answered()))
    assert not w.decided(105.0, 10.0)
    assert w.decided(111.0, 10.0)
    assert classify(w)[0] == "fallback"


def test_never_answered() -> None:
    refused = ev(Event="OriginateResponse", ActionID=ACTION, Response="Failure", Reason="1")
    w = watch_of((100.2, refused))
    assert w.decided(100.2, 10.0)
    assert classify(w) == ("not_answered", None, "hung up before answering (originate reason 1)")


def test_events_of_other_calls_are_ignored() -> None:
    other = ev(Event="OriginateResponse", ActionID="probe-zzz", Response="Success", Channel="X")
    w = watch_of((100.1, other), (100.2, varset("IVR_PROBE_GREETING", "zzz")))
    w.feed(ev(Event="Hangup", Channel="X"), 100.3)
    assert w.answered_at is None and w.greeting_at is None and not w.hung_up
    assert not w.decided(100.3, 10.0)


def result(outcome: str, hotline: str = "1111") -> ProbeResult:
    return ProbeResult("p", hotline, hotline, outcome, None, 0.0, 1.0)


def test_the_alert_fires_once_after_n_failures_and_clears_once() -> None:
    state, actions = AlertState(), []
    for outcome in ["not_answered", "fallback", "error", "not_answered", "fallback", "ok", "ok"]:
        state, action = alert_step(state, result(outcome), alert_after=3)
        actions.append(action)
    assert actions == [None, None, None, "fire", None, "clear", None]
    assert state == AlertState()


def test_a_success_before_the_threshold_resets_the_count() -> None:
    state = AlertState()
    for outcome in ["fallback", "fallback", "ok", "fallback", "fallback"]:
        state, action = alert_step(state, result(outcome), alert_after=3)
        assert action is None
    assert state.failures == 2 and not state.alerting


async def test_a_result_is_kept_streamed_and_told_even_when_one_sink_fails() -> None:
    streamed: list[dict[str, Any]] = []
    told: list[ProbeResult] = []

    async def publish(event: dict[str, Any]) -> None:
        streamed.append(event)
        raise OSError("stream away")

    async def on_result(r: ProbeResult) -> None:
        told.append(r)

    async def prober(t: ProbeTarget) -> ProbeResult:
        return result("ok", t.hotline)

    service = ProbeService(
        None,  # type: ignore[arg-type]  # the prober stands in for the AMI
        ProbeConfig(),
        Alerter(3),
        publish=publish,
        on_result=on_result,
        prober=prober,
    )
    results = await service.probe_all(
        [ProbeTarget("1111", "1111", 0), ProbeTarget("1555", "1555", 0)]
    )
    assert [r.hotline for r in results] == ["1111", "1555"]
    assert [e["kind"] for e in streamed] == ["probe.result", "probe.result"]
    assert streamed[0]["data"]["hotline"] == "1111" and streamed[0]["queue"] == ""
    assert [r.hotline for r in told] == ["1111", "1555"]


def test_due_targets_follow_each_hotline_interval() -> None:
    a, b, off = ProbeTarget("a", "1", 60), ProbeTarget("b", "2", 300), ProbeTarget("c", "3", 0)
    assert due_targets([a, b, off], {}, 1000.0) == [a, b]
    assert due_targets([a, b, off], {"a": 950.0, "b": 950.0}, 1000.0) == []
    assert due_targets([a, b, off], {"a": 940.0, "b": 950.0}, 1000.0) == [a]


def test_the_probe_settings_table(tmp_path: Path) -> None:
    cfg = tmp_path / "ivr.toml"
    cfg.write_text(
        '[probe]\ninterval_s = 120\n[probe.hotlines]\n1111 = { number = "021111111" }\n'
        '1555 = { interval_s = 600 }\n1300 = "1300"\n',
        encoding="utf-8",
    )
    s = load_settings(cfg)
    assert probe_targets(s) == [
        ProbeTarget("1111", "021111111", 120.0),
        ProbeTarget("1555", "1555", 600.0),
        ProbeTarget("1300", "1300", 120.0),
    ]
    assert probe_targets(s, ["1555", "9999"]) == [
        ProbeTarget("1555", "1555", 600.0),
        ProbeTarget("9999", "9999", 0.0),
    ]
    cfg.write_text('[probe.hotlines]\n1111 = { nubmer = "1" }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="nubmer"):
        probe_targets(load_settings(cfg))


def test_a_probe_call_never_counts_in_the_figures() -> None:
    join = {"Event": "QueueCallerJoin", "Queue": "operator", "Uniqueid": "1.1", "Channel": "x"}
    assert increment(parse_event(join), Targets(), 0.0) is not None
    probe = parse_event({**join, "ChanVariable": "IVR_PROBE=1"})
    assert increment(probe, Targets(), 0.0) is None


def test_the_greeting_before_the_answer_waits_for_the_channel_to_hang_up() -> None:
    w = watch_of((101.0, varset("IVR_PROBE_GREETING")))
    assert not w.decided(101.5, 10.0)  # the OriginateResponse names the channel
    w.feed(answered(), 101.6)
    assert w.decided(101.6, 10.0) and w.channel == CHAN
    assert classify(w)[0] == "ok"


async def test_the_scheduler_probes_each_due_hotline_once_per_interval() -> None:
    probed: list[str] = []

    async def prober(t: ProbeTarget) -> ProbeResult:
        probed.append(t.hotline)
        return result("ok", t.hotline)

    service = ProbeService(None, ProbeConfig(), None, prober=prober)  # type: ignore[arg-type]
    targets = [ProbeTarget("1111", "1111", 3600), ProbeTarget("1555", "1555", 0)]
    task = asyncio.create_task(service.run(lambda: targets, tick_s=0.01))
    try:
        await until(lambda: probed, within=5, what="the first probe")
        for _ in range(5):  # a few more ticks: nothing else is due
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert probed == ["1111"]
