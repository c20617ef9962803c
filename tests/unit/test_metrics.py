"""``/metrics``: the families read from the live model at scrape time, the counters
the call path moves, the Redis error count, and who may scrape."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.config import PROJECT_ROOT, ConfigError, load_settings
from ivr.metrics.collector import LiveCollector, Sources
from ivr.metrics.http import MetricsAccess, add_metrics, may_scrape, metrics
from ivr.metrics.instruments import Instruments
from ivr.metrics.serve import access_of
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState
from ivr.store.client import RedisErrors, _CountingRetry
from ivr.trace import CallTrace

NOW = 1_000_000.0


def _states() -> dict[str, QueueState]:
    st = QueueState("complaint")
    st.callers = {
        "a": Caller("a", arrived_at=NOW - 90),
        "b": Caller("b", arrived_at=NOW - 10, state=CallerState.ANNOUNCING),
    }
    st.agents = {
        "PJSIP/1": Agent("PJSIP/1", state=AgentState.IN_CALL),
        "PJSIP/2": Agent("PJSIP/2", state=AgentState.PAUSED),
        "PJSIP/3": Agent("PJSIP/3"),
    }
    return {"complaint": st, "info": QueueState("info")}


async def _callbacks(queues: Iterable[str]) -> Mapping[tuple[str, str], int]:
    return {(q, s): (2 if s == "pending" else 1) for q in queues for s in ("pending", "dialing")}


async def _history() -> Mapping[str, object]:
    return {"enabled": True, "database": False, "waiting": 7, "dropped": 1, "written": 3}


def _sources(**kw: object) -> Sources:
    base: dict[str, object] = {
        "queues": _states,
        "agi_stats": lambda: {"calls_started": 5, "calls_failed": 1, "calls_active": 2},
        "ami_logins": lambda: 3,
        "ami_connected": lambda: True,
        "traces_pending": lambda: 4,
        "redis_errors": lambda: {"connection": 2, "timeout": 0, "response": 0},
        "callbacks": _callbacks,
        "history": _history,
        "queue_names": lambda: ["complaint", "tax"],
        "clock": lambda: NOW,
    }
    return Sources(**{**base, **kw})  # type: ignore[arg-type]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _scrape(live: LiveCollector, registry: CollectorRegistry | None = None) -> str:
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(live)
    await live.refresh()
    head = generate_latest(registry) if registry is not None else b""
    return (head + generate_latest(scraped)).decode()


async def test_the_live_model_is_read_at_scrape_time() -> None:
    s = _samples(await _scrape(LiveCollector(_sources())))
    q = "complaint"
    assert s[("ivr_queue_callers", (("queue", q), ("state", "waiting")))] == 1
    assert s[("ivr_queue_callers", (("queue", q), ("state", "announcing")))] == 1
    assert s[("ivr_queue_callers", (("queue", "info"), ("state", "waiting")))] == 0
    assert s[("ivr_queue_longest_wait_seconds", (("queue", q),))] == 90
    assert s[("ivr_queue_agents", (("queue", q), ("state", "in_call")))] == 1
    assert s[("ivr_queue_agents", (("queue", q), ("state", "available")))] == 1
    assert s[("ivr_queue_agents", (("queue", q), ("state", "wrapup")))] == 0
    assert s[("ivr_ami_reconnects_total", ())] == 2  # three logins: two reconnects
    assert s[("ivr_ami_connected", ())] == 1
    assert s[("ivr_redis_errors_total", (("kind", "connection"),))] == 2
    assert s[("ivr_traces_waiting", ())] == 4
    assert s[("ivr_agi_calls_started_total", ())] == 5
    assert s[("ivr_agi_calls_active", ())] == 2
    # callbacks of the model's queues and of the hotline files' queues
    assert s[("ivr_callbacks", (("queue", "tax"), ("status", "pending")))] == 2
    assert s[("ivr_callbacks", (("queue", "info"), ("status", "dialing")))] == 1
    assert s[("ivr_history_outbox_waiting", ())] == 7
    assert s[("ivr_history_database_up", ())] == 0
    assert s[("ivr_scrape_errors", (("source", "callbacks"),))] == 0


async def test_a_source_that_fails_leaves_out_its_metrics_only() -> None:
    async def away(_queues: Iterable[str]) -> Mapping[tuple[str, str], int]:
        raise RedisConnectionError("Redis away")

    s = _samples(await _scrape(LiveCollector(_sources(callbacks=away, history=None))))
    assert not any(name == "ivr_callbacks" for name, _ in s)
    assert not any(name.startswith("ivr_history") for name, _ in s)
    assert s[("ivr_scrape_errors", (("source", "callbacks"),))] == 1
    assert s[("ivr_queue_agents", (("queue", "complaint"), ("state", "paused")))] == 1


async def test_the_call_path_moves_counters_and_the_histogram() -> None:
    inst = Instruments()
    trace = CallTrace("1.1", hotline="1111")
    trace.finish("queue", "complaint")
    inst.on_trace(trace)
    inst.on_trace(CallTrace("1.2", hotline="1111"))  # hung up in the menu: no outcome
    inst.on_agi_command("STREAM FILE", 2.0)
    inst.on_agi_command("SET VARIABLE", 0.002)
    req = CallbackRequest("c1", "complaint", "1111", "0812345678", NOW, NOW)
    await inst.on_callback(req)
    req.status = CallbackStatus.DIALING
    await inst.on_callback(req)
    s = _samples(generate_latest(inst.registry).decode())
    assert s[("ivr_calls_total", (("hotline", "1111"), ("outcome", "queue")))] == 1
    assert s[("ivr_calls_total", (("hotline", "1111"), ("outcome", "hangup")))] == 1
    assert s[("ivr_agi_command_seconds_count", (("command", "STREAM FILE"),))] == 1
    bucket = (("command", "SET VARIABLE"), ("le", "0.0025"))
    assert s[("ivr_agi_command_seconds_bucket", bucket)] == 1
    assert s[("ivr_callback_changes_total", (("queue", "complaint"), ("status", "dialing")))] == 1


async def test_two_servers_in_one_process_keep_their_own_counts() -> None:
    a, b = Instruments(), Instruments()
    a.on_agi_command("ANSWER", 0.01)
    s = _samples(generate_latest(b.registry).decode())
    assert ("ivr_agi_command_seconds_count", (("command", "ANSWER"),)) not in s


async def test_redis_errors_are_counted_once_per_failed_command() -> None:
    errors = RedisErrors()
    retry = copy.deepcopy(_CountingRetry(errors))  # as each connection copies it

    async def broken() -> None:
        raise RedisConnectionError("refused")

    async def wrong() -> None:
        raise ResponseError("WRONGTYPE")

    async def ok() -> int:
        return 1

    async def fail(*_: object) -> None:
        return None

    for do in (broken, wrong):
        with pytest.raises((RedisConnectionError, ResponseError)):
            await retry.call_with_retry(do, fail, with_failure_count=True)
    assert await retry.call_with_retry(ok, fail) == 1
    assert errors.counts == {"connection": 1, "timeout": 0, "response": 1}


@pytest.mark.parametrize(
    ("peer", "auth", "token", "ok"),
    [
        ("127.0.0.1", "", "", True),
        ("::1", "", "", True),
        ("10.0.0.9", "", "", False),
        ("10.0.0.9", "Bearer s3cret", "s3cret", True),
        ("10.0.0.9", "Bearer wrong", "s3cret", False),
        ("10.0.0.9", "Bearer ", "", False),  # no token set: a bearer opens nothing
        (None, "", "", False),
    ],
)
def test_who_may_scrape(peer: str | None, auth: str, token: str, ok: bool) -> None:
    access = MetricsAccess.of(("127.0.0.1/32", "::1/128"), token)
    assert may_scrape(access, peer, auth) is ok


def test_an_empty_allow_list_leaves_the_token_only() -> None:
    access = MetricsAccess.of((), "t")  # behind a reverse proxy: every peer is loopback
    assert not may_scrape(access, "127.0.0.1", "")
    assert may_scrape(access, "127.0.0.1", "Bearer t")


async def test_the_handler_answers_the_text_format_or_403_with_the_fix() -> None:
    from aiohttp import web

    app = web.Application()
    inst = Instruments()
    add_metrics(app, inst.registry, LiveCollector(_sources()), MetricsAccess.of((), "t"))
    inst.on_agi_command("ANSWER", 0.01)
    allowed = make_mocked_request("GET", "/metrics", app=app, headers={"Authorization": "Bearer t"})
    reply = await metrics(allowed)
    assert reply.status == 200 and reply.content_type == "text/plain"
    text = reply.body.decode()  # type: ignore[union-attr]
    assert "ivr_agi_command_seconds_count" in text and "ivr_queue_agents{" in text
    refused = make_mocked_request("GET", "/metrics", app=app)  # peer unknown, no token
    reply = await metrics(refused)
    assert reply.status == 403 and "[metrics] allow" in (reply.text or "")


DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "ivr.json"


def _queries(node: object) -> Iterable[str]:
    """Every PromQL text in the dashboard: panel targets and variable queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            else:
                yield from _queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _queries(item)


async def test_every_metric_the_dashboard_queries_is_served() -> None:
    inst = Instruments()  # every labelled family with one sample at least
    inst.on_trace(CallTrace("1.1", hotline="1111"))
    inst.on_agi_command("ANSWER", 0.01)
    await inst.on_callback(CallbackRequest("c1", "complaint", "1111", "0812345678", NOW, NOW))
    served = {name for name, _ in _samples(await _scrape(LiveCollector(_sources()), inst.registry))}
    queries = list(_queries(json.loads(DASHBOARD.read_text(encoding="utf-8"))))
    asked = {m for q in queries for m in re.findall(r"\bivr_[a-z_]+", q)}
    assert len(queries) > 20 and len(asked) > 15
    assert not asked - served, f"the dashboard asks for metrics nobody serves: {asked - served}"


def test_metrics_settings_are_read_from_their_section(tmp_path: Path) -> None:
    cfg = tmp_path / "ivr.toml"
    cfg.write_text('[metrics]\nallow = ["10.20.0.0/24"]\ntoken = "s3cret"\n', encoding="utf-8")
    access = access_of(load_settings(cfg))
    assert may_scrape(access, "10.20.0.7", "") and not may_scrape(access, "127.0.0.1", "")
    assert may_scrape(access, "192.0.2.1", "Bearer s3cret")


def test_a_wrong_allow_entry_stops_the_start_naming_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "ivr.toml"
    cfg.write_text('[http]\nport = 8080\n\n[metrics]\nallow = ["10.20.0.300"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        access_of(load_settings(cfg))
    (problem,) = e.value.problems
    assert (problem.line, "[metrics] allow" in problem.message) == (5, True)
    assert "10.20.0.0/24" in problem.fix
