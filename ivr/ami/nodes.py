"""The AMI clients of several Asterisk nodes used as one.

With several nodes behind a SIP proxy a queue is named on its node,
``<queue>@<node>`` (``complaint@a``; :mod:`ivr.queues.nodes` says why). What acts on
a queue or on any node through :class:`NodeAmis` (the supervisors' actions, the
listening, the reachability probes) has each action naming a queue (its ``Queue``
header) sent to that queue's node with the plain name, anything else to the first
node logged in, and hears the events of every node.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ivr.ami.client import AmiClient, AmiError, AmiTimeout, Reply
from ivr.ami.events import AmiEvent, AnyEvent

__all__ = ["SEPARATOR", "NodeAmis", "base_queue", "node_of"]

#: Between a queue's name and its node's: ``complaint@a``.
SEPARATOR = "@"

_EMPTY: Mapping[str, str] = MappingProxyType({})


def base_queue(name: str) -> str:
    """The queue a name is of, on any node: ``complaint@a`` -> ``complaint``."""
    return name.rpartition(SEPARATOR)[0] or name


def node_of(name: str) -> str:
    """The node a queue name is on ("" for a plain name)."""
    head, sep, node = name.rpartition(SEPARATOR)
    return node if sep and head else ""


class NodeAmis:
    """The AMI clients of every node (in order), used as one client."""

    def __init__(self, clients: Mapping[str, AmiClient]) -> None:
        if not clients:
            raise ValueError("NodeAmis needs at least one node")
        self.clients = dict(clients)

    @property
    def connected(self) -> bool:
        """Some node is logged in (each action still needs its own node)."""
        return any(c.connected for c in self.clients.values())

    @property
    def logins(self) -> int:
        return sum(c.logins for c in self.clients.values())

    def for_queue(self, name: str) -> tuple[AmiClient, str]:
        """The client of the node ``name`` is on, and the queue's plain name."""
        node = node_of(name)
        client = self.clients.get(node)
        if client is None:
            known = ", ".join(f"<queue>@{n}" for n in self.clients if n) or "plain names"
            raise AmiError(f"queue {name!r} names no Asterisk node: use {known}")
        return client, base_queue(name) if node else name

    def first(self) -> AmiClient:
        """The first node whose AMI is logged in (AmiError when none is)."""
        for client in self.clients.values():
            if client.connected:
                return client
        addresses = ", ".join(c.address for c in self.clients.values())
        raise AmiError(f"no Asterisk node connected ({addresses})")

    async def action(self, name: str, /, **fields_: Any) -> Reply:
        """``name`` on the node of its ``Queue`` header (plain name there), else on
        the first node connected."""
        queue = fields_.get("Queue")
        if isinstance(queue, str) and queue:
            client, fields_["Queue"] = self.for_queue(queue)
            return await client.action(name, **fields_)
        return await self.first().action(name, **fields_)

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
        """An Originate through the first node connected."""
        return await self.first().originate(
            channel,
            context,
            exten,
            priority,
            variables,
            caller_id,
            timeout_ms,
            async_,
            action_id=action_id,
        )

    def subscribe(
        self, event: str | type[AmiEvent], handler: Callable[[Any], Awaitable[None] | None]
    ) -> Callable[[], None]:
        """``handler`` told of ``event`` on every node; returns one unsubscribe."""
        undo = [c.subscribe(event, handler) for c in self.clients.values()]

        def unsubscribe() -> None:
            for u in undo:
                u()

        return unsubscribe

    async def wait_event(
        self,
        predicate: Callable[[AnyEvent], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        names: Sequence[str | type[AmiEvent]] | None = None,
    ) -> AnyEvent:
        """The first event from now on, on any node, for which ``predicate`` is true;
        ``names``, when given, are the only events asked about (as
        :meth:`ivr.ami.client.AmiClient.wait_event`)."""
        found: asyncio.Future[AnyEvent] = asyncio.get_running_loop().create_future()

        def seen(event: AnyEvent) -> None:
            if not found.done() and predicate(event):
                found.set_result(event)

        undo = [self.subscribe(n, seen) for n in (["*"] if names is None else names)]
        try:
            return await asyncio.wait_for(found, timeout)
        except TimeoutError:
            raise AmiTimeout(f"no matching event from any node within {timeout:g}s") from None
        finally:
            for unsubscribe in undo:
                unsubscribe()
            with contextlib.suppress(asyncio.InvalidStateError):
                found.cancel()
