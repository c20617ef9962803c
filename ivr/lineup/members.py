"""Members added through the API come back after Asterisk restarts.

app_queue keeps dynamic members (``QueueAdd``) in memory only, unless
``persistentmembers = yes``. The server remembers the members its API added
(:class:`ivr.store.members.MemberStore`) and, each time Asterisk tells it is fully
booted (``FullyBooted``: sent at each AMI login once Asterisk is up, and when a
starting Asterisk finishes booting), compares them with ``QueueStatus`` and sends a
``QueueAdd`` for each one missing, with its penalty and name. Members added by hand
(CLI, another tool) are not restored: the server restores only what it added.

Several instances may restore at once: a second ``QueueAdd`` of the same member is
refused by Asterisk ("Already there") and changes nothing. A member refused for
another reason (the queue no longer exists) is logged and kept for the next boot.

With several Asterisk nodes the API names a queue on its node (``complaint@a``) and
remembers the member so; each node's keeper adds back only its own node's members.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from redis.exceptions import RedisError

from ivr.ami.client import AmiClient
from ivr.ami.errors import AmiError
from ivr.ami.events import FullyBooted
from ivr.log import ami_log, fields
from ivr.queues.nodes import base_queue, node_of
from ivr.store.members import AddedMember, MemberStore
from ivr.tasks import cancel_and_wait

__all__ = ["MemberKeeper", "missing", "of_node"]


def missing(remembered: list[AddedMember], status: object) -> list[AddedMember]:
    """The remembered members that a ``QueueStatus`` reply does not list."""
    rows = status if isinstance(status, list) else [status]
    present = {
        (str(r.get("Queue", "")), str(r.get("Location") or r.get("Interface") or ""))
        for r in rows
        if isinstance(r, dict) and r.get("Event") == "QueueMember"
    }
    return [m for m in remembered if (m.queue, m.interface) not in present]


def of_node(remembered: list[AddedMember], node: str) -> list[AddedMember]:
    """The members remembered on ``node``, with plain queue names (the one node, "":
    every member, as remembered)."""
    if not node:
        return remembered
    return [replace(m, queue=base_queue(m.queue)) for m in remembered if node_of(m.queue) == node]


class MemberKeeper:
    def __init__(self, ami: AmiClient, store: MemberStore, node: str = "") -> None:
        self.ami = ami
        self.store = store
        self.node = node
        self.restored = 0  # QueueAdd actions accepted so far
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    async def start(self) -> None:
        self._unsubscribe = self.ami.subscribe(FullyBooted, self._on_booted)

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        await cancel_and_wait(list(self._tasks), log=ami_log, what="queue member restore")

    def _on_booted(self, _event: FullyBooted) -> None:
        task = asyncio.ensure_future(self.restore())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def restore(self) -> None:
        """Add back every remembered member Asterisk does not have."""
        try:
            remembered = of_node(await self.store.all(), self.node)
            if not remembered:
                return
            status = await self.ami.action("QueueStatus", as_list=True)
        except (RedisError, OSError, AmiError) as e:
            ami_log.warning("queue members not restored", extra=fields(error=str(e)))
            return
        for m in missing(remembered, status):
            try:
                await self.ami.action(
                    "QueueAdd",
                    Queue=m.queue,
                    Interface=m.interface,
                    Penalty=str(m.penalty),
                    MemberName=m.name or m.interface,
                )
            except AmiError as e:
                ami_log.info(
                    "queue member not restored",
                    extra=fields(queue=m.queue, member=m.interface, error=str(e)),
                )
                continue
            self.restored += 1
            ami_log.info("queue member restored", extra=fields(queue=m.queue, member=m.interface))
