"""What the proofs of two application instances share (README "Two application
instances (FastAGI fail-over)"): the SRV records of ``hagi://`` (the ``resolver``
fixture), instance B's settings beside instance A on the same Redis, the globals a
proof sets on a node (put back after), the leases and who holds them, and the
callbacks a proof books and finds connected, each dialled once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient, AmiError
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.config import Settings
from ivr.sandbox import dns
from ivr.sandbox.pbx import Sandbox
from ivr.store import keys
from ivr.store.callbacks import CallbackStore
from tests.failover.agi_watch import Watch, get_json
from tests.failover.killable import free_port

REDIS_DB = 11  # the two instances' own database
LEASES = ("callbacks", "queue-events", "history")
CALLBACKS = 6
# what both instances change from the sandbox's settings (B as Settings, A as IVR_ vars)
SHARED: dict[str, Any] = {
    "callback_dial_template": "Local/{number}@sim-citizen",
    "callback_max_offers": 0,  # callers only wait; the callbacks are booked by the test
    "no_agent": "wait",
    "max_wait_s": 0.0,
    "shutdown_grace_s": 5.0,
}


def instance_b(base_settings: Settings, tmp_path: Path) -> Settings:
    """Instance B's settings: the sandbox's, :data:`SHARED`, database :data:`REDIS_DB`
    and the FastAGI port after A's (the second SRV record)."""
    return replace(
        base_settings,
        **SHARED,
        redis_url=base_settings.redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}",
        agi_port=base_settings.agi_port + 1,
        http_port=free_port(),
        run_dir=tmp_path / "run-b",
        instance_id="ivr-b",
    )


def instance_a(settings: Settings) -> dict[str, Any]:
    """What instance A (``ivr serve``, :func:`tests.failover.killable.serve`) changes
    from B's settings file: :data:`SHARED`, the first SRV record's port, its name."""
    return {**SHARED, "agi_port": settings.agi_port - 1, "instance_id": "ivr-a"}


@pytest.fixture
def resolver(sandbox: Sandbox) -> Iterator[None]:
    """The SRV records of hagi:// served to the sandbox's Asterisk (put back after)."""
    s = sandbox.s
    dns.start(sandbox.root, dns.sandbox_targets(s.agi_host, s.agi_port))
    try:
        yield
    finally:
        dns.stop(sandbox.root)


@contextlib.asynccontextmanager
async def node_globals(ami: AmiClient, values: Mapping[str, str]) -> AsyncIterator[None]:
    """The dialplan globals ``values`` on one node while the block runs (each put back
    after, unless the node is gone by then)."""
    before = {}
    for name, value in values.items():
        reply = await ami.action("Getvar", Variable=name, as_list=False)
        before[name] = reply.get("Value", "") if isinstance(reply, dict) else ""
        await ami.action("Setvar", Variable=name, Value=value)
    try:
        yield
    finally:
        with contextlib.suppress(AmiError):
            for name, value in before.items():
                await ami.action("Setvar", Variable=name, Value=value)


async def holders(redis: Redis, leases: Sequence[str] = LEASES) -> dict[str, str]:
    """Each lease's holder now ("" for none)."""
    values = await redis.mget([keys.lease(name) for name in leases])
    text = [v.decode() if isinstance(v, bytes) else (v or "") for v in values]
    return dict(zip(leases, text, strict=True))


async def led_by(redis: Redis, instance: str, leases: Sequence[str] = LEASES) -> bool:
    return all(v == instance for v in (await holders(redis, leases)).values())


async def takeovers(
    redis: Redis, killed: float, leases: Sequence[str] = LEASES, instance: str = "ivr-b"
) -> dict[str, float]:
    """Seconds from the kill until ``instance`` held each lease."""
    taken: dict[str, float] = {}
    while len(taken) < len(leases):
        for name, holder in (await holders(redis, leases)).items():
            if holder == instance and name not in taken:
                taken[name] = time.time() - killed
        await asyncio.sleep(0.05)  # a poll's pace, not a wait for something
    return taken


async def healthy(base: str) -> bool:
    """The instance at ``base`` answers ``/healthz`` with its AMI connected."""
    with contextlib.suppress(OSError):
        status, body = await get_json(base, "/healthz")
        return status == 200 and bool(body and body["ami_connected"])
    return False


async def book_callbacks(redis: Redis, queue: str = "complaint", slow: int = 3) -> list[str]:
    """:data:`CALLBACKS` pending callbacks of ``queue`` (ids ``fo0``...); their numbers."""
    store, now, numbers = CallbackStore(redis), time.time(), []
    for n in range(CALLBACKS):
        # the first ``slow`` (by default one per agent) press 1 after 12 s (last digit 7),
        # the others after 2 s
        number = f"087000{n:03d}{7 if n < slow else n % 7}"
        await store.create(CallbackRequest(
            id=f"fo{n}", queue=queue, hotline="1111", number=number,
            arrived_at=now - 300 + n, requested_at=now - 200 + n,
        ))  # fmt: skip
        numbers.append(number)
    return numbers


async def all_connected(redis: Redis) -> list[CallbackRequest]:
    """Every booked callback once all are connected (else none)."""
    reqs = [await CallbackStore(redis).get(f"fo{n}") for n in range(CALLBACKS)]
    done = [r for r in reqs if r is not None and r.status is CallbackStatus.CONNECTED]
    return done if len(done) == CALLBACKS else []


async def hang_up_all(ami: AmiClient, watch: Watch) -> None:
    """Hang up every citizen's call still up (the end of a proof)."""
    for c in watch.citizens.values():
        if c.ended is None:
            with contextlib.suppress(Exception):
                await ami.action("Hangup", Channel=c.channel)
