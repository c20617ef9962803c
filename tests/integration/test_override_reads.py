"""A call's read of the overrides on a real Redis: what the server last read is reused
only while Redis says it holds, so any change applies to the very next call, whoever
made it and however (another instance's API, a key deleted, Redis emptied)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ivr.menus.overrides import NO_OVERRIDES
from ivr.store import keys
from ivr.store.overrides import OverrideStore

pytestmark = pytest.mark.redis

BY = "token:test"


async def test_an_unchanged_state_is_reused_and_any_change_read(redis_clean: Redis) -> None:
    store = OverrideStore(redis_clean)
    first = await store.for_call("1111")
    assert first == NO_OVERRIDES
    assert await store.for_call("1111") is first  # Redis said nothing changed

    await store.set_mode("1111", "closed", BY, 1.0)
    closed = await store.for_call("1111")
    assert closed.hotline.mode == "closed" and closed.hotline.mode_by == BY
    assert await store.for_call("1111") is closed

    await store.set_queue_mode("complaint", "closed")
    assert (await store.for_call("1111")).queue_closed("complaint")
    await store.set_emergency("1111", "emergency-flood", BY, 2.0)
    assert (await store.for_call("1111")).hotline.emergency == "emergency-flood"


async def test_a_change_by_another_instance_applies_to_the_next_call(
    redis_clean: Redis,
) -> None:
    serving, other = OverrideStore(redis_clean), OverrideStore(redis_clean)
    assert (await serving.for_call("1111")).hotline.mode == "none"
    await other.set_mode("1111", "closed", BY, 1.0)
    assert (await serving.for_call("1111")).hotline.mode == "closed"
    await other.set_mode("1111", "none", BY, 2.0)
    assert (await serving.for_call("1111")).hotline.mode == "none"


async def test_keys_changed_straight_in_redis_are_seen(redis_clean: Redis) -> None:
    store = OverrideStore(redis_clean)
    await store.set_mode("1111", "closed", BY, 1.0)
    await store.set_queue_mode("complaint", "closed")
    assert (await store.for_call("1111")).hotline.mode == "closed"
    await redis_clean.delete(keys.hotline_override("1111"))
    got = await store.for_call("1111")
    assert got.hotline.mode == "none" and got.queue_closed("complaint")
    await redis_clean.hset(keys.QUEUE_OVERRIDES, "complaint", "open")
    assert not (await store.for_call("1111")).queue_closed("complaint")
    await redis_clean.hset(keys.QUEUE_OVERRIDES, "complaint", "closed")
    await redis_clean.flushdb()  # Redis emptied: nothing in force
    assert await store.for_call("1111") == NO_OVERRIDES


async def test_each_hotline_has_its_own(redis_clean: Redis) -> None:
    store = OverrideStore(redis_clean)
    await store.set_mode("1555", "open", BY, 1.0)
    assert (await store.for_call("1111")).hotline.mode == "none"
    assert (await store.for_call("1555")).hotline.mode == "open"
    assert (await store.for_call("1111")).hotline.mode == "none"


async def test_a_script_forgotten_by_redis_is_loaded_again(redis_clean: Redis) -> None:
    store = OverrideStore(redis_clean)
    await store.set_mode("1111", "closed", BY, 1.0)
    assert (await store.for_call("1111")).hotline.mode == "closed"
    await redis_clean.script_flush()  # as after a restart of Redis
    assert (await store.for_call("1111")).hotline.mode == "closed"
