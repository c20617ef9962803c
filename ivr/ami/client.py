"""AMI client: one connection to one Asterisk node, on top of ``panoramisk.Manager``.

What it adds to panoramisk 1.4:

* :meth:`AmiClient.start` waits for the login and fails clearly (``AmiError`` naming
  ``host:port``) on bad credentials or when nobody answers;
* :meth:`AmiClient.action` never hangs (``action_timeout``) and turns
  ``Response: Error`` into :class:`AmiError`;
* event handlers receive typed records (:mod:`ivr.ami.events`); an exception in a
  handler is logged and never drops the connection; coroutine handlers run as
  tracked tasks that :meth:`AmiClient.close` cancels;
* connect hooks (:mod:`ivr.ami.hooks`) run after every (re)login, so state can be
  resynchronised (for example from ``QueueStatus``) after an outage;
* events nobody subscribes to (or waits for) are dropped after their name is read;
  with ``events="auto"`` (what the server uses) Asterisk is asked for the classes
  of the wanted events only (:mod:`ivr.ami.mask`).

Reconnection itself is panoramisk's (``reconnect_timeout``); there is no second loop.
Every override of panoramisk's internals is in :mod:`ivr.ami.panoramisk_fixes`,
with a table of the panoramisk behaviour each one replaces; this module uses only
that module's public methods.
Raw AMI traffic (which holds phone numbers) is never logged: panoramisk's debug
output is dropped, and this module logs event names and ids only.

The package's modules, bottom up, and a typical use are in :mod:`ivr.ami`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar, overload

from ivr.ami.action_headers import action_headers, variable_headers
from ivr.ami.errors import AmiError, AmiReplyLost, AmiTimeout
from ivr.ami.events import AmiEvent, AnyEvent
from ivr.ami.fanout import EventFanOut, EventHandler
from ivr.ami.hooks import ConnectHook, ConnectHooks
from ivr.ami.mask import SessionMask
from ivr.ami.panoramisk_fixes import LIST_ACTIONS, FixedManager, Reply
from ivr.log import ami_log, fields

__all__ = [
    "LIST_ACTIONS",
    "AmiClient",
    "AmiError",
    "AmiReplyLost",
    "AmiTimeout",
    "ConnectHook",
    "EventHandler",
    "Reply",
]

E = TypeVar("E", bound=AmiEvent)

_EMPTY: Mapping[str, str] = MappingProxyType({})
_ERROR_RESPONSES = frozenset({"error", "fail", "failure"})


class AmiClient:
    """One AMI connection with typed events, timeouts, safe handlers and resync hooks."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5038,
        username: str = "",
        secret: str = "",
        *,
        reconnect_timeout: float = 2.0,
        action_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        ping_interval: float = 10.0,
        events: str = "on",
    ) -> None:
        """``events``: the ``Events:`` value of the login (``on``: every event the
        user may read; ``off``; classes such as ``call,agent``) or ``auto``: the
        classes of the events subscribed to or waited for, kept up to date."""
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self.reconnect_timeout = reconnect_timeout
        self.action_timeout = action_timeout
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        self.events = events
        self._manager: FixedManager | None = None
        self._logged_in = False
        self._closed = False
        self._login_waiter: asyncio.Future[None] | None = None
        self._last_error = ""
        self._fanout = EventFanOut(self.address, on_interest=self._interest_changed)
        self._hooks = ConnectHooks(self.address, self._fanout)
        self._ids = itertools.count(1)
        self._id_prefix = f"ivr-{uuid.uuid4().hex[:8]}"
        self.mask = SessionMask(
            self._fanout, events, action_timeout, self._next_action_id, self._session
        )
        self.logins = 0  # successful logins so far (1 + number of reconnects)

    # ------------------------------------------------------------------ lifecycle

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        """Logged in over a live connection."""
        return bool(self._logged_in and self._manager and self._manager.is_connected)

    @property
    def events_received(self) -> int:
        """Event messages read from Asterisk since :meth:`start`."""
        return self._manager.events_received if self._manager is not None else 0

    @property
    def events_dropped(self) -> int:
        """... of which dropped unread: nobody subscribed to or waited for them."""
        return self._manager.events_dropped if self._manager is not None else 0

    async def start(self) -> None:
        """Connect and log in; then run the connect hooks once before returning.

        Raises :class:`AmiError` on bad credentials and :class:`AmiTimeout` when no
        login succeeds within ``connect_timeout`` (connection refused, no answer).
        Afterwards the connection is kept up by panoramisk's reconnect.
        """
        if self._manager is not None:
            raise AmiError(f"AMI client for {self.address} already started")
        loop = asyncio.get_running_loop()
        self._closed = False
        self._last_error = ""
        self._hooks.forget_run()
        self._login_waiter = loop.create_future()
        manager = FixedManager(
            address=self.address,
            on_event=self._fanout.deliver,
            on_connect_failed=self._connect_failed,
            on_login_result=self._login_result,
            reconnect_timeout=self.reconnect_timeout,
            ping_interval=self.ping_interval,
            wanted=lambda: self._fanout.wanted,
            events=self.mask.value,
            host=self.host,
            port=self.port,
            username=self.username,
            secret=self._secret,
            loop=loop,
            on_disconnect=self._on_disconnect,
        )
        self._manager = manager
        ami_log.info("AMI connecting", extra=fields(ami=self.address))
        manager.connect()
        try:
            await asyncio.wait_for(asyncio.shield(self._login_waiter), self.connect_timeout)
        except TimeoutError:
            detail = f" (last error: {self._last_error})" if self._last_error else ""
            await self.close()
            raise AmiTimeout(
                f"AMI at {self.address}: no successful login within "
                f"{self.connect_timeout:g}s{detail}"
            ) from None
        except BaseException:
            await self.close()
            raise
        await self._hooks.wait_run(self.connect_timeout)

    async def close(self) -> None:
        """Close the connection, stop reconnecting, cancel handler tasks and pending waits."""
        self._closed = True
        self.mask.close()
        manager, self._manager = self._manager, None
        self._logged_in = False
        if manager is not None:
            manager.stop()
        if self._login_waiter is not None and not self._login_waiter.done():
            self._login_waiter.set_exception(AmiError(f"AMI client for {self.address} closed"))
            self._login_waiter.exception()  # retrieved: nobody may be waiting
        await self._fanout.close()
        if manager is not None:
            ami_log.info("AMI closed", extra=fields(ami=self.address))

    async def __aenter__(self) -> AmiClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ actions

    def _next_action_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    async def action(
        self,
        name: str,
        /,
        *,
        reply_timeout: float | None = None,
        as_list: bool | None = None,
        **fields_: str | int | Iterable[str],
    ) -> Reply:
        """Send one action and return its reply.

        Fields are AMI headers (``Queue="q1"``); an iterable value sends the header
        once per item (``Variable=[...]``). A single reply comes back as a dict; a
        reply that is a list of events (``QueueStatus``, ``CoreShowChannels``) as a
        list whose first item is the response and whose last is the ``...Complete``
        event. Whether a reply is a list is known from the action's name
        (:data:`LIST_ACTIONS`), not guessed from the reply text as panoramisk does
        (see :mod:`ivr.ami.panoramisk_fixes`, row 3).

        Raises :class:`AmiError` if not connected or on ``Response: Error``, and
        :class:`AmiTimeout` after ``reply_timeout`` (default ``action_timeout``) seconds.
        """
        reply, _ = await self._send(name, reply_timeout=reply_timeout, as_list=as_list, **fields_)
        return reply

    async def _send(
        self,
        name: str,
        /,
        *,
        reply_timeout: float | None,
        as_list: bool | None,
        **fields_: str | int | Iterable[str],
    ) -> tuple[Reply, str]:
        manager = self._manager
        if manager is None or not self.connected:
            raise AmiError(f"AMI {name}: not connected to {self.address}")
        headers = action_headers(name, fields_)
        action_id = str(headers.get("ActionID") or self._next_action_id())
        headers["ActionID"] = action_id
        if as_list is None:
            as_list = name.lower() in LIST_ACTIONS
        wait = self.action_timeout if reply_timeout is None else reply_timeout
        # AmiTimeout or AmiReplyLost; an early event with our ActionID is dispatched
        reply = await manager.request(name, headers, as_list=as_list, wait_s=wait)
        if isinstance(reply, list) or reply.get("Event"):
            return reply, action_id
        if reply.get("Response", "").lower() in _ERROR_RESPONSES:
            message = reply.get("Message") or reply.get("Output") or "no message"
            raise AmiError(f"AMI {name} failed on {self.address}: {message}")
        return reply, action_id

    async def originate(
        self,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        variables: Mapping[str, str] = _EMPTY,
        caller_id: str | None = None,
        timeout_ms: int = 30000,
        async_: bool = True,
        *,
        action_id: str | None = None,
    ) -> str:
        """Place a call to ``channel``; once answered it runs ``context,exten,priority``.

        Returns the ActionID. With ``async_`` (the default) Asterisk answers at once
        and reports the outcome later in an :class:`~ivr.ami.events.OriginateResponse`
        event carrying this ActionID (subscribe to it or use :meth:`wait_event`).
        Without it, this call waits until the call is answered or fails
        (``AmiError`` on failure).
        """
        headers: dict[str, str | int | Iterable[str]] = {
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": priority,
            "Timeout": timeout_ms,
            "Async": "true" if async_ else "false",
            "ActionID": action_id or self._next_action_id(),
        }
        if caller_id is not None:
            headers["CallerID"] = caller_id
        if variables:
            headers["Variable"] = variable_headers(variables)
        wait = self.action_timeout
        if not async_:
            wait = max(wait, timeout_ms / 1000 + 5)
        # as_list=False: the reply is the immediate response, so the later
        # OriginateResponse event is dispatched to subscribers, not swallowed.
        _, sent_id = await self._send("Originate", reply_timeout=wait, as_list=False, **headers)
        return sent_id

    # ------------------------------------------------------------------ events

    @overload
    def subscribe(
        self, event: type[E], handler: Callable[[E], Awaitable[None] | None]
    ) -> Callable[[], None]: ...

    @overload
    def subscribe(self, event: str, handler: EventHandler) -> Callable[[], None]: ...

    def subscribe(self, event: str | type[AmiEvent], handler: Any) -> Callable[[], None]:
        """Call ``handler(typed_event)`` for each ``event`` or, with ``"*"``, every event.

        ``event`` is an AMI event name (any case) or a record class such as
        ``QueueCallerJoin``. ``handler`` may be sync or async; its exceptions are
        logged and never affect the connection. Returns a function that unsubscribes.
        """
        return self._fanout.subscribe(_key(event), handler)

    def subscribe_each(
        self, events: Sequence[str | type[AmiEvent]], handler: EventHandler
    ) -> Callable[[], None]:
        """:meth:`subscribe` ``handler`` to each of ``events`` at once; returns one
        function that unsubscribes it from all."""
        return self._fanout.subscribe_each([_key(e) for e in events], handler)

    def add_connect_hook(self, hook: ConnectHook) -> None:
        """Run ``await hook()`` after every successful (re)login, in registration order.

        A hook added while connected also runs once right away. Hook errors are logged.
        """
        self._hooks.add(hook, connected=self.connected)

    async def wait_event(
        self,
        predicate: Callable[[AnyEvent], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        names: Sequence[str | type[AmiEvent]] | None = None,
    ) -> AnyEvent:
        """The first event from now on for which ``predicate`` is true.

        ``names``, when given, are the only events ``predicate`` is asked about
        (names or record classes); else every event is wanted while this waits.
        Raises :class:`AmiTimeout` after ``timeout`` seconds; an exception raised by
        ``predicate`` is raised here.
        """
        keys = None if names is None else [_key(n) for n in names]
        return await self._fanout.wait(predicate, timeout, keys)

    # ------------------------------------------------------------------ internals

    def _session(self) -> tuple[FixedManager | None, bool]:
        return self._manager, self._logged_in and not self._closed

    def _interest_changed(self) -> None:
        self.mask.sync()

    def _connect_failed(self, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        repeated = error == self._last_error
        self._last_error = error
        ami_log.log(
            logging.DEBUG if repeated else logging.WARNING,
            "AMI connection failed",
            extra=fields(ami=self.address, error=error),
        )

    def _login_result(self, ok: bool, message: str) -> None:
        waiter = self._login_waiter
        if ok:
            self._logged_in = True
            self._last_error = ""
            self.logins += 1
            ami_log.info("AMI logged in", extra=fields(ami=self.address, logins=self.logins))
            self.mask.sync()  # what is wanted may have changed during the login
            self._hooks.logged_in()
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        self._logged_in = False
        reason = message or "login rejected"
        self._last_error = reason
        if waiter is not None and not waiter.done():
            waiter.set_exception(AmiError(f"AMI login to {self.address} failed: {reason}"))
            return
        # Later (a reconnect after the credentials changed): say so loudly and let
        # panoramisk's reconnect try again once the connection closes.
        ami_log.error("AMI login failed", extra=fields(ami=self.address, reason=reason))
        if self._manager is not None:
            self._manager.drop_connection()

    def _on_disconnect(self, _manager: Any, exc: BaseException | None) -> None:
        was = self._logged_in
        self._logged_in = False
        if not self._closed and was:
            ami_log.warning(
                "AMI connection lost; reconnecting",
                extra=fields(ami=self.address, retry_s=self.reconnect_timeout),
            )


def _key(event: str | type[AmiEvent]) -> str:
    """The fan-out's key of an event name or record class."""
    return (event if isinstance(event, str) else event.EVENT).lower()
