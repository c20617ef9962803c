"""A call's read of the overrides on a real Redis. While the store listens to the
changes, what a call read is kept for the next calls; every change through a store
(this one, or another instance's) is heard and forgotten, so the next call reads it.
Not listening (not started, or the connection lost), every call reads Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ivr.log import store_log
from ivr.menus.overrides import NO_OVERRIDES
from ivr.store import keys
from ivr.store.overrides import OverrideStore
from ivr.tasks import cancel_and_wait
from tests.until import until

pytestmark = pytest.mark.redis

BY = "token:test"


@pytest.fixture
async def watched(redis_clean: Redis) -> AsyncIterator[OverrideStore]:
    """A store listening to the changes, as the server's."""
    store = OverrideStore(redis_clean)
    task = asyncio.create_task(store.watch_forever())
    try:
        await until(lambda: store.watching, within=10, what="the store listening")
        yield store
    finally:
        await cancel_and_wait([task], log=store_log, what="overrides watch")


async def test_what_a_call_read_is_kept_until_a_change(
    watched: OverrideStore, redis_clean: Redis
) -> None:
    first = await watched.for_call("1111")
    assert first == NO_OVERRIDES
    await redis_clean.hset(keys.hotline_override("1111"), "mode", "closed")  # not announced
    assert await watched.for_call("1111") is first  # kept: Redis not asked

    await watched.set_mode("1111", "closed", BY, 1.0)  # through the store: at once
    closed = await watched.for_call("1111")
    assert closed.hotline.mode == "closed" and closed.hotline.mode_by == BY
    assert await watched.for_call("1111") is closed
    await watched.set_queue_mode("complaint", "closed")
    assert (await watched.for_call("1111")).queue_closed("complaint")
    await watched.set_emergency("1111", "emergency-flood", BY, 2.0)
    assert (await watched.for_call("1111")).hotline.emergency == "emergency-flood"


async def test_a_change_by_another_instance_is_heard(
    watched: OverrideStore, redis_clean: Redis
) -> None:
    other = OverrideStore(redis_clean)
    assert (await watched.for_call("1111")).hotline.mode == "none"
    await other.set_mode("1111", "closed", BY, 1.0)

    async def closed() -> bool:
        return (await watched.for_call("1111")).hotline.mode == "closed"

    await until(closed, within=5, what="the change heard")
    assert not (await watched.for_call("1555")).queue_closed("complaint")  # kept too
    await other.set_queue_mode("complaint", "closed")

    async def queue_closed() -> bool:
        return (await watched.for_call("1555")).queue_closed("complaint")

    await until(queue_closed, within=5, what="the queue's change heard")


async def test_not_listening_every_call_reads_redis(redis_clean: Redis) -> None:
    store = OverrideStore(redis_clean)
    assert (await store.for_call("1111")).hotline.mode == "none"
    await redis_clean.hset(keys.hotline_override("1111"), "mode", "closed")
    assert (await store.for_call("1111")).hotline.mode == "closed"


async def test_a_lost_connection_forgets_and_listens_again(
    watched: OverrideStore, redis_clean: Redis
) -> None:
    await watched.set_mode("1111", "closed", BY, 1.0)
    assert (await watched.for_call("1111")).hotline.mode == "closed"
    assert watched._known  # kept
    await redis_clean.hset(keys.hotline_override("1111"), "mode", "open")  # not announced
    await redis_clean.client_kill_filter(_type="pubsub")
    # listening again, and what was kept before is forgotten: the next call reads Redis
    await until(lambda: not watched._known, within=10, what="what was kept forgotten")
    await until(lambda: watched.watching, within=10, what="listening again")
    assert (await watched.for_call("1111")).hotline.mode == "open"
