"""Composition root: ``ivr serve`` wires the FastAGI server, the AMI client, Redis,
the hotline registry and the HTTP server into one asyncio process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from .agi.call import AgiCall
from .agi.server import AgiServer
from .agi.types import AgiError, CallHangup
from .ami.client import AmiClient
from .api.app import API_PREFIX, build_api
from .callbacks.dispatcher import CallbackDispatcher, DispatcherConfig
from .callbacks.model import CallbackRequest
from .callbacks.offer import CallbackAnswerRoute, CallbackOffer
from .callbacks.store import CallbackStore
from .config import PER_QUEUE_SETTINGS, Settings, queue_setting, unknown_queue_tables
from .hotlines import HotlineRegistry, ReloadResult
from .log import call_log, fields, server_log
from .menus.engine import MenuEngine
from .menus.hours import BusinessHours
from .privacy import mask_phone
from .queues.estimate import estimate_wait, mean_handle_time, staffing
from .queues.live import LiveQueues
from .queues.places import place_of
from .queues.state import QueueState
from .queues.waiting import WaitingRoute, WaitSettings
from .store.client import redis_client
from .store.lease import LeaderLease
from .store.tokens import TokenStore
from .store.traces import TraceStore
from .tasks import cancel_and_wait
from .trace import CallTrace


class HotlineApp:
    """Everything one server process holds."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = HotlineRegistry(settings.hotlines_dir, settings.prompts_dir)
        self.redis: Redis = redis_client(settings.redis_url)
        self.traces = TraceStore(self.redis, settings.trace_ttl_s)
        self.instance_id = settings.instance_id or f"{socket.gethostname()}-{os.getpid()}"
        self.ami = AmiClient(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_username,
            secret=settings.ami_secret,
            action_timeout=settings.ami_action_timeout,
        )
        self.live = LiveQueues(self.ami, self.redis, wrapup_s=settings.queue_wrapup_s)
        self.callbacks = CallbackStore(self.redis)
        self.dispatcher = CallbackDispatcher(
            self.callbacks,
            LeaderLease(self.redis, "callbacks", self.instance_id, ttl_s=10.0),
            self.ami,
            self.live.queues,
            DispatcherConfig(
                dial_template=settings.callback_dial_template,
                ring_timeout_s=settings.callback_ring_timeout_s,
                retry_delay_s=settings.callback_retry_delay_s,
                max_attempts=settings.callback_max_attempts,
                tick_s=settings.callback_tick_s,
                wrapup_s=settings.queue_wrapup_s,
                hours_for_queue=self.hours_for_queue,
                caller_id_for_hotline=self.caller_id_for_hotline,
                reserve_agent=settings.callback_reserve_agent,
            ),
            self.instance_id,
        )
        waiting = WaitingRoute(
            self.redis,
            self.live.queues,
            self.callbacks.pending,
            CallbackOffer(self.callbacks, self.hours_for_queue),
            self.wait_settings,
        )
        self._dispatch_task: asyncio.Task[None] | None = None
        self._trace_task: asyncio.Task[None] | None = None
        self._saves: set[asyncio.Task[bool]] = set()
        self.agi = AgiServer(
            routes={
                "hotline": self.hotline_call,
                "queue-wait": waiting,
                "callback": CallbackAnswerRoute(self.callbacks, self.dispatcher.on_answer_result),
            },
            host=settings.agi_host,
            port=settings.agi_port,
            allow=settings.agi_allow,
            header_timeout=settings.agi_header_timeout,
        )
        self._http: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    # -- the call flow ---------------------------------------------------------------
    async def hotline_call(self, call: AgiCall) -> None:
        """``AGI(agi://host/hotline,<hotline-id>)``: run the hotline's menus."""
        info = call.info
        hotline_id = info.args[0] if info.args else ""
        hotline = self.registry.get(hotline_id)
        if hotline is None:
            call_log.error(
                "unknown hotline: caller sent to the dialplan fallback",
                extra=fields(call=info.uniqueid, hotline=hotline_id),
            )
            with contextlib.suppress(CallHangup, AgiError):
                await call.set_variable("IVR_ERROR", "unknown-hotline")
            return
        trace = CallTrace(
            uniqueid=info.uniqueid,
            hotline=hotline.id,
            channel=info.channel,
            caller=mask_phone(info.caller_id),
            menu_version=hotline.version,
        )
        try:
            await MenuEngine(hotline).run(call, trace)
        except CallHangup:
            trace.add("hangup")
            trace.finish("hangup")
        except Exception as e:
            trace.add("error", type(e).__name__)
            trace.finish("error")
            with contextlib.suppress(CallHangup, AgiError, OSError):
                await call.set_variable("IVR_ERROR", "app-error")
            raise
        finally:
            trace.close()
            call_log.info("call ended", extra=fields(trace=trace.to_dict()))
            # saved beside the call, not in its way: Asterisk goes on with the dialplan now
            task = asyncio.create_task(self.traces.save(trace))
            self._saves.add(task)
            task.add_done_callback(self._saves.discard)

    def hours_for_queue(self, queue: str) -> BusinessHours | None:
        """The business hours of the first hotline that hands calls to ``queue``."""
        for hotline in self.registry.hotlines.values():
            if queue in hotline.queues:
                return hotline.hours
        return None

    def caller_id_for_hotline(self, hotline: str) -> str | None:
        return self.settings.callback_caller_id or hotline or None

    def wait_settings(self, queue: str) -> WaitSettings:
        """Waiting settings of ``queue``: its ``[queues.<name>]`` table over the globals."""
        s = self.settings
        return WaitSettings(**{n: queue_setting(s, queue, n) for n in PER_QUEUE_SETTINGS})

    def estimate_new_caller(
        self, state: QueueState, callbacks: list[CallbackRequest]
    ) -> float | None:
        """The wait a caller joining ``state`` now would be told (for the API)."""
        staffed, free = staffing(state)
        place = len(state.callers) + len(callbacks) + 1
        return estimate_wait(
            place, staffed, free, mean_handle_time(state.handle_times),
            self.wait_settings(state.name).default_handle_s,
        )  # fmt: skip

    # -- lifecycle ------------------------------------------------------------------
    def reload(self) -> ReloadResult:
        return self.registry.reload()

    async def start(self) -> None:
        s = self.settings
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reload)
        self.reload()
        if not self.registry.hotlines:
            server_log.warning("no valid hotline loaded: every call goes to its fallback queue")
        queues = {q for h in self.registry.hotlines.values() for q in h.queues}
        for problem in unknown_queue_tables(s, queues):
            server_log.warning("settings ignored", extra=fields(problem=problem))
        await self.agi.start()
        await self.live.start()  # before the AMI: its resync runs after every login
        try:
            await self.ami.start()
        except Exception as e:  # Asterisk may come later: panoramisk reconnects
            server_log.warning("AMI not connected yet", extra=fields(error=str(e)))
        self._dispatch_task = asyncio.create_task(self.dispatcher.run())
        self._trace_task = asyncio.create_task(self._flush_traces())
        self._http = web.AppRunner(self.http_app())
        await self._http.setup()
        await web.TCPSite(self._http, s.http_host, s.http_port).start()
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

    async def stop(self) -> None:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await self.agi.close(self.settings.shutdown_grace_s)
        if self._dispatch_task is not None:
            await cancel_and_wait([self._dispatch_task], log=server_log, what="callback dispatcher")
        if self._trace_task is not None:
            await cancel_and_wait([self._trace_task], log=server_log, what="trace writer")
        if self._saves:
            await asyncio.wait(self._saves, timeout=5.0)
        await self.traces.flush_pending()  # a last try for traces kept while Redis was away
        await self.dispatcher.close()
        await self.live.close()
        await self.ami.close()
        if self._http is not None:
            await self._http.cleanup()
        await self.redis.aclose()
        with contextlib.suppress(OSError):
            self.settings.pid_file.unlink()

    async def _flush_traces(self, every_s: float = 2.0) -> None:
        """Write the traces kept in memory while Redis was away, once it is back."""
        while True:
            await asyncio.sleep(every_s)
            await self.traces.flush_pending()

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

    # -- HTTP ---------------------------------------------------------------------
    def http_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.add_subapp(
            API_PREFIX,
            build_api(
                tokens=TokenStore(self.redis),
                callbacks=self.callbacks,
                queues=self.live.queues,
                estimator=self.estimate_new_caller,
                place_of=place_of,
            ),
        )
        return app

    async def _healthz(self, request: web.Request) -> web.Response:
        redis_ok = True
        try:
            await self.redis.ping()
        except Exception:
            redis_ok = False
        body: dict[str, Any] = {
            "agi": dict(self.agi.stats),
            "ami_connected": self.ami.connected,
            "redis": redis_ok,
            "traces_waiting_for_redis": self.traces.pending,
            "hotlines": {i: h.version for i, h in sorted(self.registry.hotlines.items())},
        }
        status = 200 if redis_ok else 503
        return web.json_response(body, status=status)
