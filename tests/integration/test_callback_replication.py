"""Callback changes wait for a replica (ivr.store.replication), on a real primary and
replica of its own (two redis-server processes on free loopback ports, no sentinel):
confirmed at once while the replica keeps up, kept and written again when it did not,
and a booking whose reply was lost cancelled, as the caller was told it failed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.store.callbacks import CallbackStore
from ivr.store.replication import SHORT_WAIT_MS, WAIT_MS, Replication
from tests.until import until

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A primary and its replica (ports), both without persistence."""
    ports = (_free_port(), _free_port())
    procs = []
    for port in ports:
        d = tmp_path / str(port)
        d.mkdir()
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(d),
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--repl-diskless-sync-delay", "0"]  # fmt: skip
        if port == ports[1]:
            args += ["--replicaof", "127.0.0.1", str(ports[0])]
        procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL))
    try:
        yield ports
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


@pytest.fixture
async def nodes(pair: tuple[int, int]) -> AsyncIterator[tuple[Redis, Redis]]:
    primary, replica = (Redis(port=p, retry=Retry(NoBackoff(), 0)) for p in pair)

    async def in_sync() -> bool:
        try:
            info = await replica.info("replication")
        except (RedisError, OSError):
            return False
        return info.get("master_link_status") == "up"

    await until(in_sync, 20, "the replica in sync with the primary")
    try:
        yield primary, replica
    finally:
        await primary.aclose()
        await replica.aclose()


def booking(rid: str, number: str) -> CallbackRequest:
    now = time.time()
    return CallbackRequest(
        id=rid, queue="complaint", hotline="1111", number=number,
        arrived_at=now - 60, requested_at=now,
    )  # fmt: skip


async def detach(replica: Redis) -> None:
    await replica.replicaof("NO", "ONE")


async def test_changes_are_confirmed_at_once_while_the_replica_keeps_up(
    nodes: tuple[Redis, Redis],
) -> None:
    primary, replica = nodes
    rep = Replication(primary)
    store = CallbackStore(primary, replication=rep)
    assert (await store.create(booking("r1", "0812345670"))).created
    claimed = await store.claim("r1", "one", time.time() + 60)
    assert claimed is not None and claimed.status is CallbackStatus.DIALING
    await store.mark_connected("r1")
    assert (rep.confirmed, rep.unconfirmed, len(rep.pending)) == (3, 0, 0)
    # the replica holds every change (WAIT returned only once it had them)
    assert await replica.hget("ivr:callback:r1", "status") == b"connected"


async def test_a_change_no_replica_confirmed_is_written_again_after_a_switch(
    nodes: tuple[Redis, Redis],
) -> None:
    """The booking is acknowledged by the primary alone, which then "dies": the
    replica promoted in its place never had it, and it is written there again."""
    primary, replica = nodes
    await detach(replica)  # the replica falls behind: the primary alone has what follows
    rep = Replication(primary)
    store = CallbackStore(primary, replication=rep)
    started = time.monotonic()
    assert (await store.create(booking("lost", "0812345671"))).created  # still booked
    assert time.monotonic() - started >= WAIT_MS / 1000 * 0.9  # it waited for a replica
    assert (rep.unconfirmed, len(rep.pending), rep.wait_ms) == (1, 1, SHORT_WAIT_MS)
    assert await replica.exists("ivr:callback:lost") == 0
    # the fail-over: the client now reaches the promoted replica
    rep.redis = replica
    await store.settle()  # no replica of the new primary yet: kept
    assert len(rep.pending) == 1
    assert await replica.hget("ivr:callback:lost", "status") == b"pending"  # written again
    await primary.replicaof("127.0.0.1", replica.connection_pool.connection_kwargs["port"])

    async def settled() -> bool:
        await store.settle()
        return not rep.pending

    await until(settled, 20, "the change confirmed by the old primary, now a replica")
    assert rep.reapplied == 1
    assert await primary.hget("ivr:callback:lost", "number") == b"0812345671"


async def test_a_booking_whose_reply_was_lost_is_cancelled(
    nodes: tuple[Redis, Redis], pair: tuple[int, int]
) -> None:
    """The reply never came (here: the wait outlasts the client's socket timeout), so
    the caller hears "not booked"; the booking the primary did store is cancelled."""
    primary, replica = nodes
    await detach(replica)
    impatient = Redis(port=pair[0], socket_timeout=0.2, retry=Retry(NoBackoff(), 0))
    rep = Replication(impatient)
    store = CallbackStore(impatient, replication=rep)
    try:
        with pytest.raises(RedisError):
            await store.create(booking("unsure", "0812345672"))
        assert [c.kind for c in rep.pending] == ["undo-create"]
        assert await primary.hget("ivr:callback:unsure", "status") == b"pending"
        assert await store.settle() == 1
    finally:
        await impatient.aclose()
    assert await primary.hget("ivr:callback:unsure", "status") == b"cancelled"
    assert await primary.exists("ivr:callback:number:0812345672") == 0
