"""panoramisk 1.4's ``Manager`` with our fixes: the one file to review on a panoramisk upgrade.

Nothing else in ``ivr`` touches panoramisk. :class:`ivr.ami.client.AmiClient` uses
only what this module makes public: :class:`FixedManager` (``request``, ``submit``,
``forget``, ``stop``, ``drop_connection``, ``is_connected``, ``events_sent``),
:data:`LIST_ACTIONS` and :func:`plain`.

Each row: the panoramisk 1.4 code overridden here (``def``) or relied upon
(``uses``), the panoramisk behaviour replaced, and what is done instead.

================================  ==========================================================
panoramisk 1.4 code               behaviour replaced → what we do instead
================================  ==========================================================
def ``Manager.connection_lost``   1. On a lost connection, actions still waiting for a
uses ``AMIProtocol.close``           reply are queued and sent again after the next login
(fills ``awaiting_actions``)         → they fail with ``AmiReplyLost``: an Originate sent
                                     twice is a citizen called twice.
uses ``Manager.send_action``,     2. An action's future never times out and its entry stays
``AMIProtocol.responses``            in ``responses`` → ``request`` waits ``wait_s`` seconds,
                                     raises ``AmiTimeout`` and forgets the entry.
uses ``Action(as_list=)``         3. Whether a reply is a list is guessed from its text
(not ``Action.multi``'s guess)       (waits forever on QueueAdd, breaks on PlayDTMF) →
                                     ``as_list`` is always given, from :data:`LIST_ACTIONS`.
uses                              4. An event carrying the action's ActionID and written
``AMIProtocol.handle_message``       before the response (an early OriginateResponse) is
                                     taken for the reply and never dispatched → ``request``
                                     also hands it to ``on_event`` as the event it is.
uses ``register_event``           5. An exception in a sync event callback drops the
(instead of ``Manager.dispatch``     connection; coroutine callbacks are fire-and-forget →
calling handlers)                    one ``*`` callback that never raises hands plain dicts
                                     to the client, which guards handlers and tracks tasks.
def ``Manager.connection_made``   6. A connect error other than ``OSError`` raises in the
                                     done callback and ends reconnecting; errors are only
                                     logged → retried after ``reconnect_timeout``, and each
                                     error goes to ``on_connect_failed``.
def ``Manager.connect``,          7. ``close()`` stops neither a scheduled reconnect nor a
def ``Manager.connection_made``,     connect in progress, a late connection stays open,
uses ``Manager.close``,              queued actions stay pending for ever → ``stop()``:
``pinger``, ``awaiting_actions``     ``connect`` does nothing any more, a late connection
                                     is closed, the connect task cancelled, queued actions
                                     fail with ``AmiError``.
def ``Manager.login``             8. Raises if the login future failed or was cancelled, and
                                     reports no result → an interrupted login is a failed
                                     one; every result goes to ``on_login_result``.
def ``Manager.__init__``          9. Casts ``reconnect_timeout``, ``ping_delay`` and
                                     ``ping_interval`` to ``int`` → kept as given.
uses ``log=``, and its messages   10. Logs every raw message at DEBUG (phone numbers) →
"Adding action", "Fail to send"      :class:`WireLogFilter` drops DEBUG and rewrites the
                                     lines that quote an action.
uses ``_connected``,              11. Connection state and transport are private →
``protocol.transport``               ``is_connected`` and ``drop_connection()``.
def ``data_received``             12. Decodes each read from the socket on its own, dropping
(of ``AMIProtocol``)                 undecodable bytes, so a character split between two
                                     reads (a Thai caller or member name) vanishes →
                                     :class:`FixedProtocol` cuts the bytes into messages
                                     first (:mod:`ivr.ami.frames`) and decodes whole ones.
def ``data_received``,            13. Every message is decoded, read into a case-insensitive
uses ``Message.from_line``,          ``Message``, matched against fnmatch patterns and
``handle_message``, ``dispatch``     copied into a dict, even events nobody listens to →
                                     an event (``Event:`` first, no ``ActionID``) is read
                                     in one pass straight into dicts for ``on_event``, or
                                     dropped after its name when not ``wanted``; replies,
                                     ``FullyBooted`` and ``Shutdown`` take panoramisk's path.
uses ``Manager.connection_made``  14. Logs in with the ``events`` given once → the
(reads ``config['events']``)         ``Events:`` value is asked of ``events`` at each login
                                     and kept as ``events_sent``.
================================  ==========================================================

Reconnection itself stays panoramisk's (``reconnect_timeout``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from panoramisk import actions as pk_actions
from panoramisk import ami_protocol as pk_protocol
from panoramisk import manager as pk_manager
from panoramisk.message import Message

from ivr.ami.errors import AmiError, AmiReplyLost, AmiTimeout
from ivr.ami.frames import event_name, has_action_id, read_headers, split_frames
from ivr.log import ami_log, fields

__all__ = [
    "LIST_ACTIONS",
    "FixedManager",
    "FixedProtocol",
    "Reply",
    "WireLogFilter",
    "plain",
    "wire_log",
]

Reply = dict[str, str] | list[dict[str, str]]
#: on_event(headers, headers keyed in lower case or None)
EventSink = Callable[[dict[str, str], Mapping[str, str] | None], None]
#: events that take panoramisk's own path (it acts on them itself: row 13)
_PANORAMISK_EVENTS = frozenset({"fullybooted", "shutdown"})

#: Actions whose reply is a list of events ending with ``...Complete`` (row 3).
LIST_ACTIONS = frozenset(
    {
        "queuestatus",
        "queuesummary",
        "coreshowchannels",
        "status",
        "pjsipshowendpoints",
        "pjsipshowcontacts",
        "pjsipshowaors",
        "showdialplan",
        "bridgelist",
        "devicestatelist",
        "extensionstatelist",
        "corelistdetails",
    }
)


class WireLogFilter(logging.Filter):
    """Keep panoramisk's own log lines free of raw AMI messages (they hold phone numbers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return False  # "message interpreted: <Message ...>" and the like
        msg = str(record.msg)
        if msg.startswith("Adding action"):
            args = record.args if isinstance(record.args, tuple) else ()
            record.msg = "re-sending action %r after reconnect"
            record.args = args[:1]
        elif msg.startswith("Fail to send"):
            record.msg = "failed to send an AMI action"
            record.args = ()
        return True


#: The logger handed to panoramisk (row 10).
wire_log = logging.getLogger("ivr.ami.panoramisk")
wire_log.addFilter(WireLogFilter())


def plain(message: Mapping[str, Any]) -> dict[str, str]:
    """A panoramisk message as a plain dict; repeated headers are joined with newlines."""
    out: dict[str, str] = {}
    content = ""
    for key, value in message.items():
        if key == "content":  # panoramisk keeps a "Response: Follows" body under this key
            content = str(value)
        elif isinstance(value, list | tuple):
            out[str(key)] = "\n".join(str(v) for v in value)
        else:
            out[str(key)] = str(value)
    if content and "Output" not in out:
        out["Output"] = content
    return out


class FixedProtocol(pk_protocol.AMIProtocol):  # type: ignore[misc]
    """panoramisk's AMIProtocol, reading each message once (rows 12 and 13)."""

    _pending = b""
    version: str | None = None  # set from Asterisk's banner

    def data_received(self, data: bytes) -> None:
        if self.version is None and data.startswith(b"Asterisk Call Manager/"):
            self.version = data.split(b"\r\n", 1)[0].partition(b"/")[2].decode().strip()
            self.log.info("protocol version: '%s'", self.version)
        frames, self._pending = split_frames(self._pending, data)
        if not frames:
            return
        encoding = getattr(self, "encoding", "utf8")  # set by Manager.connection_made
        factory = self.factory
        deliver = getattr(factory, "deliver_event", None)
        for frame in frames:
            name = event_name(frame)
            if name is None and frame[:1].isspace():  # after an event with a blank line too many
                frame = frame.lstrip()
                name = event_name(frame)
            if deliver is not None and name is not None:
                factory.events_received += 1
                key = name.decode(encoding, "replace").strip().lower()
                if key not in _PANORAMISK_EVENTS and not has_action_id(frame):
                    wanted = factory.wanted()  # a handler may have subscribed just now
                    if wanted is None or key in wanted:
                        deliver(*read_headers(frame.decode(encoding, "replace")))
                    else:
                        factory.events_dropped += 1
                    continue
            message = Message.from_line(frame.decode(encoding, "replace").strip())
            if message is not None:
                self.handle_message(message)


class FixedManager(pk_manager.Manager):  # type: ignore[misc]
    """panoramisk's Manager with the fixes listed in this module's table."""

    def __init__(
        self,
        *,
        address: str,
        on_event: EventSink,
        on_connect_failed: Callable[[BaseException], None],
        on_login_result: Callable[[bool, str], None],
        reconnect_timeout: float,
        ping_interval: float,
        wanted: Callable[[], frozenset[str] | None] = lambda: None,
        events: Callable[[], str] | None = None,
        **config: Any,
    ) -> None:
        super().__init__(log=wire_log, protocol_factory=FixedProtocol, **config)
        self.address = address
        self._on_event = on_event
        self.wanted = wanted  # lower-case names of the events wanted; None: all (row 13)
        self._events = events  # row 14
        self.events_sent = str(self.config.get("events", "on"))
        self.events_received = 0  # event messages read (row 13)
        self.events_dropped = 0  # ... of which dropped after their name
        self._on_connect_failed = on_connect_failed
        self._on_login_result = on_login_result
        self.stopped = False
        self.connect_task: asyncio.Task[Any] | None = None
        # row 9: panoramisk casts these to int
        self.reconnect_timeout = reconnect_timeout
        self.ping_delay = self.ping_interval = ping_interval
        self.register_event("*", self._deliver)  # row 5

    # ------------------------------------------------------------------ overrides

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self.stopped:  # row 7: a reconnect scheduled before stop()
            return None
        task = super().connect(*args, **kwargs)
        self.connect_task = task
        return task

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if self.stopped:  # row 7: no reconnect from this late connection
            if not f.cancelled() and f.exception() is None:
                transport, protocol = f.result()
                protocol.closed = True
                transport.close()
            return
        if f.cancelled():
            return
        exc = f.exception()
        if exc is not None and not isinstance(exc, OSError):
            # row 6: panoramisk only expects OSError; keep retrying instead of crashing
            self._on_connect_failed(exc)
            self.loop.call_later(self.reconnect_timeout, self.connect)
            return
        if isinstance(exc, OSError):
            self._on_connect_failed(exc)
        if self._events is not None:  # row 14: the Events value of this login
            self.config["events"] = self.events_sent = self._events()
        super().connection_made(f)

    def connection_lost(self, exc: BaseException | None) -> None:
        # row 1: the protocol has just moved the actions still waiting for a reply
        # to awaiting_actions, which panoramisk sends again after the next login.
        # Fail them instead: their outcome is unknown, and re-sending is unsafe.
        while self.awaiting_actions:
            action = self.awaiting_actions.popleft()
            future = getattr(action, "future", None)
            if future is not None and not future.done():
                name = action.get("Action", "?") if hasattr(action, "get") else "?"
                future.set_exception(
                    AmiReplyLost(
                        f"AMI {name}: connection to {self.address} lost before "
                        "the reply; not sent again (it may or may not have been carried out)"
                    )
                )
        super().connection_lost(exc)

    def login(self, future: asyncio.Future[Any]) -> bool:
        if future.cancelled() or future.exception() is not None:  # row 8
            self.authenticated_future = None
            self._on_login_result(False, "login interrupted")
            return False
        ok = bool(super().login(future))
        self._on_login_result(ok, str(future.result().get("Message", "")))
        return ok

    # ------------------------------------------------------------------ additions

    @property
    def is_connected(self) -> bool:
        """A live connection (logged in or not); row 11."""
        return bool(self._connected and self.protocol is not None)

    def submit(self, headers: dict[str, str | list[str]], *, as_list: bool) -> asyncio.Future[Any]:
        """Write one action now (``headers`` hold its ``ActionID``); its reply comes in
        the future returned (:meth:`forget` it if it never comes)."""
        future: asyncio.Future[Any] = self.send_action(
            pk_actions.Action(headers, as_list=as_list), as_list=as_list
        )
        return future

    def forget(self, action_id: str) -> None:
        """Stop waiting for the reply to ``action_id`` (row 2)."""
        getattr(self.protocol, "responses", {}).pop(action_id, None)

    async def request(
        self, name: str, headers: dict[str, str | list[str]], *, as_list: bool, wait_s: float
    ) -> Reply:
        """Send one action (``headers`` hold its ``ActionID``) and return its reply as
        plain dicts; rows 2, 3 and 4."""
        action_id = str(headers["ActionID"])
        future = self.submit(headers, as_list=as_list)
        try:
            result = await asyncio.wait_for(future, wait_s)
        except AmiReplyLost:
            raise  # a TimeoutError too, but it says what happened
        except TimeoutError:
            self.forget(action_id)
            raise AmiTimeout(
                f"AMI {name}: no reply from {self.address} within {wait_s:g}s"
            ) from None
        if isinstance(result, list):
            return [plain(m) for m in result]
        reply = plain(result)
        if reply.get("Event"):
            # An event carrying our ActionID overtook the response (an asynchronous
            # Originate on a fast channel: OriginateResponse before "successfully
            # queued"): panoramisk took it for the reply. Deliver it as the event it is.
            self._on_event(reply, None)
        return reply

    def stop(self) -> None:
        """Close for good: no reconnect, and queued actions fail; row 7."""
        self.stopped = True
        if self.connect_task is not None and not self.connect_task.done():
            self.connect_task.cancel()
        self.close()
        if self.pinger is not None:
            self.pinger.cancel()
        while self.awaiting_actions:  # actions panoramisk kept for a reconnect
            pending = self.awaiting_actions.popleft()
            if not pending.future.done():
                pending.future.set_exception(AmiError(f"AMI client for {self.address} closed"))

    def drop_connection(self) -> None:
        """Close the current connection; panoramisk's reconnect then tries again."""
        transport = getattr(self.protocol, "transport", None)
        if transport is not None:
            transport.close()

    def deliver_event(self, raw: dict[str, str], lower: Mapping[str, str]) -> None:
        """An event read by :class:`FixedProtocol` (row 13): must never raise (row 5)."""
        try:
            self._on_event(raw, lower)
        except Exception:
            ami_log.exception("AMI event could not be read", extra=fields(ami=self.address))

    def _deliver(self, _manager: Any, message: Any) -> None:
        """The ``*`` event callback: must never raise (row 5)."""
        try:
            raw = plain(message)
        except Exception:
            ami_log.exception("AMI event could not be read", extra=fields(ami=self.address))
            return
        self._on_event(raw, None)
