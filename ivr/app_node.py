"""The parts of the server that belong to one Asterisk node (wiring only).

Per node (:mod:`ivr.config_nodes`): its AMI client, its live queue model, its
recorder of today's figures (every node's events count in the same figures, by
plain queue name), its keeper of the members the API added, its callback
dispatcher (through its own AMI, into its own queues; callbacks are the queue's,
so whichever node first has an agent free for one dials it, and a node that dies
loses none) and its FastAGI routes. A call's routes are the node's: the node's
``IVR_AGI`` ends in its name (``agi://server:4573/a``), so its calls arrive as
``a/queue-wait`` and are served from node a's model (:func:`ivr.queues.nodes.node_route`).
The menus (``hotline``) need no node and are served without the name too; a node whose
``IVR_AGI`` names none gets no announcements in the queue and no callbacks (unknown
route, logged; ``ivr doctor`` names the fix). With the one node of ``[ami]`` (named "")
every name is as it always was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from redis.asyncio import Redis

from ivr.agi.server import Route
from ivr.ami.client import AmiClient
from ivr.calls.callback import CallbackAnswerRoute
from ivr.calls.offer import CallbackOffer
from ivr.calls.waiting import RuleHook, WaitingRoute, WaitSettings
from ivr.config import Settings
from ivr.config_nodes import AmiNode
from ivr.hotlines import HotlineRegistry
from ivr.lineup.dispatcher import CallbackDispatcher
from ivr.lineup.figure_feed import FigureFeed
from ivr.lineup.figures import FigureRecorder
from ivr.lineup.live import LiveQueues
from ivr.lineup.members import MemberKeeper
from ivr.lineup.ports import DispatcherConfig
from ivr.log import fields, server_log
from ivr.queues.figures import Targets
from ivr.queues.no_agent import RuleDecision
from ivr.queues.nodes import node_queue, node_route
from ivr.store.callbacks import CallbackStore
from ivr.store.events import EventStore
from ivr.store.figures import FigureStore
from ivr.store.lease import LeaderLease
from ivr.store.members import MemberStore
from ivr.store.waiting import WaitingStore
from ivr.tasks import cancel_and_wait, resource

__all__ = ["AsteriskNode", "Shared", "lease_name"]

#: Seconds between two logins tried to a node that was down when the server started.
RETRY_S = 5.0


class Shared(Protocol):
    """What a node's parts use of the server (:class:`ivr.app.HotlineApp`)."""

    settings: Settings
    redis: Redis
    instance_id: str
    registry: HotlineRegistry
    events: EventStore
    callbacks: CallbackStore
    feed: FigureFeed
    queue_events: LeaderLease
    on_rule: Callable[[str, str, RuleDecision], Awaitable[None]]

    @property
    def hotline_route(self) -> Route: ...

    def wait_settings(self, queue: str) -> WaitSettings: ...

    def figure_targets(self, queue: str) -> Targets: ...

    def caller_id_for_hotline(self, hotline: str) -> str | None: ...

    async def closed_queues(self) -> set[str]: ...


def lease_name(lease: str, node: str) -> str:
    """A lease held for one node (``callbacks@a``); the plain name for the one node."""
    return f"{lease}@{node}" if node else lease


class AsteriskNode:
    """One node's AMI client, live model, figures, members, dispatcher and routes."""

    def __init__(self, app: Shared, node: AmiNode, *, first: bool) -> None:
        s, redis = app.settings, app.redis
        self.name = node.name
        self.several = bool(node.name)
        self.ami = AmiClient(
            host=node.host,
            port=node.port,
            username=node.username,
            secret=node.secret,
            action_timeout=node.action_timeout,
            events="auto",  # only the classes of the events subscribed to (ivr.ami.mask)
        )
        self.figures = FigureRecorder(
            self.ami, FigureStore(redis), WaitingStore(redis), app.figure_targets
        )
        self.figures.on_recorded = app.feed.touch
        self.live = LiveQueues(
            self.ami,
            redis,
            wrapup_s=s.queue_wrapup_s,
            events=app.events,
            lease=app.queue_events,  # one instance publishes every node's changes
            figures=app.feed if first else None,  # published once, not once a node
            node=node.name,
        )
        self.members = MemberKeeper(self.ami, MemberStore(redis), node=node.name)
        self.dispatcher = self._dispatcher(app)
        waiting = WaitingRoute(
            WaitingStore(redis),
            self.live.queues,
            app.callbacks.pending,
            CallbackOffer(app.callbacks, app.registry.hours_for_queue),
            app.wait_settings,
            on_rule=self._on_rule(app.on_rule),
        )
        callback = CallbackAnswerRoute(
            app.callbacks, self.dispatcher.on_answer_result, instance=app.instance_id
        )
        self.routes: dict[str, Route] = {
            node_route("hotline", node.name): app.hotline_route,
            node_route("queue-wait", node.name): waiting,
            node_route("callback", node.name): callback,
        }
        self.address = node.address
        self._retry: asyncio.Task[None] | None = None

    def _dispatcher(self, app: Shared) -> CallbackDispatcher:
        """The callback dispatcher, placing callbacks through this node's AMI when leading."""
        s = app.settings
        lease = LeaderLease(app.redis, lease_name("callbacks", self.name), app.instance_id, 10.0)
        return CallbackDispatcher(
            app.callbacks,
            lease,
            self.ami,
            self.live.queues,
            DispatcherConfig(
                dial_template=s.callback_dial_template,
                ring_timeout_s=s.callback_ring_timeout_s,
                retry_delay_s=s.callback_retry_delay_s,
                max_attempts=s.callback_max_attempts,
                tick_s=s.callback_tick_s,
                wrapup_s=s.queue_wrapup_s,
                hours_for_queue=app.registry.hours_for_queue,
                closed_queues=app.closed_queues,
                caller_id_for_hotline=app.caller_id_for_hotline,
                reserve_agent=s.callback_reserve_agent,
            ),
            app.instance_id,
        )

    def _on_rule(self, tell: RuleHook) -> RuleHook:
        """The rule hook, naming the queue on this node (the stream's ``caller.rule``)."""
        if not self.several:
            return tell

        async def on_node(uid: str, queue: str, decision: RuleDecision) -> None:
            await tell(uid, node_queue(queue, self.name), decision)

        return on_node

    # -- its part of the server's life --------------------------------------------------
    def watching(self) -> list[AbstractAsyncContextManager[None]]:
        """What listens to the node's AMI, started before it logs in (the resync runs
        after each login): closing the AMI last, the live model, today's figures."""
        return [
            resource(stop=self.close_ami),
            resource(self.live.start, self.live.close),
            resource(self.figures.start, self.figures.close),
        ]

    async def connect(self) -> None:
        """Log in to the node's AMI. A node that does not answer yet is logged; with
        several nodes it is tried again every few seconds until it does."""
        try:
            await self.ami.start()
        except Exception as e:  # Asterisk may come later
            server_log.warning(
                "AMI not connected yet",
                extra=fields(node=self.name, ami=self.address, error=str(e)),
            )
            if self.several:
                self._retry = asyncio.create_task(self._keep_trying())

    async def _keep_trying(self) -> None:
        while True:
            await asyncio.sleep(RETRY_S)
            try:
                await self.ami.start()
            except Exception as e:
                server_log.debug(
                    "AMI still not connected", extra=fields(node=self.name, error=str(e))
                )
                continue
            server_log.info("AMI connected", extra=fields(node=self.name, ami=self.address))
            return

    async def close_ami(self) -> None:
        if self._retry is not None:
            await cancel_and_wait([self._retry], log=server_log, what="AMI login retries")
        await self.ami.close()
