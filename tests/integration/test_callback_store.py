"""Callback requests in a real Redis: booking, claims between instances, retries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.phones import national_number
from ivr.store import keys
from ivr.store.callbacks import CallbackStore

pytestmark = pytest.mark.redis

T0 = time.time() - 3600  # arrivals an hour ago, well inside the listing retention


def req(rid: str, number: str = "0812345678", arrived: float = T0, **kw: object) -> CallbackRequest:
    base: dict[str, object] = {
        "id": rid,
        "queue": "complaint",
        "hotline": "1111",
        "number": number,
        "arrived_at": arrived,
        "requested_at": arrived + 60,
    }
    return CallbackRequest(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture
def store(redis_clean: Redis) -> CallbackStore:
    return CallbackStore(redis_clean)


@pytest.fixture
async def other_store(redis_clean: Redis) -> AsyncIterator[CallbackStore]:
    """A second instance with its own connection to the same database."""
    kw = redis_clean.connection_pool.connection_kwargs
    r = Redis(host=kw["host"], port=kw["port"], db=kw["db"])
    try:
        yield CallbackStore(r)
    finally:
        await r.aclose()


def test_national_number() -> None:
    assert national_number("+66 81 234 5678") == "0812345678"
    assert national_number("66812345678") == "0812345678"
    assert national_number("081-234-5678") == "0812345678"
    assert national_number("+6621234567") == "021234567"
    with pytest.raises(ValueError):
        national_number("anonymous")


async def test_create_then_get(store: CallbackStore, redis_clean: Redis) -> None:
    res = await store.create(req("a1", number="+66812345678", topic="complaint"))
    assert res.created and not res.already_booked
    got = await store.get("a1")
    assert got is not None
    assert got.number == "0812345678"
    assert got.status is CallbackStatus.PENDING
    assert got.arrived_at == T0 and got.requested_at == T0 + 60
    assert got.topic == "complaint"
    assert [h["event"] for h in got.history] == ["requested"]
    assert got == res.request
    assert await redis_clean.get(keys.CALLBACK_BY_NUMBER.format(number="0812345678")) == b"a1"
    assert await store.get("nope") is None


async def test_float_fields_keep_full_precision(store: CallbackStore) -> None:
    t = 1795626674.123456
    await store.create(req("p1", arrived=t, next_attempt_at=t + 0.000001))
    got = await store.get("p1")
    assert got is not None
    assert got.arrived_at == t and got.next_attempt_at == t + 0.000001


async def test_second_booking_for_a_number_is_refused(store: CallbackStore) -> None:
    first = await store.create(req("a1", number="0812345678"))
    again = await store.create(req("a2", number="+66 81 234 5678", arrived=T0 + 20))
    assert first.created
    assert again.already_booked
    assert again.request.id == "a1"
    assert await store.get("a2") is None
    assert [r.id for r in await store.pending("complaint")] == ["a1"]


async def test_concurrent_bookings_give_one_request(
    store: CallbackStore, other_store: CallbackStore
) -> None:
    results = await asyncio.gather(
        *(
            (store if i % 2 else other_store).create(req(f"c{i}", number="0899999999"))
            for i in range(10)
        )
    )
    assert sum(r.created for r in results) == 1
    assert len({r.request.id for r in results}) == 1
    assert len(await store.pending("complaint")) == 1


async def test_number_may_book_again_once_finished(store: CallbackStore) -> None:
    await store.create(req("a1"))
    assert await store.cancel("a1", by="supervisor-1") is not None
    again = await store.create(req("a2"))
    assert again.created


async def test_pending_ordered_by_arrival_and_listing_by_request(store: CallbackStore) -> None:
    await store.create(req("late", number="0811111111", arrived=T0 + 30, requested_at=T0 + 100))
    await store.create(req("early", number="0822222222", arrived=T0 + 10, requested_at=T0 + 200))
    await store.create(req("mid", number="0833333333", arrived=T0 + 20, requested_at=T0 + 300))
    await store.create(
        req("elsewhere", number="0844444444", queue="operator", requested_at=T0 + 400)
    )
    assert [r.id for r in await store.pending("complaint")] == ["early", "mid", "late"]
    assert [r.id for r in await store.pending("operator")] == ["elsewhere"]
    assert [r.id for r in await store.list_recent(None, 10)] == [
        "elsewhere",
        "mid",
        "early",
        "late",
    ]
    assert [r.id for r in await store.list_recent("complaint", 2)] == ["mid", "early"]
    assert await store.list_recent(None, 0) == []


async def test_two_instances_claim_at_once_one_wins(
    store: CallbackStore, other_store: CallbackStore
) -> None:
    await store.create(req("a1"))
    until = time.time() + 60
    a, b = await asyncio.gather(
        store.claim("a1", "instance-a", until), other_store.claim("a1", "instance-b", until)
    )
    winners = [r for r in (a, b) if r is not None]
    assert len(winners) == 1
    won = winners[0]
    assert won.status is CallbackStatus.DIALING
    assert won.attempts == 1
    assert won.dialing_by in ("instance-a", "instance-b")
    assert won.dialing_until == until
    assert [h["event"] for h in won.history] == ["requested", "claimed"]
    # still in line (a DIALING request keeps its place)
    assert [r.id for r in await store.pending("complaint")] == ["a1"]


async def test_many_claims_race(store: CallbackStore, other_store: CallbackStore) -> None:
    await store.create(req("a1"))
    until = time.time() + 60
    got = await asyncio.gather(
        *((store, other_store)[i % 2].claim("a1", f"i{i}", until) for i in range(20))
    )
    assert sum(r is not None for r in got) == 1
    final = await store.get("a1")
    assert final is not None and final.attempts == 1


async def test_claim_waits_for_next_attempt(store: CallbackStore) -> None:
    now = time.time()
    await store.create(req("a1", next_attempt_at=now + 120))
    assert await store.claim("a1", "i1", now + 60, now=now) is None
    assert await store.claim("a1", "i1", now + 200, now=now + 130) is not None
    assert await store.claim("unknown", "i1", now + 60) is None


async def test_release_retries_then_fails_at_max_attempts(store: CallbackStore) -> None:
    now = time.time()
    await store.create(req("a1"))
    assert await store.claim("a1", "i1", now + 60, now=now) is not None
    # only the holder may release
    assert await store.release("a1", "i2", "no-answer", now + 300, 2) is None
    r = await store.release("a1", "i1", "no-answer", now + 300, 2, now=now + 30)
    assert r is not None
    assert r.status is CallbackStatus.PENDING
    assert r.next_attempt_at == now + 300
    assert r.last_result == "no-answer"
    assert r.dialing_by == "" and r.dialing_until == 0.0
    assert await store.claim("a1", "i1", now + 400, now=now + 100) is None  # not due yet
    assert await store.claim("a1", "i2", now + 400, now=now + 300) is not None
    r = await store.release("a1", "i2", "busy", now + 600, 2, now=now + 330)
    assert r is not None
    assert r.status is CallbackStatus.FAILED
    assert r.attempts == 2
    assert r.last_result == "busy"
    assert [h["event"] for h in r.history] == ["requested", "claimed", "retry", "claimed", "failed"]
    assert await store.pending("complaint") == []
    assert [x.id for x in await store.list_recent("complaint", 10)] == ["a1"]
    # a finished request expires after the retention and frees the number
    assert 0 < await store.redis.ttl(keys.CALLBACK.format(id="a1")) <= store.retention_s
    assert await store.redis.ttl(keys.CALLBACK_HISTORY.format(id="a1")) > 0
    assert (await store.create(req("a2"))).created


async def test_release_without_retry_fails(store: CallbackStore) -> None:
    await store.create(req("a1"))
    assert await store.claim("a1", "i1", time.time() + 60) is not None
    r = await store.release("a1", "i1", "invalid-number", None, 5)
    assert r is not None and r.status is CallbackStatus.FAILED


async def test_connected_and_cancelled_are_final(store: CallbackStore) -> None:
    await store.create(req("a1", number="0811111111"))
    await store.create(req("a2", number="0822222222"))
    assert await store.claim("a1", "i1", time.time() + 60) is not None
    done = await store.mark_connected("a1", by="i1")
    assert done is not None and done.status is CallbackStatus.CONNECTED
    assert done.last_result == "answered"
    cancelled = await store.cancel("a2", by="sup")
    assert cancelled is not None and cancelled.status is CallbackStatus.CANCELLED
    assert cancelled.history[-1]["by"] == "sup"
    assert await store.cancel("a1") is None
    assert await store.mark_connected("a2") is None
    assert await store.claim("a2", "i1", time.time() + 60) is None
    # the holder's late release does nothing to a finished request
    assert await store.release("a1", "i1", "no-answer", time.time(), 3) is None
    assert await store.pending("complaint") == []
    assert await store.redis.zcard(keys.CALLBACKS_DIALING) == 0


async def test_reclaim_expired_claims(store: CallbackStore) -> None:
    now = time.time()
    await store.create(req("dead", number="0811111111"))
    await store.create(req("alive", number="0822222222"))
    assert await store.claim("dead", "crashed", now + 10, now=now) is not None
    assert await store.claim("alive", "healthy", now + 100, now=now) is not None
    assert await store.reclaim_expired(now + 5) == []
    assert await store.reclaim_expired(now + 11) == ["dead"]
    r = await store.get("dead")
    assert r is not None
    assert r.status is CallbackStatus.PENDING
    assert r.last_result == "interrupted"
    assert r.attempts == 1  # the attempt was used; no success recorded
    assert r.dialing_by == ""
    assert r.history[-1]["event"] == "interrupted" and r.history[-1]["by"] == "crashed"
    # the crashed instance can no longer release it; another may claim it at once
    assert await store.release("dead", "crashed", "no-answer", now + 300, 3) is None
    again = await store.claim("dead", "healthy", now + 200, now=now + 12)
    assert again is not None and again.attempts == 2
    alive = await store.get("alive")
    assert alive is not None and alive.status is CallbackStatus.DIALING
    assert await store.reclaim_expired(now + 11) == []


async def test_a_claim_expiring_after_the_citizens_1_closes_it_connected(
    store: CallbackStore,
) -> None:
    """The instance that heard the 1 died during "connecting you" (no report): the
    dialplan queued the citizen, so the expired claim closes the request as connected,
    and it is never claimed (dialled) again."""
    now = time.time()
    await store.create(req("heard", number="0811111111"))
    assert await store.claim("heard", "dead", now + 120, now=now) is not None
    accepted = await store.accept("heard", "dead", now + 30, attempt=1, now=now + 5)
    assert accepted is not None and accepted.accepted_at == now + 5
    assert accepted.status is CallbackStatus.DIALING
    assert accepted.dialing_until == now + 30  # the claim now waits only for the report
    assert accepted.history[-1]["event"] == "accepted" and accepted.history[-1]["by"] == "dead"
    assert await store.redis.zscore(keys.CALLBACKS_DIALING, "heard") == now + 30
    # a late "not confirmed" never puts it back in line
    assert await store.release("heard", "dead", "no-confirm", now + 10, 3) is None
    assert await store.reclaim_expired(now + 29) == []
    assert await store.reclaim_expired(now + 30) == ["heard"]
    done = await store.get("heard")
    assert done is not None and done.status is CallbackStatus.CONNECTED
    assert (done.attempts, done.last_result, done.dialing_by) == (1, "answered", "")
    last = done.history[-1]
    assert (last["event"], last["by"], last["unreported"]) == ("connected", "dead", True)
    assert await store.claim("heard", "alive", now + 500, now=now + 400) is None
    assert await store.pending("complaint") == []
    assert await store.redis.zcard(keys.CALLBACKS_DIALING) == 0


async def test_the_citizens_1_then_the_report_as_usual(store: CallbackStore) -> None:
    now = time.time()
    await store.create(req("a1", number="0811111111"))
    await store.claim("a1", "i1", now + 120, now=now)
    assert await store.accept("a1", "i1", now + 30, attempt=1) is not None
    again = await store.accept("a1", "i2", now + 60, attempt=1)  # run again: nothing changes
    assert again is not None and again.dialing_until == now + 30
    assert [h["event"] for h in again.history].count("accepted") == 1
    done = await store.mark_connected("a1", by="i1")
    assert done is not None and done.status is CallbackStatus.CONNECTED
    assert "unreported" not in done.history[-1]
    assert await store.accept("a1", "i1", now + 30) is None  # finished


async def test_the_1_never_shortens_nor_marks_another_attempt(store: CallbackStore) -> None:
    now = time.time()
    await store.create(req("a1", number="0811111111"))
    await store.claim("a1", "i1", now + 20, now=now)
    assert await store.accept("a1", "i1", now + 30, attempt=2) is None  # not this attempt
    accepted = await store.accept("a1", "i1", now + 30, attempt=1)
    assert accepted is not None and accepted.dialing_until == now + 20  # never lengthened


async def test_the_1_after_the_claim_expired_takes_it_back(store: CallbackStore) -> None:
    """The claim expired while the citizen listened (back to PENDING, not dialled yet):
    the 1 takes it back, never to be dialled again."""
    now = time.time()
    await store.create(req("a1", number="0811111111"))
    await store.claim("a1", "i1", now + 10, now=now)
    assert await store.reclaim_expired(now + 11) == ["a1"]
    accepted = await store.accept("a1", "i2", now + 40, attempt=1)
    assert accepted is not None and accepted.status is CallbackStatus.DIALING
    assert (accepted.dialing_by, accepted.attempts) == ("i2", 1)
    assert await store.claim("a1", "i3", now + 500, now=now + 12) is None


async def test_expired_requests_leave_the_listing(store: CallbackStore) -> None:
    await store.create(req("a1"))
    await store.cancel("a1")
    await store.redis.delete(keys.CALLBACK.format(id="a1"))  # as if the retention passed
    assert await store.list_recent(None, 10) == []
    assert await store.redis.zcard(keys.CALLBACKS_BY_TIME) == 0


async def test_supervisor_transitions_are_told_to_the_live_stream(redis_clean: Redis) -> None:
    """A cancel or a retry by a supervisor reaches ``on_change`` (the live stream), once,
    and a refused one (nothing changed) does not."""
    told: list[CallbackStatus] = []

    async def on_change(r: CallbackRequest) -> None:
        told.append(r.status)

    store = CallbackStore(redis_clean, on_change=on_change)
    await store.create(req("sup1"))
    assert told == [CallbackStatus.PENDING]
    done = await store.cancel_pending("sup1", by="tok1")
    assert done is not None and done.done
    assert told == [CallbackStatus.PENDING, CallbackStatus.CANCELLED]
    refused = await store.cancel_pending("sup1", by="tok1")  # already cancelled
    assert refused is not None and not refused.done
    assert told == [CallbackStatus.PENDING, CallbackStatus.CANCELLED]
