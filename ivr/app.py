"""Composition root: ``ivr serve`` wires the FastAGI server, the AMI client, Redis,
the hotline registry and the HTTP server into one asyncio process.

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
from contextlib import AbstractAsyncContextManager

from aiohttp import web

from ivr.agi.server import AgiServer
from ivr.ami.client import AmiClient
from ivr.api.app import API_PREFIX, build_api
from ivr.api.health import Health, add_health
from ivr.api.page import add_page
from ivr.api.reports import report_deps
from ivr.api.stream import StreamHub
from ivr.callbacks.model import CallbackRequest
from ivr.calls.base import TraceSaver
from ivr.calls.callback import CallbackAnswerRoute
from ivr.calls.hotline import HotlineRoute
from ivr.calls.offer import CallbackOffer
from ivr.calls.waiting import WaitingRoute, WaitSettings
from ivr.config import Settings, queue_settings
from ivr.config_checks import unknown_queue_tables
from ivr.history.feed import HistoryFeed
from ivr.hotlines import HotlineRegistry, ReloadResult
from ivr.lineup.dispatcher import CallbackDispatcher
from ivr.lineup.figure_feed import FigureFeed
from ivr.lineup.figures import FigureRecorder
from ivr.lineup.live import LiveQueues
from ivr.lineup.members import MemberKeeper
from ivr.lineup.places import place_of
from ivr.lineup.ports import DispatcherConfig
from ivr.lineup.publish import callback_publisher, callback_watchers, rule_watcher
from ivr.lineup.view import new_caller_estimate
from ivr.log import fields, server_log
from ivr.metrics.serve import ServerMetrics
from ivr.probes.alerts import Alerter
from ivr.probes.command import probe_config
from ivr.probes.service import ProbeService
from ivr.probes.settings import ProbeTarget, probe_targets
from ivr.queues.figures import Targets
from ivr.queues.state import QueueState
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.client import server_redis
from ivr.store.events import EventStore
from ivr.store.figures import FigureStore
from ivr.store.lease import LeaderLease
from ivr.store.members import MemberStore
from ivr.store.overrides import OverrideStore
from ivr.store.probes import ProbeStore
from ivr.store.tokens import TokenStore
from ivr.store.traces import TraceStore
from ivr.store.waiting import WaitingStore
from ivr.tasks import background, resource


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
        self.ami = AmiClient(
            host=s.ami_host,
            port=s.ami_port,
            username=s.ami_username,
            secret=s.ami_secret,
            action_timeout=s.ami_action_timeout,
            events="auto",  # only the classes of the events subscribed to (ivr.ami.mask)
        )
        self.events = EventStore(self.redis)
        self.members = MemberKeeper(self.ami, MemberStore(self.redis))
        self.overrides = OverrideStore(self.redis)
        self.figures = FigureRecorder(
            self.ami, FigureStore(self.redis), WaitingStore(self.redis), self.figure_targets
        )
        self.live, self.callbacks, self.stream = self._live_parts()
        self.dispatcher = self._dispatcher()
        self.probes = self._probes()
        waiting = WaitingRoute(
            WaitingStore(self.redis),
            self.live.queues,
            self.callbacks.pending,
            CallbackOffer(self.callbacks, self.registry.hours_for_queue),
            self.wait_settings,
            on_rule=rule_watcher(
                self.events, self.traces, self.history.on_rule if self.history else None
            ),
        )
        self.agi = AgiServer(
            routes={
                "hotline": HotlineRoute(self.registry, self.saver, self.overrides),
                "queue-wait": waiting,
                "callback": CallbackAnswerRoute(self.callbacks, self.dispatcher.on_answer_result),
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

    def _dispatcher(self) -> CallbackDispatcher:
        """The callback dispatcher, placing callbacks through the AMI when leading."""
        s = self.settings
        return CallbackDispatcher(
            self.callbacks,
            LeaderLease(self.redis, "callbacks", self.instance_id, ttl_s=10.0),
            self.ami,
            self.live.queues,
            DispatcherConfig(
                dial_template=s.callback_dial_template,
                ring_timeout_s=s.callback_ring_timeout_s,
                retry_delay_s=s.callback_retry_delay_s,
                max_attempts=s.callback_max_attempts,
                tick_s=s.callback_tick_s,
                wrapup_s=s.queue_wrapup_s,
                hours_for_queue=self.registry.hours_for_queue,
                closed_queues=self.closed_queues,
                caller_id_for_hotline=self.caller_id_for_hotline,
                reserve_agent=s.callback_reserve_agent,
            ),
            self.instance_id,
        )

    def _probes(self) -> ProbeService:
        """The reachability probes: kept, streamed, alerted on, and kept in the
        history when there is one."""
        s, history = self.settings, self.history
        probe_targets(s)  # a mistake in [probe.hotlines] stops the start, naming it
        return ProbeService(
            self.ami,
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

    def _live_parts(self) -> tuple[LiveQueues, CallbackStore, StreamHub]:
        """The live queues (with today's figures) and the callbacks, all publishing their
        changes to the stream."""
        # short: the changes a lease hand-over leaves out of the stream are those of its
        # gap (renewed every second by the flush loop; README "Two application instances")
        lease = LeaderLease(self.redis, "queue-events", self.instance_id, ttl_s=3.0)
        feed = FigureFeed(self.figures.today)  # today's figures, as `figures` changes
        self.figures.on_recorded = feed.touch
        live = LiveQueues(
            self.ami,
            self.redis,
            wrapup_s=self.settings.queue_wrapup_s,
            events=self.events,
            lease=lease,
            figures=feed,
        )
        watchers = [callback_publisher(self.events), self.figures.record_callback]
        watchers.append(self.metrics.instruments.on_callback)
        if self.history is not None:
            watchers.append(self.history.on_callback)
        callbacks = CallbackStore(
            self.redis, on_change=callback_watchers(*watchers), replication=self.replication
        )
        return live, callbacks, StreamHub(self.events)

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
        """Waiting settings of ``queue``: its ``[queues.<name>]`` table over the globals."""
        return queue_settings(self.settings, queue, WaitSettings)

    def figure_targets(self, queue: str) -> Targets:
        """The service-level target of ``queue`` and its short-abandon limit."""
        return queue_settings(self.settings, queue, Targets)

    def estimate_new_caller(
        self, state: QueueState, callbacks: list[CallbackRequest]
    ) -> float | None:
        """The wait a caller joining ``state`` now would be told (for the API)."""
        return new_caller_estimate(
            state, callbacks, self.wait_settings(state.name).default_handle_s
        )

    # -- lifecycle ------------------------------------------------------------------
    def _lifecycle(self) -> list[AbstractAsyncContextManager[None]]:
        """Every resource, in the order it starts (it stops in the reverse order)."""
        grace = self.settings.shutdown_grace_s
        return [
            resource(stop=self._remove_pid_file),
            resource(stop=self.redis.aclose),
            resource(self._load_hotlines, self._stop_reloads),
            resource(self.stream.start, self.stream.close),
            resource(self._start_http, self._stop_http),
            resource(stop=self.ami.close),
            resource(self.live.start, self.live.close),  # before the AMI: resync after login
            resource(self.figures.start, self.figures.close),
            *(self.history.parts(self.ami, self.live.queues) if self.history else []),
            resource(self.members.start, self.members.close),  # before the AMI: FullyBooted
            resource(self._connect_ami),
            resource(stop=self.dispatcher.close),
            resource(stop=self._last_traces),
            background(self.traces.flush_forever, "trace writer"),
            background(self.overrides.watch_forever, "overrides watch"),
            background(self.dispatcher.run, "callback dispatcher"),
            background(self.callbacks.settle_forever, "callback replication"),
            background(self._probe_forever, "probe scheduler"),
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
        try:
            await self.ami.start()
        except Exception as e:  # Asterisk may come later: panoramisk reconnects
            server_log.warning("AMI not connected yet", extra=fields(error=str(e)))

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
                ami_connected=lambda: self.ami.connected,
                traces_pending=lambda: self.traces.pending,
                hotline_versions=lambda: {i: h.version for i, h in self.registry.hotlines.items()},
                history=self.history.sink.status if self.history else None,
            ),
        )
        self.metrics.serve(app, self, self.history.sink.status if self.history else None)
        add_page(app)
        app.add_subapp(
            API_PREFIX,
            build_api(
                tokens=TokenStore(self.redis),
                callbacks=self.callbacks,
                queues=self.live.queues,
                estimator=self.estimate_new_caller,
                place_of=place_of,
                ami=self.ami,
                pause_reasons=self.settings.pause_reasons,
                stream=self.stream,
                today=self.figures.today,
                spy_ami=self.ami,
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
        s = self.settings
        s.run_dir.mkdir(parents=True, exist_ok=True)
        s.pid_file.write_text(str(os.getpid()))
        server_log.info(
            "serving",
            extra=fields(
                agi=f"{s.agi_host}:{s.agi_port}",
                http=f"{s.http_host}:{s.http_port}",
                ami=f"{s.ami_host}:{s.ami_port}",
                hotlines=sorted(self.registry.hotlines),
            ),
        )

    async def _remove_pid_file(self) -> None:
        with contextlib.suppress(OSError):
            self.settings.pid_file.unlink()
