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
4. applies the rules of :mod:`ivr.queues.no_agent` first: nobody staffed, or the
   maximum wait reached; the caller hears why in Thai, then is offered a callback
   (``IVR_WAIT_RESULT=callback`` once booked), moved to another queue
   (``IVR_WAIT_RESULT=overflow``, ``IVR_OVERFLOW=<queue>``) or told goodbye
   (``IVR_WAIT_RESULT=goodbye``); each rule acts once per queue and caller;
5. sets ``IVR_POS``: the position in Asterisk's queue that the original arrival
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
from ivr.queues.no_agent import RuleDecision, decide, parse_policy, staffed
from ivr.queues.state import QueueState
from ivr.speech.sounds import sound
from ivr.store.waiting import Memory, WaitingStore

__all__ = [
    "WHY_PROMPTS",
    "OfferFlow",
    "PendingCallbacks",
    "QueuesProvider",
    "RuleHook",
    "WaitSettings",
    "WaitingRoute",
]


@dataclass(frozen=True)
class WaitSettings:
    announce_repeat_s: float = 60.0  # announce again without news after this long
    announce_max_place: int = 20  # beyond: "more than N callers are waiting before you"
    default_handle_s: float = 180.0  # handle time until the queue has its own figures
    callback_threshold_s: float = 300.0  # offer a callback when the estimate is above
    callback_max_offers: int = 2
    no_agent: str = "callback"  # nobody staffed (ivr.queues.no_agent)
    max_wait_s: float = 600.0  # the same policy after this wait in the queue (0: never)
    paused_grace_s: float = 300.0  # paused-only members count as staffed this long


OfferFlow = Callable[[Call, str, float, WaitView], Awaitable[bool]]
QueuesProvider = Callable[[], Awaitable[dict[str, QueueState]]]
PendingCallbacks = Callable[[str], Awaitable[list[CallbackRequest]]]
#: Told when a rule acted: (uniqueid, queue, decision); the app traces and publishes it.
RuleHook = Callable[[str, str, RuleDecision], Awaitable[None]]

#: Why the caller hears what follows, per rule.
WHY_PROMPTS = {"no-agent": "queue-no-agent", "max-wait": "queue-max-wait"}


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
        on_rule: RuleHook | None = None,
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
        self.on_rule = on_rule

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
        states = await self.queues()
        state = states.get(queue) or QueueState(queue)
        try:
            callbacks = await self.pending_callbacks(queue)
        except (RedisError, OSError):  # Redis away: places without callbacks, never silence
            callbacks = []
        s = self.settings_for(queue)
        view = view_of(state, uid, arrived, callbacks, s.default_handle_s)
        memory = await self.store.memory(uid)
        # the first queue's wait starts at the arrival; after an overflow, on entering
        memory.entered.setdefault(queue, now if memory.left else arrived)
        # a queue not known yet (no state from Asterisk) is never said to have nobody
        decision = self._rule(s, state, queue, memory, now, known=queue in states)
        if decision is not None:
            result = await self._apply(call, queue, arrived, view, memory, decision)
            if result:
                await self.store.save_memory(uid, memory)
                await call.set_variable("IVR_WAIT_RESULT", result)
                return
        await self._announce(call, queue, s, view, memory, now)
        if decision is None and await self._offer_on_estimate(
            call, queue, arrived, s, view, memory
        ):
            await call.set_variable("IVR_WAIT_RESULT", "callback")
            return
        await self.store.save_memory(uid, memory)
        # back into the queue at the place the original arrival gives
        await call.set_variable("IVR_POS", str(view.position))

    @staticmethod
    def _rule(
        s: WaitSettings, state: QueueState, queue: str, memory: Memory, now: float, known: bool
    ) -> RuleDecision | None:
        """The rule of :mod:`ivr.queues.no_agent` that acts now, if any."""
        try:
            policy = parse_policy(s.no_agent)
        except ValueError:  # refused when the settings are read; never here
            policy = parse_policy("callback")
        return decide(
            policy,
            s.max_wait_s,
            is_staffed=not known or staffed(state, now, s.paused_grace_s),
            waited_s=now - memory.entered.get(queue, now),
            acted=memory.acted_in(queue),
            visited=[*memory.left, queue],
        )

    async def _apply(
        self,
        call: Call,
        queue: str,
        arrived: float,
        view: WaitView,
        memory: Memory,
        decision: RuleDecision,
    ) -> str:
        """Tell the caller why, then act; the ``IVR_WAIT_RESULT`` for the dialplan,
        or "" when the caller goes on waiting (a callback declined or not booked)."""
        uid = call.info.uniqueid
        memory.acted.append(f"{queue}:{decision.key}")
        await self.store.save_memory(uid, memory)  # acted once, even if the caller hangs up
        call_log.info(
            "queue rule",
            extra=fields(call=uid, queue=queue, rule=decision.rule,
                         action=decision.action, target=decision.target),
        )  # fmt: skip
        if self.on_rule is not None:
            await self.on_rule(uid, queue, decision)
        await call.play(sound(WHY_PROMPTS[decision.rule]))
        if decision.action == "message":
            await call.play(sound("queue-no-agent-message"))
            await call.play(sound("goodbye"))
            return "goodbye"
        if decision.action == "overflow":
            await call.play(sound("queue-overflow"))
            memory.left.append(queue)
            await call.set_variable("IVR_OVERFLOW", decision.target)
            return "overflow"
        memory.offers += 1
        # declined ("or stay on the line"), or not booked (told so): waiting goes on
        return "callback" if await self.offer(call, queue, arrived, view) else ""

    async def _announce(
        self, call: Call, queue: str, s: WaitSettings, view: WaitView, memory: Memory, now: float
    ) -> None:
        """The place and the estimated wait, when that tells something new."""
        policy = AnnouncePolicy(min_repeat_s=s.announce_repeat_s)
        if not policy.decide(memory.last, view.place, view.estimate_s, view.ringing, now):
            return
        phrase = phrase_for(view.estimate_s, view.place, s.announce_max_place)
        for prompt in phrase.prompts:
            await call.play(sound(prompt))
        memory.last = policy.record(view.place, view.estimate_s, now)
        call_log.info(
            "queue announcement",
            extra=fields(call=call.info.uniqueid, queue=queue, place=view.place, said=phrase.text),
        )

    async def _offer_on_estimate(
        self,
        call: Call,
        queue: str,
        arrived: float,
        s: WaitSettings,
        view: WaitView,
        memory: Memory,
    ) -> bool:
        """The callback offer when the estimate passes the queue's threshold."""
        if view.ringing or not offer_callback(
            view.estimate_s, s.callback_threshold_s, memory.offers, s.callback_max_offers
        ):
            return False
        memory.offers += 1
        await self.store.save_memory(call.info.uniqueid, memory)
        return await self.offer(call, queue, arrived, view)
