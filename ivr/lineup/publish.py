"""Callback transitions published for the live stream (the hook of
:class:`ivr.store.callbacks.CallbackStore`, wired by the app)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ivr.callbacks.model import CallbackRequest
from ivr.lineup.changes import callback_change
from ivr.store.events import EventStore

__all__ = ["callback_publisher"]


def callback_publisher(events: EventStore) -> Callable[[CallbackRequest], Awaitable[None]]:
    """``on_change`` for a CallbackStore: publish each transition as one change."""

    async def publish(req: CallbackRequest) -> None:
        await events.publish([callback_change(req).to_dict()])

    return publish
