"""Several Asterisk nodes seen as one by what reads or acts on all of them.

Each node has its own AMI client and live model (:class:`ivr.lineup.live.LiveQueues`,
plain queue names). :class:`NodeQueues` is every node's queues for the API, the
stream's snapshot and the metrics, each named on its node (``complaint@a``, see
:mod:`ivr.queues.nodes`); the queues of a node whose AMI is not connected are left
out (what its model holds is no longer known: a node that died took its calls
with it). :class:`NodeAmis` is the AMI of every node for the supervisors' actions,
the listening and the reachability probes: an action naming a queue goes to that
queue's node with the plain name; anything else to the first node connected;
events come from every node. With one node (named "") nothing is renamed or left
out: the server is what it was before there were nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from ivr.ami.client import AmiClient, AmiError, AmiTimeout, Reply
from ivr.ami.events import AmiEvent, AnyEvent
from ivr.queues.nodes import base_queue, merged, node_of, node_queue, renamed
from ivr.queues.state import QueueState

__all__ = ["Connected", "LiveModel", "NodeAmis", "NodeLive", "NodeQueues", "totals"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


class Connected(Protocol):
    """What the views read of a node's AMI (:class:`ivr.ami.client.AmiClient`)."""

    @property
    def connected(self) -> bool: ...


class LiveModel(Protocol):
    """What the views read of a node's live model (:class:`ivr.lineup.live.LiveQueues`)."""

    @property
    def states(self) -> dict[str, QueueState]: ...

    async def queues(self) -> dict[str, QueueState]: ...


@dataclass(frozen=True)
class NodeLive:
    """One node as the views read it."""

    name: str  # "": the one node
    ami: Connected
    live: LiveModel


class NodeQueues:
    """Every node's live queues, named on their nodes."""

    def __init__(self, nodes: Sequence[NodeLive]) -> None:
        self.nodes = list(nodes)
        self.several = len(self.nodes) > 1 or any(n.name for n in self.nodes)

    def _shown(self) -> list[NodeLive]:
        return [n for n in self.nodes if not self.several or n.ami.connected]

    async def queues(self) -> dict[str, QueueState]:
        """Every queue of every connected node (the API's and the stream's view)."""
        if not self.several:
            return await self.nodes[0].live.queues()
        out: dict[str, QueueState] = {}
        for n in self._shown():
            out.update(_named(n.name, await n.live.queues()))
        return out

    def states(self) -> dict[str, QueueState]:
        """The same from the models in memory alone (the metrics, read synchronously)."""
        if not self.several:
            return self.nodes[0].live.states
        out: dict[str, QueueState] = {}
        for n in self._shown():
            out.update(_named(n.name, n.live.states))
        return out

    def connected(self) -> dict[str, bool]:
        """Each node's AMI: logged in or not (in the nodes' order)."""
        return {n.name: n.ami.connected for n in self.nodes}

    async def per_queue(self) -> dict[str, QueueState]:
        """Each queue over every connected node (:func:`ivr.queues.nodes.merged`),
        by plain name: the staffing samples of the history."""
        return totals(await self.queues())


def _named(node: str, states: Mapping[str, QueueState]) -> dict[str, QueueState]:
    out: dict[str, QueueState] = {}
    for name, st in states.items():
        full = node_queue(name, node)
        out[full] = renamed(st, full)
    return out


def totals(
    states: Mapping[str, QueueState], names: Iterable[str] | None = None
) -> dict[str, QueueState]:
    """Queues named on their nodes (``complaint@a``) merged by plain name; only
    ``names`` among them when given."""
    chosen = sorted(states) if names is None else list(names)
    groups: dict[str, dict[str, QueueState]] = {}
    for name in chosen:
        groups.setdefault(base_queue(name), {})[node_of(name)] = states[name]
    return {q: merged(q, on_nodes) for q, on_nodes in sorted(groups.items())}


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
    ) -> AnyEvent:
        """The first event from now on, on any node, for which ``predicate`` is true."""
        found: asyncio.Future[AnyEvent] = asyncio.get_running_loop().create_future()

        def seen(event: AnyEvent) -> None:
            if not found.done() and predicate(event):
                found.set_result(event)

        unsubscribe = self.subscribe("*", seen)
        try:
            return await asyncio.wait_for(found, timeout)
        except TimeoutError:
            raise AmiTimeout(f"no matching event from any node within {timeout:g}s") from None
        finally:
            unsubscribe()
            with contextlib.suppress(asyncio.InvalidStateError):
                found.cancel()
