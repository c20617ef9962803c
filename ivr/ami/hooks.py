"""Connect hooks of one AMI connection: coroutines run in registration order after
every successful (re)login, so state can be resynchronised after an outage.

A run left over from a connection that is gone is cancelled when the next login
starts a new one; a hook's error is logged and never stops the others.
:class:`ivr.ami.client.AmiClient` owns one :class:`ConnectHooks`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ivr.ami.fanout import EventFanOut, describe
from ivr.log import ami_log, fields

__all__ = ["ConnectHook", "ConnectHooks"]

ConnectHook = Callable[[], Awaitable[None]]


class ConnectHooks:
    """The hooks, and the run started by the latest login (tracked by the fan-out,
    so closing the client cancels it)."""

    def __init__(self, address: str, fanout: EventFanOut) -> None:
        self.address = address
        self._fanout = fanout
        self._hooks: list[ConnectHook] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, hook: ConnectHook, *, connected: bool) -> None:
        """Keep ``hook``; run it once right away when ``connected``."""
        self._hooks.append(hook)
        if connected:
            self._fanout.spawn(self._run_hook(hook), "connect hook")

    def forget_run(self) -> None:
        """A new start: no run to wait for yet."""
        self._task = None

    def logged_in(self) -> None:
        """Run every hook, in order, for this login (cancelling a run still going)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()  # a run from a connection that is gone
        if self._hooks:
            task = asyncio.ensure_future(self._run_hooks())
            self._task = task
            self._fanout.track(task)

    async def wait_run(self, within_s: float) -> None:
        """Wait for the latest run to end, at most ``within_s`` (then say so and go on)."""
        if self._task is None:
            return
        # wait() rather than await: a run cancelled by a quick reconnect is not an error;
        # bounded, so that a hook stuck on another server cannot hold the start up
        _done, slow = await asyncio.wait([self._task], timeout=within_s)
        if slow:
            ami_log.warning(
                "AMI connect hooks still running: going on without them",
                extra=fields(ami=self.address, waited_s=within_s),
            )

    async def _run_hooks(self) -> None:
        for hook in list(self._hooks):
            await self._run_hook(hook)

    async def _run_hook(self, hook: ConnectHook) -> None:
        try:
            await hook()
        except asyncio.CancelledError:
            raise
        except Exception:
            ami_log.exception(
                "AMI connect hook failed", extra=fields(ami=self.address, hook=describe(hook))
            )
