"""The agents the callback dispatcher holds (pauses) for the callbacks it is dialling.

With ``reserve_agent`` (:class:`ivr.lineup.ports.DispatcherConfig`) the agent counted
for a callback is paused in every queue it serves (reason ``ivr-callback:<id>``)
while the citizen is rung and asked for 1, so a live caller who came later cannot
take it; it is unpaused when the citizen has joined the queue at the head, or when
the attempt ends. The leader releases any reservation left stale (see
:func:`ivr.callbacks.policy.stale_reservation`), here or left by another instance.

:class:`AgentHolds` belongs to one :class:`ivr.lineup.dispatcher.CallbackDispatcher`,
which tells it when a dial starts, is answered and ends.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from redis.exceptions import RedisError

from ivr.ami.client import AmiError
from ivr.ami.events import QueueCallerJoin
from ivr.callbacks import policy
from ivr.callbacks.model import CallbackRequest
from ivr.lineup import dispatch_policy
from ivr.lineup.ports import AmiLike, CallbackStoreLike, DispatcherConfig, QueuesProvider
from ivr.log import fields
from ivr.queues.state import AgentState, QueueState

__all__ = ["AgentHolds"]

callback_log = logging.getLogger("ivr.callbacks")


@dataclass
class _Hold:
    """An agent this dispatcher paused for a callback being dialled."""

    queue: str
    interface: str
    channel: str = ""  # the citizen's channel, once answered: released when it joins


class AgentHolds:
    """The agents one dispatcher paused for callbacks, by callback id."""

    def __init__(
        self,
        store: CallbackStoreLike,
        ami: AmiLike,
        queues_provider: QueuesProvider,
        config: DispatcherConfig,
    ) -> None:
        self.store = store
        self.ami = ami
        self.queues_provider = queues_provider
        self.config = config
        self._holds: dict[str, _Hold] = {}  # by callback id

    def __len__(self) -> int:
        return len(self._holds)

    async def hold(self, req: CallbackRequest, state: QueueState | None, now: float) -> None:
        """Pause a ready agent of ``req``'s queue for it (no agent: dial anyway)."""
        if state is None:
            return
        cfg = self.config
        busy = {h.interface for h in self._holds.values()}  # held for another callback
        interface = dispatch_policy.pick_agent(state, now, cfg.wrapup_grace_s, cfg.wrapup_s, busy)
        if interface is None:
            return
        try:
            # no Queue: paused in every queue it serves, so no other queue takes it either
            await self.ami.action(
                "QueuePause",
                Interface=interface,
                Paused="true",
                Reason=policy.reservation_reason(req.id),
            )
        except AmiError as e:
            callback_log.warning(
                "agent not held for the callback: dialling anyway",
                extra=fields(callback=req.id, queue=req.queue, agent=interface, error=str(e)),
            )
            return
        self._holds[req.id] = _Hold(req.queue, interface)
        callback_log.info(
            "agent held for the callback",
            extra=fields(callback=req.id, queue=req.queue, agent=interface),
        )

    def answered(self, callback_id: str, channel: str) -> None:
        """The citizen answered on ``channel``: its agent is released when it joins."""
        hold = self._holds.get(callback_id)
        if hold is not None:
            hold.channel = channel

    async def release(self, callback_id: str, *, why: str = "attempt ended") -> None:
        """Unpause the agent held for ``callback_id``, here or by another instance.

        An agent whose pause reason is no longer ours (paused by a supervisor in
        the meantime) is left alone.
        """
        hold = self._holds.pop(callback_id, None)
        reason = policy.reservation_reason(callback_id)
        try:
            states = await self.queues_provider()
        except (RedisError, OSError):
            states = {}
        targets: set[tuple[str, str]] = set()
        if hold is not None:
            targets.add((hold.queue, hold.interface))
        held = dispatch_policy.reservations(states)
        targets.update((q, i) for q, i, cb in held if cb == callback_id)
        for queue, interface in sorted(targets):
            state = states.get(queue)
            agent = state.agents.get(interface) if state is not None else None
            if (
                agent is not None
                and agent.state is AgentState.PAUSED
                and agent.paused_reason != reason
            ):
                continue  # someone else paused it since
            await self._unpause(callback_id, queue, interface, why)

    async def _unpause(self, callback_id: str, queue: str, interface: str, why: str) -> None:
        try:
            await self.ami.action("QueuePause", Interface=interface, Queue=queue, Paused="false")
        except AmiError as e:
            callback_log.warning(
                "held agent not released: the leader retries",
                extra=fields(callback=callback_id, agent=interface, error=str(e)),
            )
            return
        callback_log.info(
            "agent released",
            extra=fields(callback=callback_id, queue=queue, agent=interface, why=why),
        )

    async def release_all(self, *, why: str) -> None:
        """Release every agent held here (at shutdown)."""
        for callback_id in list(self._holds):
            await self.release(callback_id, why=why)

    async def on_join(self, event: QueueCallerJoin) -> None:
        """The citizen of a held agent joined the queue (at the head): release it."""
        for callback_id, hold in list(self._holds.items()):
            if hold.channel and hold.channel == event.channel and hold.queue == event.queue:
                await self.release(callback_id, why="citizen in the queue")

    async def release_stale(self, states: Mapping[str, QueueState], now: float) -> None:
        """Agents held for callbacks no longer being dialled go back to work (a
        crashed instance's, or ours when the outcome never came)."""
        ids = {cb for _q, _i, cb in dispatch_policy.reservations(states)} | set(self._holds)
        for callback_id in sorted(ids):
            req = await self.store.get(callback_id)
            if policy.stale_reservation(req, now):
                await self.release(callback_id, why="stale")
