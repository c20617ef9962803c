"""The callback offer made to a waiting caller (from the ``queue-wait`` route).

The offer: "กดหนึ่ง เพื่อให้เจ้าหน้าที่โทรกลับ โดยไม่เสียลำดับคิว";
on 1 the caller's number is read back digit by digit (when the caller ID is a valid
Thai number), 1 confirms and 2 keys another (validated: Thai fixed-line or mobile);
a short PDPA sentence; the request is stored in Redis **before** the caller hears
the confirmation of when to expect the call (in about N minutes, the next
opening, or, when nobody is staffed, "as soon as an officer is available");
goodbye. A number with a callback already pending is told so and is not booked twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from redis.exceptions import RedisError

from ivr.agi.types import Call
from ivr.callbacks.model import CallbackRequest
from ivr.callbacks.policy import next_open_at
from ivr.lineup.view import WaitView
from ivr.log import call_log, fields
from ivr.menus.hours import BusinessHours
from ivr.phones import thai_number
from ivr.privacy import mask_phone
from ivr.queues.estimate import round_minutes
from ivr.speech.sounds import sound
from ivr.speech.thai_numbers import number_prompts, phone_prompts
from ivr.store.callbacks import CallbackStore

__all__ = [
    "CONFIRM_TIMEOUT_MS",
    "DAY_PROMPTS",
    "ENTRY_TIMEOUT_MS",
    "ENTRY_TRIES",
    "CallbackOffer",
    "opening_prompts",
]

DAY_PROMPTS = ("day-mon", "day-tue", "day-wed", "day-thu", "day-fri", "day-sat", "day-sun")
#: How long the caller has to press 1 (or 2) after a question.
CONFIRM_TIMEOUT_MS = 5000
#: How long the caller has to key another number, and how many tries they get.
ENTRY_TIMEOUT_MS = 6000
ENTRY_TRIES = 2


def opening_prompts(when: datetime) -> list[str]:
    """ "วันจันทร์ ที่ 30 เวลา 8 นาฬิกา 30 นาที" as prompts (local time of ``when``)."""
    out = [DAY_PROMPTS[when.weekday()], "date-the", *number_prompts(when.day), "time-at"]
    out += [*number_prompts(when.hour), "time-oclock"]
    if when.minute:
        out += [*number_prompts(when.minute), "time-minutes"]
    return out


HoursFor = Callable[[str], BusinessHours | None]


class CallbackOffer:
    """Runs the offer dialogue; returns True when a callback was booked."""

    def __init__(
        self,
        store: CallbackStore,
        hours_for_queue: HoursFor,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.hours_for_queue = hours_for_queue
        self.clock = clock

    async def __call__(self, call: Call, queue: str, arrived: float, view: WaitView) -> bool:
        uid = call.info.uniqueid
        digit = await call.play(sound("callback-offer"), "1")
        if digit is None:
            digit = await call.wait_digit(CONFIRM_TIMEOUT_MS)
        if digit != "1":
            return False
        number = await self._number(call)
        if number is None:
            await call.play(sound("callback-not-booked"))
            return False
        await call.play(sound("callback-pdpa"))
        hotline = await call.get_variable("IVR_HOTLINE") or ""
        topic = await call.get_variable("IVR_TOPIC") or ""
        language = await call.get_variable("CHANNEL(language)") or "th"
        now = self.clock()
        not_before = self._not_before(queue, now, view)
        req = CallbackRequest(
            id=uuid.uuid4().hex[:16],
            queue=queue,
            hotline=hotline,
            number=number,
            arrived_at=arrived,
            requested_at=now,
            topic=topic,
            language=language,
            call_uniqueid=uid,
            next_attempt_at=not_before,  # never dialled while closed
        )
        try:
            created = await self.store.create(req)  # in Redis before the citizen hears "booked"
        except (RedisError, OSError) as e:
            # never say "booked" for a request that is not stored: back in line instead
            call_log.error(
                "callback not booked: the store is unavailable",
                extra=fields(call=uid, queue=queue, error=str(e) or type(e).__name__),
            )
            await call.play(sound("callback-not-booked"))
            return False
        if not created.created:
            call_log.info(
                "callback already pending for this number",
                extra=fields(call=uid, queue=queue, number=mask_phone(number)),
            )
            await call.play(sound("callback-already"))
            return False
        call_log.info(
            "callback booked",
            extra=fields(call=uid, queue=queue, callback=created.request.id,
                         number=mask_phone(number), place=view.place),
        )  # fmt: skip
        await call.play(sound("callback-accepted"))
        await self._when(call, queue, now, view, not_before)
        await call.play(sound("goodbye"))
        return True

    async def _number(self, call: Call) -> str | None:
        """The number to call back: the caller ID read back and confirmed, or keyed."""
        number = thai_number(call.info.caller_id)
        tries = 0
        while True:
            if number is not None:
                await call.play(sound("callback-number"))
                for p in phone_prompts(number):
                    await call.play(sound(p))
                digit = await call.play(sound("callback-confirm"), "12")
                if digit is None:
                    digit = await call.wait_digit(CONFIRM_TIMEOUT_MS)
                if digit == "1":
                    return number
                if digit != "2":
                    return None
            if tries >= ENTRY_TRIES:
                return None
            tries += 1
            keyed = await call.get_data(sound("callback-enter-number"), ENTRY_TIMEOUT_MS, 12)
            number = thai_number(keyed)
            if number is None:
                await call.play(sound("callback-invalid-number"))

    def _not_before(self, queue: str, now: float, view: WaitView) -> float:
        """When the callback may be placed: now, or the next opening when the
        queue will be closed by the time the citizen's place comes up."""
        hours = self.hours_for_queue(queue)
        expected = now + (view.estimate_s or 0.0)
        if hours is None or hours.is_open(datetime.fromtimestamp(expected, UTC)):
            return next_open_at(now, hours)
        return next_open_at(expected, hours)

    async def _when(
        self, call: Call, queue: str, now: float, view: WaitView, not_before: float
    ) -> None:
        """When to expect the call: in about N minutes, the next opening, or (no
        estimate: nobody staffed) "as soon as an officer is available"."""
        hours = self.hours_for_queue(queue)
        if hours is not None and not_before > now + (view.estimate_s or 0.0):
            await call.play(sound("callback-next-opening"))
            opening = hours.local(datetime.fromtimestamp(not_before, UTC))
            for p in opening_prompts(opening):
                await call.play(sound(p))
            await call.play(sound("callback-expect-end"))
            return
        if view.estimate_s is None:  # nobody staffed: no time can honestly be given
            await call.play(sound("callback-expect-staffed"))
            return
        _, minutes = round_minutes(view.estimate_s)
        await call.play(sound("callback-expect-within"))
        for p in number_prompts(minutes):
            await call.play(sound(p))
        await call.play(sound("queue-minutes"))
