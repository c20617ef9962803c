"""One server's metrics: its registry, the Redis error count its client keeps, and
``/metrics`` read from the parts of the server (:class:`Served`, as
:class:`ivr.app.HotlineApp` holds them; described here, not imported)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from ivr.agi.server import AgiServer
from ivr.ami.nodes import NodeAmis
from ivr.config import ConfigError, Settings, line_of
from ivr.lineup.nodes import NodeQueues
from ivr.metrics.collector import LiveCollector, Sources
from ivr.metrics.http import MetricsAccess, add_metrics
from ivr.metrics.instruments import Instruments
from ivr.problems import Problem
from ivr.store.callbacks import CallbackStore
from ivr.store.client import RedisErrors
from ivr.store.traces import TraceStore
from ivr.trace import CallTrace

__all__ = ["Served", "ServerMetrics", "access_of"]


def access_of(settings: Settings) -> MetricsAccess:
    """Who may scrape; a wrong ``[metrics] allow`` entry stops the start, naming it."""
    try:
        return MetricsAccess.of(settings.metrics_allow, settings.metrics_token)
    except ValueError as e:
        try:
            text = Path(settings.source).read_text(encoding="utf-8") if settings.source else ""
        except OSError:
            text = ""
        line = line_of(text, "allow", "metrics") if text else 0
        fix = 'write addresses or networks, such as ["127.0.0.1/32", "10.20.0.0/24"]'
        raise ConfigError(
            [Problem(settings.source or "$IVR_METRICS_ALLOW", line, f"[metrics] allow: {e}", fix)]
        ) from e


class Served(Protocol):
    """What ``/metrics`` reads of a running server: every Asterisk node's queues
    (``view``) and AMI clients (``node_amis``)."""

    view: NodeQueues
    node_amis: NodeAmis
    agi: AgiServer
    traces: TraceStore
    callbacks: CallbackStore

    def hotline_queues(self) -> dict[str, list[str]]: ...


class ServerMetrics:
    """The metrics of one server (several may run in one process: tests)."""

    def __init__(self, settings: Settings) -> None:
        self.instruments = Instruments()
        self.redis_errors = RedisErrors()
        self.access = access_of(settings)

    def on_trace(
        self, then: Callable[[CallTrace, str], None] | None
    ) -> Callable[[CallTrace, str], None]:
        """``TraceSaver.on_saved``: the call counted, then ``then`` told (the history)."""

        def saved(trace: CallTrace, number: str) -> None:
            self.instruments.on_trace(trace)
            if then is not None:
                then(trace, number)

        return saved

    def sources(
        self, served: Served, history: Callable[[], Awaitable[Mapping[str, Any]]] | None
    ) -> Sources:
        clients = served.node_amis.clients.values()
        return Sources(
            queues=served.view.states,
            agi_stats=lambda: served.agi.stats,
            # reconnects: the logins after each node's first
            ami_logins=lambda: 1 + sum(max(c.logins - 1, 0) for c in clients),
            ami_connected=lambda: all(c.connected for c in clients),
            traces_pending=lambda: served.traces.pending,
            redis_errors=lambda: self.redis_errors.counts,
            callbacks=served.callbacks.counts,
            history=history,
            queue_names=lambda: {q for qs in served.hotline_queues().values() for q in qs},
            ami_nodes=served.view.connected if served.view.several else None,
        )

    def serve(
        self,
        app: web.Application,
        served: Served,
        history: Callable[[], Awaitable[Mapping[str, Any]]] | None = None,
    ) -> None:
        """Serve ``GET /metrics`` on ``app`` (the server's root application)."""
        live = LiveCollector(self.sources(served, history))
        add_metrics(app, self.instruments.registry, live, self.access)
