"""The callback offer dialogue with a scripted caller and a real Redis store."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.calls.offer import CallbackOffer, opening_prompts
from ivr.lineup.view import WaitView
from ivr.menus.hours import BusinessHours, Window
from ivr.store.callbacks import CallbackStore, CreateResult
from tests.scripted import ScriptedCall

pytestmark = pytest.mark.redis

BKK = ZoneInfo("Asia/Bangkok")


VIEW = WaitView(place=3, estimate_s=400.0, position=2, ringing=False)


def offer(
    store: CallbackStore, hours: BusinessHours | None = None, now: float | None = None
) -> CallbackOffer:
    clock = (lambda: now) if now is not None else time.time
    return CallbackOffer(store, lambda q: hours, clock=clock)


async def test_caller_id_read_back_confirmed_and_booked(redis_clean: Redis) -> None:
    store = CallbackStore(redis_clean)
    call = ScriptedCall("0812345678", {"callback-offer": ["1"], "callback-confirm": ["1"]})
    assert await offer(store)(call, "complaint", 1000.0, VIEW)
    i = call.played.index("callback-number")
    assert call.played[i + 1 : i + 11] == [f"num-{d}" for d in "0812345678"]
    # PDPA before the booking is confirmed; when to expect the call; goodbye
    assert call.played.index("callback-pdpa") < call.played.index("callback-accepted")
    j = call.played.index("callback-expect-within")
    assert call.played[j + 1 : j + 3] == ["num-10", "queue-minutes"]  # 400 s -> about 10 min
    assert call.played[-1] == "goodbye"
    [req] = await store.pending("complaint")
    assert (req.number, req.arrived_at, req.topic) == ("0812345678", 1000.0, "complaint")
    assert req.status is CallbackStatus.PENDING


async def test_declining_the_offer_books_nothing(redis_clean: Redis) -> None:
    store = CallbackStore(redis_clean)
    call = ScriptedCall("0812345678", {})
    assert not await offer(store)(call, "complaint", 1000.0, VIEW)
    assert await store.pending("complaint") == []


async def test_another_number_is_keyed_and_validated(redis_clean: Redis) -> None:
    store = CallbackStore(redis_clean)
    call = ScriptedCall(
        "1111",  # not a number to call back: ask for one
        {
            "callback-offer": ["1"],
            "callback-enter-number": ["191", "021234567"],  # a short code is refused
            "callback-confirm": ["1"],
        },
    )
    assert await offer(store)(call, "complaint", 1000.0, VIEW)
    assert "callback-invalid-number" in call.played
    [req] = await store.pending("complaint")
    assert req.number == "021234567"


async def test_a_number_already_booked_is_told_so(redis_clean: Redis) -> None:
    store = CallbackStore(redis_clean)
    script = {"callback-offer": ["1"], "callback-confirm": ["1"]}
    assert await offer(store)(ScriptedCall("0812345678", dict(script)), "complaint", 1.0, VIEW)
    again = ScriptedCall("0812345678", {"callback-offer": ["1"], "callback-confirm": ["1"]})
    assert not await offer(store)(again, "complaint", 2.0, VIEW)
    assert "callback-already" in again.played and "callback-accepted" not in again.played
    assert len(await store.pending("complaint")) == 1


async def test_after_closing_the_citizen_hears_the_next_opening(redis_clean: Redis) -> None:
    store = CallbackStore(redis_clean)
    weekdays = ((Window.parse("08:30-16:30"),),) * 5 + ((), ())
    hours = BusinessHours(weekly=weekdays, holidays="none")
    friday_late = datetime(2026, 11, 27, 16, 25, tzinfo=BKK).timestamp()  # 5 min to closing
    call = ScriptedCall("0812345678", {"callback-offer": ["1"], "callback-confirm": ["1"]})
    assert await offer(store, hours, friday_late)(call, "complaint", friday_late, VIEW)
    k = call.played.index("callback-next-opening")
    monday = datetime(2026, 11, 30, 8, 30, tzinfo=BKK)
    assert call.played[k + 1 : k + 1 + len(opening_prompts(monday))] == opening_prompts(monday)
    # วันจันทร์ ที่ สามสิบ เวลา แปด นาฬิกา สามสิบ นาที
    assert opening_prompts(monday) == [
        "day-mon", "date-the", "num-3", "num-10", "time-at",
        "num-8", "time-oclock", "num-3", "num-10", "time-minutes",
    ]  # fmt: skip
    [req] = await store.pending("complaint")
    assert req.next_attempt_at == monday.timestamp()  # never dialled while closed


class UnavailableStore(CallbackStore):
    async def create(self, req: CallbackRequest) -> CreateResult:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


async def test_a_request_that_cannot_be_stored_is_never_said_to_be_booked(
    redis_clean: Redis,
) -> None:
    store = UnavailableStore(redis_clean)
    call = ScriptedCall("0812345678", {"callback-offer": ["1"], "callback-confirm": ["1"]})
    assert not await offer(store)(call, "complaint", 1000.0, VIEW)
    assert "callback-accepted" not in call.played and "goodbye" not in call.played
    assert call.played[-1] == "callback-not-booked"  # "you keep your place in line"
