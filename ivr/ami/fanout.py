"""Typed AMI events handed to subscribers and waiters, so that no handler can break
the connection: sync handlers' exceptions are logged, async handlers run as tracked
tasks that :meth:`EventFanOut.close` cancels."""

from __future__ import annotations

import asyncio
import inspect
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.ami.errors import AmiTimeout
from ivr.ami.events import AnyEvent, parse_event
from ivr.log import ami_log, fields
from ivr.tasks import cancel_and_wait

__all__ = ["EventFanOut", "EventHandler", "describe"]

EventHandler = Callable[[AnyEvent], Awaitable[None] | None]
_Waiter = tuple[Callable[[AnyEvent], bool], asyncio.Future[AnyEvent]]


def describe(fn: object) -> str:
    """A handler's or hook's name for the log."""
    return str(getattr(fn, "__qualname__", None) or type(fn).__name__)


class EventFanOut:
    """The subscribers, waiters and handler tasks of one AMI connection (``address``)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._handlers: defaultdict[str, list[EventHandler]] = defaultdict(list)
        self._waiters: list[_Waiter] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def subscribe(self, key: str, handler: EventHandler) -> Callable[[], None]:
        """Call ``handler`` for events named ``key`` (lower case; ``"*"``: every event)."""
        self._handlers[key].append(handler)

        def unsubscribe() -> None:
            handlers = self._handlers.get(key, [])
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    async def wait(self, predicate: Callable[[AnyEvent], bool], within_s: float) -> AnyEvent:
        """The first event from now on for which ``predicate`` is true (see
        :meth:`ivr.ami.client.AmiClient.wait_event`)."""
        waiter: asyncio.Future[AnyEvent] = asyncio.get_running_loop().create_future()
        entry = (predicate, waiter)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(waiter, within_s)
        except TimeoutError:
            raise AmiTimeout(
                f"AMI {self.address}: no matching event within {within_s:g}s"
            ) from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def track(self, task: asyncio.Task[Any]) -> None:
        """Cancel ``task`` on :meth:`close` if it is still running."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def spawn(self, coro: Awaitable[Any], what: str, event: str = "") -> None:
        """Run ``coro`` as a tracked task whose exception is logged."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is not None:
                ami_log.error(
                    "AMI %s failed",
                    what,
                    exc_info=exc,
                    extra=fields(ami=self.address, event=event or None),
                )

        task.add_done_callback(done)

    def deliver(self, raw: dict[str, str]) -> None:
        """Called for every raw event: must never raise."""
        try:
            event = parse_event(raw)
        except Exception:
            ami_log.exception("AMI event could not be read", extra=fields(ami=self.address))
            return
        self.dispatch(event)

    def dispatch(self, event: AnyEvent) -> None:
        name = event.name
        handlers = [*self._handlers.get(name.lower(), ()), *self._handlers.get("*", ())]
        for handler in handlers:
            try:
                result = handler(event)
            except Exception:
                ami_log.exception(
                    "AMI event handler failed",
                    extra=fields(ami=self.address, event=name, handler=describe(handler)),
                )
                continue
            if inspect.isawaitable(result):
                self.spawn(result, f"event handler {describe(handler)}", name)
        for predicate, waiter in list(self._waiters):
            if waiter.done():
                continue
            try:
                matched = predicate(event)
            except Exception as exc:
                waiter.set_exception(exc)
                continue
            if matched:
                waiter.set_result(event)

    async def close(self) -> None:
        """Cancel pending waits, then handler tasks (and wait for them)."""
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()
        await cancel_and_wait(self._tasks, log=ami_log, what="AMI handler tasks")
        self._tasks.clear()
