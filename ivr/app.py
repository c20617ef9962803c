"""Composition root: ``ivr serve`` wires the FastAGI server, the AMI client of each
Asterisk node (the parts of one node: :mod:`ivr.app_node`), Redis, the hotline
registry and the HTTP server into one asyncio process.

Wiring only: :meth:`HotlineApp._lifecycle` lists every resource in the order it
starts; :meth:`HotlineApp.stop` stops them in the reverse order (one
:class:`contextlib.AsyncExitStack`), so the FastAGI server stops taking calls
first and Redis closes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

from aiohttp import web

from ivr.agi.server import AgiServer
from ivr.ami.client import AmiClient
from ivr.ami.nodes import NodeAmis
from ivr.api.app import API_PREFIX, build_api
from ivr.api.health import Health, add_health
from ivr.api.page import add_page
from ivr.api.reports import report_deps
from ivr.api.stream import StreamHub
from ivr.app_node import AsteriskNode
from ivr.callbacks.model import CallbackRequest
from ivr.calls.base import TraceSaver
from ivr.calls.hotline import HotlineRoute
from ivr.calls.waiting import WaitSettings
from ivr.config import Settings, queue_settings
from ivr.config_checks import unknown_queue_tables
from ivr.config_nodes import ami_nodes
from ivr.history.feed import HistoryFeed
from ivr.hotlines import HotlineRegistry, ReloadResult
from ivr.lineup.figure_feed import FigureFeed
from ivr.lineup.nodes import NodeLive, NodeQueues, watch_nodes
from ivr.lineup.places import place_of
from ivr.lineup.publish import callback_publisher, callback_watchers, rule_watcher
from ivr.lineup.view import new_caller_estimate
from ivr.log import fields, server_log
from ivr.metrics.serve import ServerMetrics
from ivr.probes.alerts import Alerter
from ivr.probes.command import probe_config
from ivr.probes.service import ProbeService
from ivr.probes.settings import ProbeTarget, probe_targets
from ivr.queues.figures import Targets
from ivr.queues.nodes import base_queue
from ivr.queues.state import QueueState
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.client import server_redis
from ivr.store.events import EventStore
from ivr.store.lease import LeaderLease
from ivr.store.overrides import OverrideStore
from ivr.store.probes import ProbeStore
from ivr.store.tokens import TokenStore
from ivr.store.traces import TraceStore
from ivr.tasks import background, resource, settle_collector


class HotlineApp:
    """Everything one server process holds."""

    def __init__(self, settings: Settings) -> None:
        s = self.settings = settings
        self.registry = HotlineRegistry(s.hotlines_dir, s.prompts_dir)
        self.metrics = ServerMetrics(s)  # /metrics: counters, histogram, Redis errors
        # Redis, or its primary through Sentinel; then callback changes wait for a replica
        self.redis, self.replication = server_redis(s, self.metrics.redis_errors)
        self.traces = TraceStore(self.redis, s.trace_ttl_s)
        self.instance_id = s.instance_id or f"{socket.gethostname()}-{os.getpid()}"
        self.history = HistoryFeed.for_settings(s, self.redis, self.instance_id)  # off: None
        on_trace = self.history.on_trace if self.history else None
        self.saver = TraceSaver(self.traces, self.metrics.on_trace(on_trace))
        self.events = EventStore(self.redis)
        self.overrides = OverrideStore(self.redis)
        self.callbacks, self.stream = self._callback_store(), StreamHub(self.events)
        self.feed = FigureFeed(self._today)  # today's figures, as `figures` changes
        # short: the changes a lease hand-over leaves out of the stream are those of its
        # gap (renewed every second by the flush loop; README "Two application instances")
        self.queue_events = LeaderLease(self.redis, "queue-events", self.instance_id, ttl_s=3.0)
        self.on_rule = rule_watcher(
            self.events, self.traces, self.history.on_rule if self.history else None
        )
        self.hotline_route = HotlineRoute(self.registry, self.saver, self.overrides)
        self.nodes = [AsteriskNode(self, n, first=not i) for i, n in enumerate(ami_nodes(s))]
        first = self.nodes[0]  # with one Asterisk: the one node
        self.ami, self.live, self.figures = first.ami, first.live, first.figures
        self.members, self.dispatcher = first.members, first.dispatcher
        self.view = NodeQueues([NodeLive(n.name, n.ami, n.live) for n in self.nodes])
        self.node_amis = NodeAmis({n.name: n.ami for n in self.nodes})
        self.probes = self._probes()
        self.agi = AgiServer(
            # the menus need no node: a node whose IVR_AGI names none still gets them
            routes={
                "hotline": self.hotline_route,
                **{p: r for n in self.nodes for p, r in n.routes.items()},
            },
            host=s.agi_host,
            port=s.agi_port,
            allow=s.agi_allow,
            header_timeout=s.agi_header_timeout,
            observe=self.metrics.instruments.on_agi_command,
        )
        self._http: web.AppRunner | None = None
        self._running: contextlib.AsyncExitStack | None = None
        self._stopping = asyncio.Event()

    @property
    def any_ami(self) -> AmiClient | NodeAmis:
        """The AMI the API's actions and the probes use: the one node's client, or
        every node's as one (:class:`ivr.lineup.nodes.NodeAmis`)."""
        return self.node_amis if self.view.several else self.ami

    def _probes(self) -> ProbeService:
        """The reachability probes: kept, streamed, alerted on, and kept in the
        history when there is one."""
        s, history = self.settings, self.history
        probe_targets(s)  # a mistake in [probe.hotlines] stops the start, naming it
        return ProbeService(
            self.any_ami,
            probe_config(s),
            Alerter(s.probe_alert_after, s.probe_webhook_url, s.probe_webhook_timeout_s),
            store=ProbeStore(self.redis, s.probe_keep),
            publish=lambda event: self.events.publish([event]),
            on_result=(lambda r: history.on_probe(r.to_dict())) if history else None,
        )

    def probe_targets(self) -> list[ProbeTarget]:
        return probe_targets(self.settings)

    async def _probe_forever(self) -> None:
        """The probe scheduler, when some hotline has an interval (else nothing)."""
        if not any(t.interval_s > 0 for t in self.probe_targets()):
            return
        lease = LeaderLease(self.redis, "probes", self.instance_id, ttl_s=30.0)
        await self.probes.run(self.probe_targets, lease)

    def _callback_store(self) -> CallbackStore:
        """The callbacks, each change told to the stream, today's figures, the
        metrics and the history."""
        watchers = [callback_publisher(self.events), self._record_callback]
        watchers.append(self.metrics.instruments.on_callback)
        if self.history is not None:
            watchers.append(self.history.on_callback)
        return CallbackStore(
            self.redis, on_change=callback_watchers(*watchers), replication=self.replication
        )

    async def _record_callback(self, req: CallbackRequest) -> bool:
        return await self.figures.record_callback(req)  # once, whatever the nodes

    async def _today(self, queues: Iterable[str]) -> dict[str, dict[str, Any]]:
        return await self.figures.today(queues)

    # -- what the parts ask of each other -------------------------------------------
    def caller_id_for_hotline(self, hotline: str) -> str | None:
        return self.settings.callback_caller_id or hotline or None

    def hotline_queues(self) -> dict[str, list[str]]:
        """Each hotline in force and the queues it hands calls to (token scopes)."""
        return {i: sorted(h.queues) for i, h in self.registry.hotlines.items()}

    async def closed_queues(self) -> set[str]:
        """The queues closed by a supervisor: no callback is dialled into them."""
        return await self.overrides.closed_queues(self.hotline_queues())

    def wait_settings(self, queue: str) -> WaitSettings:
        """Waiting settings of ``queue`` (on any node): its ``[queues.<name>]`` table
        over the globals."""
        return queue_settings(self.settings, base_queue(queue), WaitSettings)

    def figure_targets(self, queue: str) -> Targets:
        """The service-level target of ``queue`` and its short-abandon limit."""
        return queue_settings(self.settings, base_queue(queue), Targets)

    def estimate_new_caller(
        self, state: QueueState, callbacks: list[CallbackRequest]
    ) -> float | None:
        """The wait a caller joining ``state`` now would be told (for the API)."""
        return new_caller_estimate(
            state, callbacks, self.wait_settings(state.name).default_handle_s
        )

    def node_ami(self, queue: str) -> AmiClient:
        """The AMI client of the node ``queue`` is on (``complaint@a``)."""
        return self.node_amis.for_queue(queue)[0]

    # -- lifecycle ------------------------------------------------------------------
    def _lifecycle(self) -> list[AbstractAsyncContextManager[None]]:
        """Every resource, in the order it starts (it stops in the reverse order)."""
        grace, nodes = self.settings.shutdown_grace_s, self.nodes
        staffing = self.view.per_queue if self.view.several else self.live.queues
        history = self.history.parts([n.ami for n in nodes], staffing) if self.history else []
        return [
            resource(stop=self._remove_pid_file),
            resource(stop=self.redis.aclose),
            resource(self._load_hotlines, self._stop_reloads),
            resource(self.stream.start, self.stream.close),
            resource(self._start_http, self._stop_http),
            *(part for n in nodes for part in n.watching()),  # before the AMI: resync after login
            *history,
            *(resource(n.members.start, n.members.close) for n in nodes),  # before: FullyBooted
            resource(self._connect_ami),
            *(resource(stop=n.dispatcher.close) for n in nodes),
            resource(stop=self._last_traces),
            background(self.traces.flush_forever, "trace writer"),
            background(self.overrides.watch_forever, "overrides watch"),
            *(background(n.dispatcher.run, "callback dispatcher") for n in nodes),
            background(self.callbacks.settle_forever, "callback replication"),
            background(self._probe_forever, "probe scheduler"),
            background(self._watch_nodes, "node watch"),
            resource(self.agi.start, lambda: self.agi.close(grace)),
            resource(self._serving),
        ]

    async def start(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            for part in self._lifecycle():
                await stack.enter_async_context(part)
            self._running = stack.pop_all()  # started: stop() unwinds it

    async def stop(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            await running.aclose()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._stopping.set)
        loop.add_signal_handler(signal.SIGINT, self._stopping.set)
        await self.start()
        try:
            await self._stopping.wait()
            server_log.info("stopping: letting calls in progress finish")
        finally:
            await self.stop()

    # -- hotline files ------------------------------------------------------------------
    def reload(self) -> ReloadResult:
        return self.registry.reload()

    async def _load_hotlines(self) -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.registry.request_reload)
        self.reload()
        if not self.registry.hotlines:
            server_log.warning("no valid hotline loaded: every call goes to its fallback queue")
        for problem in unknown_queue_tables(self.settings, self.registry.queues()):
            server_log.warning("settings ignored", extra=fields(problem=problem))

    async def _stop_reloads(self) -> None:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await self.registry.wait_reloads()

    # -- the other resources --------------------------------------------------------
    async def _connect_ami(self) -> None:
        await asyncio.gather(*(n.connect() for n in self.nodes))

    async def _watch_nodes(self) -> None:
        """Several nodes: each node's AMI going down or back, on the stream."""
        if self.view.several:
            lead = self.queue_events
            await watch_nodes(self.view, self.events.publish, lambda: lead.is_leader)

    async def _last_traces(self) -> None:
        await self.saver.wait(timeout_s=5.0)
        await self.traces.flush_pending()  # a last try for traces kept while Redis was away

    def http_app(self) -> web.Application:
        app = web.Application()
        add_health(
            app,
            Health(
                redis=self.redis,
                agi_stats=lambda: self.agi.stats,
                ami_connected=lambda: self.node_amis.connected,
                traces_pending=lambda: self.traces.pending,
                hotline_versions=lambda: {i: h.version for i, h in self.registry.hotlines.items()},
                history=self.history.sink.status if self.history else None,
                ami_nodes=self.view.connected if self.view.several else None,
            ),
        )
        self.metrics.serve(app, self, self.history.sink.status if self.history else None)
        add_page(app)
        app.add_subapp(
            API_PREFIX,
            build_api(
                tokens=TokenStore(self.redis),
                callbacks=self.callbacks,
                queues=self.view.queues,
                estimator=self.estimate_new_caller,
                place_of=place_of,
                ami=self.any_ami,
                pause_reasons=self.settings.pause_reasons,
                stream=self.stream,
                today=self.figures.today,
                spy_ami=self.any_ami,
                node_ami=self.node_ami if self.view.several else None,
                nodes=self.view.connected if self.view.several else None,
                members=self.members.store,
                supervisor_phones=self.settings.api_supervisor_phones,
                hotline_queues=self.hotline_queues,
                hotlines=lambda: self.registry.hotlines,
                catalogue=lambda: self.registry.catalogue,
                overrides=self.overrides,
                audit=AuditLog(self.redis, on_write=self.history.on_action)
                if self.history
                else None,
                probes=self.probes.store,
                probe_hotlines=lambda: sorted(
                    set(self.settings.probe_hotlines) | set(self.registry.hotlines)
                ),
                reports=report_deps(self.settings, lambda: self.registry.hotlines),
            ),
        )
        return app

    async def _start_http(self) -> None:
        s = self.settings
        self._http = web.AppRunner(self.http_app())
        await self._http.setup()
        await web.TCPSite(self._http, s.http_host, s.http_port).start()

    async def _stop_http(self) -> None:
        if self._http is not None:
            await self._http.cleanup()

    async def _serving(self) -> None:
        settle_collector()  # all started and loaded: kept out of later collections
        s = self.settings
        s.run_dir.mkdir(parents=True, exist_ok=True)
        s.pid_file.write_text(str(os.getpid()))
        server_log.info(
            "serving",
            extra=fields(
                agi=f"{s.agi_host}:{s.agi_port}",
                http=f"{s.http_host}:{s.http_port}",
                ami=", ".join(f"{n.name}={n.address}" if n.name else n.address for n in self.nodes),
                hotlines=sorted(self.registry.hotlines),
            ),
        )

    async def _remove_pid_file(self) -> None:
        with contextlib.suppress(OSError):
            self.settings.pid_file.unlink()
