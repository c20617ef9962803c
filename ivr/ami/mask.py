"""The event mask of one AMI session: which classes of events Asterisk sends it.

With ``events="auto"`` the mask follows what the client's subscribers and waiters
want (:attr:`ivr.ami.fanout.EventFanOut.wanted`, :func:`ivr.ami.classes.event_mask`):
it is sent with each login (``Events:``) and, when what is wanted changes while
logged in, with the ``Events`` action. A wider mask is written at once, before
anything the caller sends next (a probe subscribes to ``VarSet``, then originates:
Asterisk carries out a session's actions in order, so the mask is in place before
the call starts); a narrower one ``narrow_after_s`` later, if it still holds (the
next probe may want the class again; the parts unsubscribing at shutdown send
nothing). Any other ``events`` value (``on``, ``off``, classes) is sent as it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ivr.ami.classes import classes_of, event_mask
from ivr.ami.errors import AmiError
from ivr.ami.fanout import EventFanOut
from ivr.ami.panoramisk_fixes import FixedManager
from ivr.log import ami_log, fields

__all__ = ["AUTO", "SessionMask"]

AUTO = "auto"


class SessionMask:
    """``session()`` gives the client's manager and whether it is logged in."""

    def __init__(
        self,
        fanout: EventFanOut,
        events: str,
        reply_s: float,
        next_id: Callable[[], str],
        session: Callable[[], tuple[FixedManager | None, bool]],
        narrow_after_s: float = 1.0,
    ) -> None:
        self.fanout = fanout
        self.events = events
        self.reply_s = reply_s
        self.next_id = next_id
        self.session = session
        self.narrow_after_s = narrow_after_s
        self.changes = 0  # Events actions sent so far
        self._narrowing: asyncio.TimerHandle | None = None

    def value(self) -> str:
        """The ``Events`` value for now."""
        if self.events.strip().lower() != AUTO:
            return self.events
        return event_mask(self.fanout.wanted)

    def sync(self) -> None:
        """Send the ``Events`` action if the session's mask is not :meth:`value`: now
        when it asks for more, after ``narrow_after_s`` when it asks for less."""
        manager, logged_in = self.session()
        if manager is None or not logged_in or not manager.is_connected:
            return  # the next login sends the mask
        mask = self.value()
        if mask == manager.events_sent:
            return
        now, before = classes_of(mask), classes_of(manager.events_sent)
        if before is not None and (now is None or not now <= before):
            self._send(manager, mask)
        elif self._narrowing is None:
            self._narrowing = asyncio.get_running_loop().call_later(
                self.narrow_after_s, self._narrow
            )

    def close(self) -> None:
        """No narrowing after this (the client is closing)."""
        if self._narrowing is not None:
            self._narrowing.cancel()
            self._narrowing = None

    def _narrow(self) -> None:
        self._narrowing = None
        manager, logged_in = self.session()
        if manager is not None and logged_in and manager.is_connected:
            mask = self.value()
            if mask != manager.events_sent:
                self._send(manager, mask)

    def _send(self, manager: FixedManager, mask: str) -> None:
        manager.events_sent = mask
        action_id = self.next_id()
        try:
            future = manager.submit(
                {"Action": "Events", "EventMask": mask, "ActionID": action_id}, as_list=False
            )
        except Exception as e:  # the connection went away: the next login sends it
            ami_log.warning("AMI event mask not sent", extra=fields(error=str(e)))
            return
        self.changes += 1
        future.add_done_callback(_retrieved)  # failed by a close nobody waits for
        self.fanout.spawn(self._reply(manager, future, action_id, mask), "event mask")

    async def _reply(
        self, manager: FixedManager, future: asyncio.Future[Any], action_id: str, mask: str
    ) -> None:
        try:
            reply = await asyncio.wait_for(future, self.reply_s)
        except TimeoutError:
            manager.forget(action_id)
            reply = {"Message": f"no reply within {self.reply_s:g}s"}
        except AmiError:
            return  # the connection went away (or the client closed): the next login sends it
        if str(reply.get("Response", "")).lower() != "success":
            ami_log.warning(
                "AMI event mask refused",
                extra=fields(ami=manager.address, mask=mask, error=str(reply.get("Message"))),
            )


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
