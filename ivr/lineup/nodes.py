"""Several Asterisk nodes seen as one by what reads or acts on all of them.

Each node has its own AMI client and live model (:class:`ivr.lineup.live.LiveQueues`,
plain queue names). :class:`NodeQueues` is every node's queues for the API, the
stream's snapshot and the metrics, each named on its node (``complaint@a``, see
:mod:`ivr.queues.nodes`); the queues of a node whose AMI is not connected are left
out (what its model holds is no longer known: a node that died took its calls
with it). With one node (named "") nothing is renamed or left out: the server is
what it was before there were nodes. The AMI of every node used as one is
:class:`ivr.ami.nodes.NodeAmis`. :func:`watch_nodes` puts a node's AMI going down
or coming back on the stream (``node.down``, ``node.up``), so that a wallboard
drops a dead node's queues at once (they no longer change) and reads them again
when it is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.exceptions import RedisError

from ivr.lineup.changes import Change
from ivr.log import ami_log, fields
from ivr.queues.nodes import base_queue, merged, node_of, node_queue, renamed
from ivr.queues.state import QueueState

__all__ = ["Connected", "LiveModel", "NodeLive", "NodeQueues", "totals", "watch_nodes"]


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


async def watch_nodes(
    view: NodeQueues,
    publish: Callable[[list[dict[str, object]]], Awaitable[object]],
    leading: Callable[[], bool],
    every_s: float = 0.5,
) -> None:
    """Publish ``node.down`` / ``node.up`` (queue "", ``{"node": name}``) each time a
    node's AMI goes down or comes back; only while ``leading`` (the instance that
    publishes the queues' changes), so each change appears once."""
    last = view.connected()
    while True:
        await asyncio.sleep(every_s)
        now = view.connected()
        changed = [n for n, up in now.items() if last.get(n) != up]
        last = now
        if not changed:
            continue
        for node in changed:
            ami_log.warning(
                "Asterisk node up" if now[node] else "Asterisk node down", extra=fields(node=node)
            )
        if not leading():
            continue
        kinds = [Change("node.up" if now[n] else "node.down", "", {"node": n}) for n in changed]
        try:
            await publish([c.to_dict() for c in kinds])
        except (RedisError, OSError) as e:
            ami_log.warning("node change not published", extra=fields(error=str(e)))
