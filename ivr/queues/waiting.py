"""The waiting experience: the ``queue-wait`` FastAGI route.

The dialplan's queue loop (``[ivr-queue]``) calls
``AGI(agi://…/queue-wait,<queue>,<original arrival>,<round>)`` before the caller's
first turn in ``Queue()`` and after each ``TIMEOUT``. The route:

1. records the caller's original arrival (first round), so every instance's queue
   model keeps the caller's place across announcements;
2. announces the place (pending callbacks count) and the estimated wait in Thai,
   only when that tells something new (:mod:`ivr.queues.announce`), never while
   an agent is being rung for this caller;
3. offers a callback when the estimate passes the queue's threshold, at most
   ``callback_max_offers`` times (see :mod:`ivr.callbacks.offer`);
4. sets ``IVR_POS``: the position in Asterisk's queue that the original arrival
   gives, so time spent listening never costs a place.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..agi.types import Call
from ..callbacks.model import CallbackRequest
from ..log import call_log, fields
from ..store import keys
from .announce import AnnouncePolicy, LastAnnouncement, offer_callback
from .estimate import estimate_wait, mean_handle_time, phrase_for, staffing
from .places import place_of, queue_position
from .state import Caller, CallerState, QueueState

ANNOUNCED_TTL_S = 24 * 3600


@dataclass(frozen=True)
class WaitSettings:
    announce_repeat_s: float = 60.0  # announce again without news after this long
    announce_max_place: int = 20  # beyond: "more than N callers are waiting before you"
    default_handle_s: float = 180.0  # handle time until the queue has its own figures
    callback_threshold_s: float = 300.0  # offer a callback when the estimate is above
    callback_max_offers: int = 2


@dataclass
class Memory:
    """What this caller was last told and how many offers were made (kept in Redis)."""

    last: LastAnnouncement | None = None
    offers: int = 0

    def to_json(self) -> str:
        return json.dumps(
            {"last": self.last.to_dict() if self.last else None, "offers": self.offers}
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Memory:
        d: dict[str, Any] = json.loads(raw)
        last = d.get("last")
        return cls(LastAnnouncement.from_dict(last) if last else None, int(d.get("offers", 0)))


@dataclass(frozen=True)
class WaitView:
    place: int
    estimate_s: float | None
    position: int  # for Queue()
    ringing: bool


def view_of(
    state: QueueState,
    uniqueid: str,
    arrived_at: float,
    callbacks: Sequence[CallbackRequest],
    default_handle_s: float,
) -> WaitView:
    """Place, estimate and queue position of a caller (pure)."""
    me = state.callers.get(uniqueid)
    if me is None:  # not seen joining yet (first round): place it by its arrival
        me = Caller(uniqueid, arrived_at=arrived_at, state=CallerState.ANNOUNCING)
        state = replace(state, callers={**state.callers, uniqueid: me})
    place = place_of(state, uniqueid, callbacks)
    staffed, free = staffing(state)
    estimate = estimate_wait(
        place, staffed, free, mean_handle_time(state.handle_times), default_handle_s
    )
    return WaitView(
        place=place,
        estimate_s=estimate,
        position=queue_position(state, me.arrived_at, uniqueid),
        ringing=me.state is CallerState.RINGING,
    )


OfferFlow = Callable[[Call, str, float, WaitView], Awaitable[bool]]
QueuesProvider = Callable[[], Awaitable[dict[str, QueueState]]]
PendingCallbacks = Callable[[str], Awaitable[list[CallbackRequest]]]


class WaitingRoute:
    def __init__(
        self,
        redis: Redis,
        queues: QueuesProvider,
        pending_callbacks: PendingCallbacks,
        offer: OfferFlow,
        settings: WaitSettings | Callable[[str], WaitSettings],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``settings``: the same for every queue, or a function of the queue's name."""
        self.redis = redis
        self.queues = queues
        self.pending_callbacks = pending_callbacks
        self.offer = offer
        self.settings_for: Callable[[str], WaitSettings] = (
            (lambda _queue: settings) if isinstance(settings, WaitSettings) else settings
        )
        self.clock = clock

    async def __call__(self, call: Call) -> None:
        args = call.info.args
        queue = args[0] if args else ""
        uid = call.info.uniqueid
        now = self.clock()
        try:
            arrived = float(args[1]) if len(args) > 1 and args[1] else now
        except ValueError:
            arrived = now
        first = len(args) < 3 or args[2] in ("", "0")
        if not queue:
            await call.set_variable("IVR_ERROR", "no-queue")
            return
        if first:
            topic = await call.get_variable("IVR_TOPIC") or ""
            await self._remember_arrival(uid, queue, arrived, topic)
        state = (await self.queues()).get(queue) or QueueState(queue)
        try:
            callbacks = await self.pending_callbacks(queue)
        except (RedisError, OSError):  # Redis away: places without callbacks, never silence
            callbacks = []
        s = self.settings_for(queue)
        policy = AnnouncePolicy(min_repeat_s=s.announce_repeat_s)
        view = view_of(state, uid, arrived, callbacks, s.default_handle_s)
        memory = await self._memory(uid)
        if policy.decide(memory.last, view.place, view.estimate_s, view.ringing, now):
            phrase = phrase_for(view.estimate_s, view.place, s.announce_max_place)
            for prompt in phrase.prompts:
                await call.play(f"ivr/{prompt}")
            memory.last = policy.record(view.place, view.estimate_s, now)
            call_log.info(
                "queue announcement",
                extra=fields(call=uid, queue=queue, place=view.place, said=phrase.text),
            )
        if not view.ringing and offer_callback(
            view.estimate_s, s.callback_threshold_s, memory.offers, s.callback_max_offers
        ):
            memory.offers += 1
            await self._save(uid, memory)
            if await self.offer(call, queue, arrived, view):
                await call.set_variable("IVR_WAIT_RESULT", "callback")
                return
        await self._save(uid, memory)
        # back into the queue at the place the original arrival gives
        await call.set_variable("IVR_POS", str(view.position))

    async def _remember_arrival(self, uid: str, queue: str, arrived: float, topic: str) -> None:
        value = json.dumps({"arrived_at": arrived, "queue": queue, "topic": topic})
        with contextlib.suppress(RedisError, OSError):
            await self.redis.set(keys.arrival(uid), value, ex=ANNOUNCED_TTL_S)

    async def _memory(self, uid: str) -> Memory:
        try:
            raw = await self.redis.get(keys.announced(uid))
        except (RedisError, OSError):
            return Memory()
        return Memory() if raw is None else Memory.from_json(raw)

    async def _save(self, uid: str, memory: Memory) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.redis.set(keys.announced(uid), memory.to_json(), ex=ANNOUNCED_TTL_S)
