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

    async def acknowledged() -> bool:
        # after a diskless sync the primary streams writes to the replica only once it
        # has the replica's first REPLCONF ACK (sent once a second): until then a WAIT
        # after a write times out; so a write of this client must be acknowledged first
        if not await in_sync():
            return False
        await primary.set("ivr:test:replication", "ready")
        return bool(await primary.wait(1, 100) == 1)

    await until(acknowledged, 20, "the replica in sync with the primary, acknowledging")
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


async def test_a_citizens_1_lost_in_a_switch_is_written_again_never_dialled_again(
    nodes: tuple[Redis, Redis],
) -> None:
    """The 1 is acknowledged by the primary alone, which then "dies": it is written
    again on the promoted replica, so the claim's end there closes the request as
    connected instead of putting it back in line to be dialled again."""
    primary, replica = nodes
    rep = Replication(primary)
    store = CallbackStore(primary, replication=rep)
    await store.create(booking("heard", "0812345673"))
    now = time.time()
    assert await store.claim("heard", "one", now + 60) is not None  # a replica has it
    await detach(replica)
    accepted = await store.accept("heard", "one", now + 30, attempt=1)
    assert accepted is not None and accepted.accepted_at > 0
    assert [c.kind for c in rep.pending] == ["accept"]
    assert float(await replica.hget("ivr:callback:heard", "accepted_at") or 0) == 0
    rep.redis = replica  # the fail-over
    await store.settle()
    assert float(await replica.hget("ivr:callback:heard", "accepted_at") or 0) > 0
    survivor = CallbackStore(replica)
    assert await survivor.reclaim_expired(now + 31) == ["heard"]
    done = await survivor.get("heard")
    assert done is not None and (done.status, done.attempts) == (CallbackStatus.CONNECTED, 1)
    assert await survivor.claim("heard", "two", now + 200, now=now + 32) is None
