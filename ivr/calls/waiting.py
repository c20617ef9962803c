"""The waiting experience: the ``queue-wait`` FastAGI route.

The dialplan's queue loop (``[ivr-queue]``) calls
``AGI(agi://…/queue-wait,<queue>,<original arrival>,<round>)`` before the caller's
first turn in ``Queue()`` and after each ``TIMEOUT``. The route:

1. records the caller's original arrival (first round), so every instance's queue
   model keeps the caller's place across announcements;
2. announces the place (pending callbacks count) and the estimated wait in Thai,
   only when that tells something new (:mod:`ivr.queues.announce`), never while
   an agent is being rung for this caller (place and estimate: :mod:`ivr.lineup.view`);
3. offers a callback when the estimate passes the queue's threshold, at most
   ``callback_max_offers`` times (see :mod:`ivr.calls.offer`);
4. sets ``IVR_POS``: the position in Asterisk's queue that the original arrival
   gives, so time spent listening never costs a place.

What the route keeps about a caller (arrival, last announcement, offers made) is
in Redis through :class:`ivr.store.waiting.WaitingStore`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from ivr.agi.types import Call
from ivr.callbacks.model import CallbackRequest
from ivr.calls.base import CallController, CallSession
from ivr.lineup.view import WaitView, view_of
from ivr.log import call_log, fields
from ivr.queues.announce import AnnouncePolicy, offer_callback
from ivr.queues.estimate import phrase_for
from ivr.queues.state import QueueState
from ivr.speech.sounds import sound
from ivr.store.waiting import WaitingStore

__all__ = ["OfferFlow", "PendingCallbacks", "QueuesProvider", "WaitSettings", "WaitingRoute"]


@dataclass(frozen=True)
class WaitSettings:
    announce_repeat_s: float = 60.0  # announce again without news after this long
    announce_max_place: int = 20  # beyond: "more than N callers are waiting before you"
    default_handle_s: float = 180.0  # handle time until the queue has its own figures
    callback_threshold_s: float = 300.0  # offer a callback when the estimate is above
    callback_max_offers: int = 2


OfferFlow = Callable[[Call, str, float, WaitView], Awaitable[bool]]
QueuesProvider = Callable[[], Awaitable[dict[str, QueueState]]]
PendingCallbacks = Callable[[str], Awaitable[list[CallbackRequest]]]


class WaitingRoute(CallController):
    """``AGI(agi://…/queue-wait,<queue>,<original arrival>,<round>)``."""

    def __init__(
        self,
        store: WaitingStore,
        queues: QueuesProvider,
        pending_callbacks: PendingCallbacks,
        offer: OfferFlow,
        settings: WaitSettings | Callable[[str], WaitSettings],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``settings``: the same for every queue, or a function of the queue's name."""
        super().__init__()
        self.store = store
        self.queues = queues
        self.pending_callbacks = pending_callbacks
        self.offer = offer
        self.settings_for: Callable[[str], WaitSettings] = (
            (lambda _queue: settings) if isinstance(settings, WaitSettings) else settings
        )
        self.clock = clock

    async def handle(self, session: CallSession) -> None:
        call, args = session.call, session.args
        queue = args[0]
        uid = call.info.uniqueid
        now = self.clock()
        try:
            arrived = float(args[1]) if args[1] else now
        except ValueError:
            arrived = now
        first = args[2] in ("", "0")
        if not queue:
            await call.set_variable("IVR_ERROR", "no-queue")
            return
        if first:
            topic = await call.get_variable("IVR_TOPIC") or ""
            await self.store.remember_arrival(uid, queue, arrived, topic)
        state = (await self.queues()).get(queue) or QueueState(queue)
        try:
            callbacks = await self.pending_callbacks(queue)
        except (RedisError, OSError):  # Redis away: places without callbacks, never silence
            callbacks = []
        s = self.settings_for(queue)
        policy = AnnouncePolicy(min_repeat_s=s.announce_repeat_s)
        view = view_of(state, uid, arrived, callbacks, s.default_handle_s)
        memory = await self.store.memory(uid)
        if policy.decide(memory.last, view.place, view.estimate_s, view.ringing, now):
            phrase = phrase_for(view.estimate_s, view.place, s.announce_max_place)
            for prompt in phrase.prompts:
                await call.play(sound(prompt))
            memory.last = policy.record(view.place, view.estimate_s, now)
            call_log.info(
                "queue announcement",
                extra=fields(call=uid, queue=queue, place=view.place, said=phrase.text),
            )
        if not view.ringing and offer_callback(
            view.estimate_s, s.callback_threshold_s, memory.offers, s.callback_max_offers
        ):
            memory.offers += 1
            await self.store.save_memory(uid, memory)
            if await self.offer(call, queue, arrived, view):
                await call.set_variable("IVR_WAIT_RESULT", "callback")
                return
        await self.store.save_memory(uid, memory)
        # back into the queue at the place the original arrival gives
        await call.set_variable("IVR_POS", str(view.position))
