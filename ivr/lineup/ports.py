"""What the callback dispatcher is given: its settings, and the callback store, the
AMI and the live queues it works through (protocols, so tests can hand it fakes).

:mod:`ivr.lineup.dispatcher` and :mod:`ivr.lineup.holds` both use these; the real
implementations are :class:`ivr.store.callbacks.CallbackStore`,
:class:`ivr.ami.client.AmiClient` and :class:`ivr.lineup.live.LiveQueues`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ivr.ami.events import AmiEvent
from ivr.ami.ports import Originator
from ivr.callbacks.model import CallbackRequest
from ivr.menus.hours import BusinessHours
from ivr.queues.state import QueueState

__all__ = ["AmiLike", "CallbackStoreLike", "DispatcherConfig", "QueuesProvider"]

#: Reads the live queues, by name.
QueuesProvider = Callable[[], Awaitable[Mapping[str, QueueState]]]

E = TypeVar("E", bound=AmiEvent)


async def _none_closed() -> set[str]:
    return set()


def _no_hours(_queue: str) -> BusinessHours | None:
    return None


def _hotline_caller_id(hotline: str) -> str | None:
    return hotline or None


@dataclass(frozen=True)
class DispatcherConfig:
    """How callbacks are placed (all times in seconds)."""

    dial_template: str = "PJSIP/{number}@pstn"  # ``{number}``: the citizen's number
    context: str = "callback-citizen"  # dialplan the answered call runs in
    exten: str = "s"
    ring_timeout_s: float = 30.0  # Originate Timeout: how long the citizen's phone rings
    claim_margin_s: float = 90.0  # claim beyond the ring time: the press-1 dialog after answer
    retry_delay_s: float = 300.0  # after no answer, busy, no 1 pressed
    max_attempts: int = 3  # then FAILED (stays visible)
    tick_s: float = 2.0
    wrapup_grace_s: float = 5.0  # an agent whose wrap-up ends within this counts as free
    wrapup_s: float | None = None  # the queues' wrapuptime; None: agents in wrap-up not counted
    hours_for_queue: Callable[[str], BusinessHours | None] = field(default=_no_hours)
    # queues a supervisor closed (ivr.store.overrides.OverrideStore.closed_queues)
    closed_queues: Callable[[], Awaitable[set[str]]] = field(default=_none_closed)
    # CallerID shown to the citizen for a hotline (None: the trunk's default)
    caller_id_for_hotline: Callable[[str], str | None] = field(default=_hotline_caller_id)
    # pause the agent counted for a callback while the citizen is rung (ivr.lineup.holds)
    reserve_agent: bool = False


class CallbackStoreLike(Protocol):
    """What the dispatcher uses of :class:`ivr.store.callbacks.CallbackStore`."""

    async def get(self, request_id: str) -> CallbackRequest | None: ...

    async def pending(self, queue: str) -> list[CallbackRequest]: ...

    async def claim(
        self, request_id: str, instance: str, until: float
    ) -> CallbackRequest | None: ...

    async def release(
        self,
        request_id: str,
        instance: str,
        result: str,
        retry_at: float | None,
        max_attempts: int,
    ) -> Any: ...

    async def mark_connected(self, request_id: str) -> Any: ...

    async def reclaim_expired(self, now: float) -> list[str]: ...


class AmiLike(Originator, Protocol):
    """What the dispatcher uses of :class:`ivr.ami.client.AmiClient`."""

    @property
    def connected(self) -> bool: ...

    def subscribe(
        self,
        event: type[E],
        handler: Callable[[E], Awaitable[None] | None],
    ) -> Callable[[], None]: ...
