"""What ``/metrics`` reads when Prometheus scrapes: the live model and the counters
the parts already keep, turned into metric families (nothing updated per event).

:class:`Sources` names where each figure comes from. The synchronous ones are read
inside :meth:`LiveCollector.collect`; the ones that need Redis (callbacks by state,
history records waiting) are read first by :meth:`LiveCollector.refresh`, which
the HTTP handler awaits before rendering. A source that fails leaves its metrics
out of that scrape (``ivr_scrape_errors`` says which), never the whole page.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ivr.log import fields, server_log
from ivr.queues.nodes import base_queue
from ivr.queues.state import AgentState, CallerState, QueueState

__all__ = ["AGI_CONNECTION_RESULTS", "LiveCollector", "Snapshot", "Sources"]

#: AgiServer.stats keys counted as ``ivr_agi_connections_total{result=...}``.
AGI_CONNECTION_RESULTS = ("rejected", "bad_headers", "timeouts", "unknown_route", "overloaded")


@dataclass(frozen=True)
class Sources:
    """Where each figure is read (callables: read at scrape time)."""

    queues: Callable[[], Mapping[str, QueueState]]
    agi_stats: Callable[[], Mapping[str, int]]
    ami_logins: Callable[[], int]
    ami_connected: Callable[[], bool]
    traces_pending: Callable[[], int]
    redis_errors: Callable[[], Mapping[str, int]]
    # (queue, status) -> live callbacks; given the queues to look at
    callbacks: Callable[[Iterable[str]], Awaitable[Mapping[tuple[str, str], int]]] | None = None
    history: Callable[[], Awaitable[Mapping[str, Any]]] | None = None  # None: history off
    queue_names: Callable[[], Iterable[str]] = tuple  # queues named in the hotline files
    clock: Callable[[], float] = time.time
    # several Asterisk nodes: each node's AMI logged in or not (queues named complaint@a)
    ami_nodes: Callable[[], Mapping[str, bool]] | None = None


@dataclass
class Snapshot:
    """What :meth:`LiveCollector.refresh` read from Redis for the next render."""

    callbacks: Mapping[tuple[str, str], int] | None = None
    history: Mapping[str, Any] | None = None
    failed: list[str] = field(default_factory=list)


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def queue_families(states: Mapping[str, QueueState], now: float) -> list[Metric]:
    """Callers and agents of every queue, as the live model holds them now."""
    callers = _gauge("ivr_queue_callers", "Callers in a queue now, by state", ["queue", "state"])
    longest = _gauge("ivr_queue_longest_wait_seconds", "Longest wait in a queue now", ["queue"])
    agents = _gauge("ivr_queue_agents", "Members of a queue now, by state", ["queue", "state"])
    for name in sorted(states):
        st = states[name]
        by_state = dict.fromkeys((s.value for s in CallerState), 0)
        for c in st.callers.values():
            by_state[c.state.value] += 1
        for state, n in by_state.items():
            callers.add_metric([name, state], n)
        arrivals = [c.arrived_at for c in st.callers.values()]
        longest.add_metric([name], max(now - min(arrivals), 0.0) if arrivals else 0.0)
        counts = st.agents_by_state()
        for state in AgentState:
            agents.add_metric([name, state.value], counts.get(state.value, 0))
    return [callers, longest, agents]


def server_families(s: Sources) -> list[Metric]:
    """AGI connections, AMI, Redis errors and traces waiting: counters the parts keep."""
    stats = s.agi_stats()
    conns = CounterMetricFamily(
        "ivr_agi_connections", "FastAGI connections that did not become a call", labels=["result"]
    )
    for result in AGI_CONNECTION_RESULTS:
        conns.add_metric([result], stats.get(result, 0))
    started = CounterMetricFamily("ivr_agi_calls_started", "FastAGI calls handed to a route")
    started.add_metric([], stats.get("calls_started", 0))
    failed = CounterMetricFamily("ivr_agi_calls_failed", "FastAGI calls ended by an error")
    failed.add_metric([], stats.get("calls_failed", 0))
    active = _gauge("ivr_agi_calls_active", "FastAGI calls in progress")
    active.add_metric([], stats.get("calls_active", 0))
    reconnects = CounterMetricFamily(
        "ivr_ami_reconnects", "AMI logins after the first one (connections lost and regained)"
    )
    reconnects.add_metric([], max(s.ami_logins() - 1, 0))
    connected = _gauge("ivr_ami_connected", "1 while logged in to the Asterisk Manager")
    connected.add_metric([], 1 if s.ami_connected() else 0)
    redis = CounterMetricFamily(
        "ivr_redis_errors", "Redis commands that failed, by kind", labels=["kind"]
    )
    for kind, n in sorted(s.redis_errors().items()):
        redis.add_metric([kind], n)
    traces = _gauge("ivr_traces_waiting", "Call traces kept in memory while Redis is away")
    traces.add_metric([], s.traces_pending())
    out: list[Metric] = [conns, started, failed, active, reconnects, connected, redis, traces]
    if s.ami_nodes is not None:
        nodes = _gauge("ivr_ami_node_connected", "1 while logged in to the node's AMI", ["node"])
        for node, up in s.ami_nodes().items():
            nodes.add_metric([node], 1 if up else 0)
        out.append(nodes)
    return out


def snapshot_families(snap: Snapshot) -> list[Metric]:
    """Callbacks by state and the history outbox, as last read from Redis."""
    out: list[Metric] = []
    if snap.callbacks is not None:
        cb = _gauge(
            "ivr_callbacks", "Live callback requests, by queue and status", ["queue", "status"]
        )
        for (queue, status), n in sorted(snap.callbacks.items()):
            cb.add_metric([queue, status], n)
        out.append(cb)
    if snap.history is not None:
        h = snap.history
        waiting = _gauge("ivr_history_outbox_waiting", "History records waiting for PostgreSQL")
        if h.get("waiting") is not None:  # None: Redis away, the outbox unread
            waiting.add_metric([], h["waiting"])
        up = _gauge("ivr_history_database_up", "1 while PostgreSQL takes history records")
        up.add_metric([], 1 if h.get("database") else 0)
        dropped = CounterMetricFamily(
            "ivr_history_dropped", "History records dropped (the outbox was full)"
        )
        dropped.add_metric([], h.get("dropped") or 0)
        out += [waiting, up, dropped]
    errors = _gauge("ivr_scrape_errors", "1 for each source this scrape could not read", ["source"])
    for source in ("callbacks", "history"):
        errors.add_metric([source], 1 if source in snap.failed else 0)
    return [*out, errors]


class LiveCollector(Collector):
    """A Prometheus collector over the live model; call :meth:`refresh` before each render."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.snapshot = Snapshot()

    async def refresh(self) -> None:
        s, snap = self.sources, Snapshot()
        if s.callbacks is not None:
            try:
                live = s.queues() if s.ami_nodes is None else map(base_queue, s.queues())
                snap.callbacks = await s.callbacks({*live, *s.queue_names()})
            except Exception as e:  # Redis away: this scrape goes without them
                snap.failed.append("callbacks")
                server_log.debug("metrics: callbacks not read", extra=fields(error=str(e)))
        if s.history is not None:
            try:
                snap.history = await s.history()
            except Exception as e:
                snap.failed.append("history")
                server_log.debug("metrics: history not read", extra=fields(error=str(e)))
        self.snapshot = snap

    def describe(self) -> list[Metric]:
        return []  # registered without a first collect()

    def collect(self) -> Iterator[Metric]:
        s = self.sources
        yield from queue_families(s.queues(), s.clock())
        yield from server_families(s)
        yield from snapshot_families(self.snapshot)
