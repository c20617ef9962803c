"""The base of every call controller: what each FastAGI route needs, written once.

A route is a small :class:`CallController` subclass whose :meth:`~CallController.handle`
holds the call flow and nothing else. The base

* reads the call's arguments (:class:`CallArgs`: ``AGI(agi://…/<route>,<a>,<b>)``);
* ends the controller cleanly when the caller hangs up at any command
  (:class:`~ivr.agi.types.CallHangup`): the route's trace records it, and the
  hang-up either ends the call quietly (``hangup_ends_call``) or goes on to the
  server, which logs it;
* sets ``IVR_ERROR`` (``failure_error``) when the flow fails with an exception,
  so the dialplan sends the caller to its fallback (a hang-up, an AGI error or a
  dropped connection while setting it is ignored), then lets the server log it;
* saves the trace beside the call, when the route keeps one: finished, made
  JSON once, logged as "call ended" with that JSON, and written by the background
  writer of :class:`TraceSaver` (Asterisk goes on with the dialplan at once; the
  server waits for these writes when it stops). The writer waits
  :data:`GATHER_S` before each write and takes every trace finished meanwhile in one
  round trip: a trace reaches Redis that much later, and under load a write serves
  many calls (the client's work for one write cost as much as a third of a call).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from ivr.agi.types import AgiError, Call, CallHangup
from ivr.log import RawJson, call_log, fields
from ivr.store.traces import TraceJson, TraceStore
from ivr.trace import CallTrace

__all__ = ["GATHER_S", "CallArgs", "CallController", "CallSession", "TraceSaver"]

#: Seconds the trace writer waits before a write, for the traces finished meanwhile.
GATHER_S = 0.01


@dataclass(frozen=True)
class CallArgs:
    """The arguments the dialplan gave the route (``AGI(agi://…/route,<0>,<1>,…)``)."""

    values: tuple[str, ...]

    def __getitem__(self, index: int) -> str:
        """The argument at ``index``, or "" when the dialplan gave fewer."""
        return self.values[index] if index < len(self.values) else ""

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class CallSession:
    """One call through a controller: the call, its arguments, and its trace once
    the route starts one (:meth:`CallController.handle` sets ``trace``)."""

    call: Call
    args: CallArgs
    trace: CallTrace | None = None


class TraceSaver:
    """Writes finished traces in the background and knows which writes are running."""

    def __init__(
        self,
        traces: TraceStore,
        on_saved: Callable[[CallTrace, str], None] | None = None,
        gather_s: float = GATHER_S,
    ) -> None:
        self.traces = traces
        self.on_saved = on_saved  # told each finished trace and the caller's number (history)
        self.gather_s = gather_s
        self.saving: set[asyncio.Task[None]] = set()  # the writer, while it runs
        self._queued: list[TraceJson] = []
        self._writing = False

    def save(self, trace: CallTrace, number: str = "") -> None:
        trace.close()
        text = trace.to_json()
        call_log.info("call ended", extra=fields(trace=RawJson(text)))
        if self.on_saved is not None:
            self.on_saved(trace, number)
        # saved beside the call, not in its way: Asterisk goes on with the dialplan now
        self._queued.append((trace, text))
        if not self._writing:
            self._writing = True
            task = asyncio.create_task(self._write_queued())
            self.saving.add(task)
            task.add_done_callback(self.saving.discard)

    async def _write_queued(self) -> None:
        """Write what is queued, then what was queued meanwhile, until nothing is."""
        try:
            while self._queued:
                await asyncio.sleep(self.gather_s)  # the calls ending meanwhile join
                batch, self._queued = self._queued, []
                try:
                    await self.traces.save_many(batch)  # kept in memory if Redis is away
                except Exception:  # never lose the next batches to one failure
                    call_log.exception("traces not saved", extra=fields(count=len(batch)))
        finally:
            self._writing = False

    async def wait(self, timeout_s: float) -> None:
        """Give the writes still running ``timeout_s`` to end (at shutdown)."""
        if self.saving:
            await asyncio.wait(self.saving, timeout=timeout_s)


class CallController:
    """A FastAGI route: ``await controller(call)`` runs :meth:`handle` for one call."""

    #: ``IVR_ERROR`` set when :meth:`handle` fails (None: left to the server).
    failure_error: ClassVar[str | None] = None
    #: A hang-up ends the call quietly (True) or goes on to the server, which logs it.
    hangup_ends_call: ClassVar[bool] = False

    def __init__(self, saver: TraceSaver | None = None) -> None:
        self.saver = saver

    async def handle(self, session: CallSession) -> None:
        raise NotImplementedError

    async def __call__(self, call: Call) -> None:
        session = CallSession(call, CallArgs(tuple(call.info.args)))
        try:
            await self.handle(session)
        except CallHangup:
            if session.trace is not None:
                session.trace.add("hangup")
                session.trace.finish("hangup")
            if not self.hangup_ends_call:
                raise
        except Exception as e:
            if session.trace is not None:
                session.trace.add("error", type(e).__name__)
                session.trace.finish("error")
            await self.set_error(call, self.failure_error)
            raise
        finally:
            if session.trace is not None and self.saver is not None:
                self.saver.save(session.trace, call.info.caller_id)

    @staticmethod
    async def set_error(call: Call, value: str | None) -> None:
        """Tell the dialplan why the call went back to it (best effort)."""
        if value is None:
            return
        with contextlib.suppress(CallHangup, AgiError, OSError):
            await call.set_variable("IVR_ERROR", value)
