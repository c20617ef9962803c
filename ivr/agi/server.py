"""A hardened FastAGI server.

panoramisk's ``Application.handler`` spins without yielding on a connection that closes
before sending anything, so this server reads the AGI environment itself (with a
timeout and a size limit) and hands each call, as an :class:`AgiCall`, to the route named
by ``agi_network_script``.

What a connection can end as (counted in :attr:`AgiServer.stats`):

* ``rejected``: the peer address is not in the allowlist (:mod:`ivr.agi.allow`);
  closed at once;
* ``bad_headers``: end of stream, binary or non-AGI data, or an oversized environment;
* ``timeouts``: no complete environment within ``header_timeout``;
* ``unknown_route``: the script names no route: ``IVR_ERROR=unknown-route`` is set and
  the session ends, so the dialplan can fall back;
* ``overloaded``: ``max_calls`` calls are active: ``IVR_ERROR=overload``, session ends;
* otherwise ``calls_started``; a call ending in an exception also counts in
  ``calls_failed`` (``IVR_ERROR=internal`` is set when the channel is still there).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from panoramisk.fast_agi import Application, Request

from ivr.agi.allow import RejectionLog, parse_allow, peer_allowed, peer_str
from ivr.agi.call import (
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_STREAM_TIMEOUT,
    AgiCall,
    call_info_from_headers,
)
from ivr.agi.environment import BadEnvironment, read_environment
from ivr.agi.replies import AgiProtocolError, parse_headers
from ivr.agi.types import AgiError, CallHangup
from ivr.log import agi_log, fields
from ivr.privacy import mask_phone

__all__ = ["AgiServer", "Route"]

Route = Callable[[AgiCall], Awaitable[None]]

_STREAM_LIMIT = 64 * 1024
"""Longest line a connection may send (environment line or reply line)."""
_CLOSE_TIMEOUT = 1.0
_ERROR_VAR_TIMEOUT = 5.0
_PEERS_KEPT = 1024


class _BadHeaders(Exception):
    pass


# what reading and parsing a connection's environment raise when it sends none valid
# (ConnectionError is an OSError)
_NO_ENVIRONMENT = (_BadHeaders, BadEnvironment, AgiProtocolError, ValueError, OSError)


class AgiServer:
    """FastAGI server: ``AGI(agi://host/<route>,<args…>)`` runs ``routes[<route>](call)``."""

    def __init__(
        self,
        routes: Mapping[str, Route],
        host: str = "127.0.0.1",
        port: int = 4573,
        *,
        allow: Sequence[str] = (),
        header_timeout: float = 5.0,
        max_header_bytes: int = 16 * 1024,
        max_calls: int = 500,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        backlog: int = 1024,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        self.routes: dict[str, Route] = {k.lstrip("/"): v for k, v in routes.items()}
        self.host = host
        self.port = port
        self.allow = parse_allow(allow)
        self.header_timeout = header_timeout
        self.max_header_bytes = max_header_bytes
        self.max_calls = max_calls
        self.command_timeout = command_timeout
        self.stream_timeout = stream_timeout
        self.backlog = backlog
        self.observe = observe  # each AGI command's name and seconds (/metrics)
        self.stats: dict[str, int] = {
            "accepted": 0,
            "rejected": 0,
            "bad_headers": 0,
            "timeouts": 0,
            "unknown_route": 0,
            "overloaded": 0,
            "calls_started": 0,
            "calls_failed": 0,
            "calls_active": 0,
        }
        self._server: asyncio.Server | None = None
        self._app: Any = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._calls: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._rejections = RejectionLog()
        self._verdicts: dict[str, bool] = {}  # peer address -> allowed (self._peer_allowed)
        self._verdicts_for = self.allow

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start accepting connections."""
        if self._server is not None:
            raise RuntimeError("AgiServer already started")
        # Only used as the ``app`` of each panoramisk Request; given the running loop so
        # that its constructor does not call the deprecated get_event_loop().
        self._app = Application(loop=asyncio.get_running_loop())
        self._closing = False
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self.port, backlog=self.backlog, limit=_STREAM_LIMIT
        )
        agi_log.info(
            "FastAGI server listening",
            extra=fields(
                host=self.host,
                port=self.bound_port,
                routes=sorted(self.routes),
                allow=[str(n) for n in self.allow],
            ),
        )

    @property
    def bound_port(self) -> int:
        """The port actually bound (useful with ``port=0``)."""
        if self._server is None or not self._server.sockets:
            return self.port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def close(self, grace: float = 10.0) -> None:
        """Stop accepting, let active calls finish for up to ``grace`` seconds, then cancel."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        pending_headers = [t for t in self._connections if t not in self._calls]
        for task in pending_headers:
            task.cancel()
        calls = set(self._calls)
        if calls:
            agi_log.info(
                "waiting for active calls to finish",
                extra=fields(active=len(calls), grace=grace),
            )
            _done, still = await asyncio.wait(calls, timeout=max(grace, 0.0))
            if still:
                agi_log.warning(
                    "cancelling calls still active after the grace period",
                    extra=fields(cancelled=len(still), grace=grace),
                )
                for task in still:
                    task.cancel()
        remaining = set(self._connections)
        if remaining:
            await asyncio.wait(remaining, timeout=_CLOSE_TIMEOUT + 1.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_CLOSE_TIMEOUT):
                    await self._server.wait_closed()
            self._server = None
        agi_log.info("FastAGI server closed", extra=fields(**self.stats))

    async def __aenter__(self) -> AgiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connections -------------------------------------------------------------------------

    def _peer_allowed(self, peer: Any) -> bool:
        """:func:`peer_allowed`, its answer kept for each address (a few Asterisk hosts
        call again and again; the addresses kept are forgotten past ``_PEERS_KEPT``)."""
        if not isinstance(peer, tuple) or not peer or not isinstance(peer[0], str):
            return peer_allowed(peer, self.allow)
        if self._verdicts_for is not self.allow:  # the allowlist was replaced
            self._verdicts, self._verdicts_for = {}, self.allow
        verdict = self._verdicts.get(peer[0])
        if verdict is None:
            verdict = peer_allowed(peer, self.allow)
            if len(self._verdicts) >= _PEERS_KEPT:
                self._verdicts.clear()
            self._verdicts[peer[0]] = verdict
        return verdict

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._handle(reader, writer)
        except asyncio.CancelledError:
            # cancelled by close(): end quietly. This task is the connection's top
            # level and nobody awaits it; re-raising makes Python 3.11's
            # start_server callback log "Exception in callback" for every call.
            pass
        except Exception:  # never let one connection disturb the server
            agi_log.exception(
                "unexpected error on a FastAGI connection",
                extra=fields(peer=peer_str(writer.get_extra_info("peername"))),
            )
        finally:
            self._connections.discard(task)
            self._calls.discard(task)
            await _close_writer(writer)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if self._closing:
            writer.transport.abort()
            return
        if not self._peer_allowed(peer):
            self.stats["rejected"] += 1
            writer.transport.abort()
            self._rejections.log(peer, self.stats["rejected"])
            return
        self.stats["accepted"] += 1
        try:
            async with asyncio.timeout(self.header_timeout):
                raw, reader = await read_environment(
                    reader, line_limit=_STREAM_LIMIT, max_bytes=self.max_header_bytes
                )
            headers = parse_headers(raw)
            if not any(k.startswith("agi_") for k in headers):
                raise _BadHeaders("no agi_ variables")
        except TimeoutError:
            self.stats["timeouts"] += 1
            writer.transport.abort()
            agi_log.debug("FastAGI environment timed out", extra=fields(peer=peer_str(peer)))
            return
        except _NO_ENVIRONMENT as exc:
            self.stats["bad_headers"] += 1
            writer.transport.abort()
            agi_log.debug(
                "FastAGI connection without a valid environment",
                extra=fields(peer=peer_str(peer), error=str(exc)[:200]),
            )
            return

        request = Request(self._app, headers, reader, writer)
        call = AgiCall(
            request,
            info=call_info_from_headers(headers),
            command_timeout=self.command_timeout,
            stream_timeout=self.stream_timeout,
            observe=self.observe,
        )
        info = call.info
        route = self.routes.get(info.script)
        if route is None:
            self.stats["unknown_route"] += 1
            agi_log.error(
                "FastAGI request for an unknown route",
                extra=_call_fields(call, peer=peer_str(peer), routes=sorted(self.routes)),
            )
            await _set_error(call, "unknown-route")
            return
        if self._closing or len(self._calls) >= self.max_calls:
            self.stats["overloaded"] += 1
            agi_log.error(
                "FastAGI call refused: server full or shutting down",
                extra=_call_fields(call, active=len(self._calls), max_calls=self.max_calls),
            )
            await _set_error(call, "overload")
            return
        await self._run_call(route, call)

    async def _run_call(self, route: Route, call: AgiCall) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        self.stats["calls_started"] += 1
        self.stats["calls_active"] = len(self._calls)
        started = time.monotonic()
        agi_log.info(
            "call started",
            extra=_call_fields(call, args=list(call.info.args)),
        )
        try:
            await route(call)
        except CallHangup as exc:
            agi_log.info(
                "call ended: caller hung up",
                extra=_call_fields(call, reason=str(exc), duration_s=_since(started)),
            )
        except asyncio.CancelledError:
            self.stats["calls_failed"] += 1
            agi_log.warning(
                "call cancelled (server shutting down)",
                extra=_call_fields(call, duration_s=_since(started)),
            )
            raise
        except Exception as exc:
            self.stats["calls_failed"] += 1
            agi_log.exception(
                "call failed",
                extra=_call_fields(call, error=type(exc).__name__, duration_s=_since(started)),
            )
            await _set_error(call, "internal")
        else:
            agi_log.info("call ended", extra=_call_fields(call, duration_s=_since(started)))
        finally:
            self._calls.discard(task)
            self.stats["calls_active"] = len(self._calls)
            await call.close()


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _call_fields(call: AgiCall, **kw: Any) -> dict[str, Any]:
    info = call.info
    return fields(
        call=info.uniqueid,
        channel=info.channel,
        script=info.script,
        caller=mask_phone(info.caller_id),
        **kw,
    )


async def _set_error(call: AgiCall, value: str) -> None:
    """Best effort: tell the dialplan why the application gave the call back."""
    if call.hungup:
        return
    try:
        await call.command(f'SET VARIABLE IVR_ERROR "{value}"', time_limit=_ERROR_VAR_TIMEOUT)
    except (CallHangup, AgiError, OSError) as exc:
        agi_log.debug(
            "could not set IVR_ERROR", extra=_call_fields(call, value=value, error=str(exc))
        )


async def _close_writer(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if transport.is_closing():
        writer.close()
        return
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await writer.wait_closed()
    except (TimeoutError, ConnectionError, OSError):
        transport.abort()
