"""Typed AMI events handed to subscribers and waiters, so that no handler can break
the connection: sync handlers' exceptions are logged, async handlers run as tracked
tasks that :meth:`EventFanOut.close` cancels.

The fan-out also says which events anybody wants (:attr:`EventFanOut.wanted`): the
protocol drops the others after reading their name (:mod:`ivr.ami.frames`), and a
client in ``events="auto"`` mode asks Asterisk for their classes only.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from ivr.ami.errors import AmiTimeout
from ivr.ami.events import AnyEvent, parse_event
from ivr.log import ami_log, fields
from ivr.tasks import cancel_and_wait

__all__ = ["EventFanOut", "EventHandler", "describe"]

EventHandler = Callable[[AnyEvent], Awaitable[None] | None]
_Waiter = tuple[Callable[[AnyEvent], bool], asyncio.Future[AnyEvent], frozenset[str] | None]


def describe(fn: object) -> str:
    """A handler's or hook's name for the log."""
    return str(getattr(fn, "__qualname__", None) or type(fn).__name__)


class EventFanOut:
    """The subscribers, waiters and handler tasks of one AMI connection (``address``).

    ``on_interest`` is told each time :attr:`wanted` changes.
    """

    def __init__(self, address: str, on_interest: Callable[[], None] | None = None) -> None:
        self.address = address
        self.on_interest = on_interest
        self._handlers: defaultdict[str, list[EventHandler]] = defaultdict(list)
        self._waiters: list[_Waiter] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        # derived from the above by _changed(): the handlers of each name (those of
        # "*" included), the handlers of any other name, and what is wanted
        self._routes: dict[str, tuple[EventHandler, ...]] = {}
        self._star: tuple[EventHandler, ...] = ()
        self.wanted: frozenset[str] | None = frozenset()

    @property
    def waiting(self) -> int:
        """Waits under way (:meth:`wait`)."""
        return len(self._waiters)

    def subscribe(self, key: str, handler: EventHandler) -> Callable[[], None]:
        """Call ``handler`` for events named ``key`` (lower case; ``"*"``: every event)."""
        return self.subscribe_each([key], handler)

    def subscribe_each(self, keys: Iterable[str], handler: EventHandler) -> Callable[[], None]:
        """:meth:`subscribe` ``handler`` to each of ``keys`` at once (what is wanted
        changes once); returns one function that unsubscribes it from all."""
        keys = list(keys)
        for key in keys:
            self._handlers[key].append(handler)
        self._changed()

        def unsubscribe() -> None:
            changed = False
            for key in keys:
                handlers = self._handlers.get(key, [])
                if handler in handlers:
                    handlers.remove(handler)
                    changed = True
                    if not handlers:
                        del self._handlers[key]
            if changed:
                self._changed()

        return unsubscribe

    async def wait(
        self,
        predicate: Callable[[AnyEvent], bool],
        within_s: float,
        names: Iterable[str] | None = None,
    ) -> AnyEvent:
        """The first event from now on for which ``predicate`` is true (see
        :meth:`ivr.ami.client.AmiClient.wait_event`). ``names`` (lower case), when
        given, are the only events the predicate is asked about; else every event is
        wanted while this waits."""
        waiter: asyncio.Future[AnyEvent] = asyncio.get_running_loop().create_future()
        entry = (predicate, waiter, None if names is None else frozenset(names))
        self._waiters.append(entry)
        self._changed()
        try:
            return await asyncio.wait_for(waiter, within_s)
        except TimeoutError:
            raise AmiTimeout(
                f"AMI {self.address}: no matching event within {within_s:g}s"
            ) from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)
                self._changed()

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

    def deliver(self, raw: dict[str, str], lower: Mapping[str, str] | None = None) -> None:
        """Called for every raw event (``lower``: the same keyed in lower case, when
        the caller has it): must never raise."""
        try:
            event = parse_event(raw, lower)
        except Exception:
            ami_log.exception("AMI event could not be read", extra=fields(ami=self.address))
            return
        self.dispatch(event)

    def dispatch(self, event: AnyEvent) -> None:
        name = event.name
        for handler in self._routes.get(name.lower(), self._star):
            try:
                result = handler(event)
            except Exception:
                ami_log.exception(
                    "AMI event handler failed",
                    extra=fields(ami=self.address, event=name, handler=describe(handler)),
                )
                continue
            if result is not None and inspect.isawaitable(result):
                self.spawn(result, f"event handler {describe(handler)}", name)
        if not self._waiters:
            return
        key = name.lower()
        for predicate, waiter, names in list(self._waiters):
            if waiter.done() or (names is not None and key not in names):
                continue
            try:
                matched = predicate(event)
            except Exception as exc:
                waiter.set_exception(exc)
                continue
            if matched:
                waiter.set_result(event)

    def _changed(self) -> None:
        """Derive the routes and :attr:`wanted` again (after any subscription or wait
        starts or ends), and tell ``on_interest`` when what is wanted changed."""
        star = tuple(self._handlers.get("*", ()))
        self._star = star
        self._routes = {
            key: (*handlers, *star) for key, handlers in self._handlers.items() if key != "*"
        }
        names = set(self._routes)
        everything = bool(star)
        for _predicate, _waiter, waited in self._waiters:
            if waited is None:
                everything = True
                break
            names |= waited
        wanted = None if everything else frozenset(names)
        if wanted != self.wanted:
            self.wanted = wanted
            if self.on_interest is not None:
                self.on_interest()

    async def close(self) -> None:
        """Cancel pending waits, then handler tasks (and wait for them)."""
        for _, waiter, _names in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()
        self._changed()
        await cancel_and_wait(self._tasks, log=ami_log, what="AMI handler tasks")
        self._tasks.clear()
