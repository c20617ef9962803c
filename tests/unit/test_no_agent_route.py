"""The queue-wait route applying the rules for nobody staffed and the maximum wait:
what the caller hears, what the dialplan is told, what is traced. A scripted
caller and an in-memory store: no Asterisk, no Redis."""

from __future__ import annotations

import time

from ivr.agi.types import CallInfo
from ivr.callbacks.model import CallbackRequest
from ivr.calls.offer import CallbackOffer
from ivr.calls.waiting import WaitingRoute, WaitSettings
from ivr.lineup.view import WaitView
from ivr.queues.no_agent import RuleDecision
from ivr.queues.state import Agent, AgentState, QueueState
from ivr.store.callbacks import CallbackStore, CreateResult
from ivr.store.waiting import Memory, WaitingStore
from tests.scripted import ScriptedCall

NOW = 50_000.0


class MemoryStore(WaitingStore):
    """The waiting store, in memory."""

    def __init__(self) -> None:
        self.memories: dict[str, str] = {}
        self.remembered: dict[str, tuple[str, float]] = {}

    async def remember_arrival(self, uid: str, queue: str, arrived: float, topic: str) -> None:
        self.remembered[uid] = (queue, arrived)

    async def memory(self, uid: str) -> Memory:
        raw = self.memories.get(uid)
        return Memory() if raw is None else Memory.from_json(raw)

    async def save_memory(self, uid: str, memory: Memory) -> None:
        self.memories[uid] = memory.to_json()


class Offers:
    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.made: list[tuple[str, WaitView]] = []

    async def __call__(self, call: object, queue: str, arrived: float, view: WaitView) -> bool:
        self.made.append((queue, view))
        return self.accept


class Setup:
    def __init__(self, agents: dict[str, AgentState], accept: bool = False, **s: object) -> None:
        members = {i: Agent(i, state=st, since=NOW - 10) for i, st in agents.items()}
        self.states = {q: QueueState(q, agents=dict(members)) for q in ("complaint", "operator")}
        self.offers = Offers(accept)
        self.store = MemoryStore()
        self.rules: list[tuple[str, str, RuleDecision]] = []
        self.now = NOW
        self.route = WaitingRoute(
            self.store, self.queues, self.pending, self.offers,
            WaitSettings(**s),  # type: ignore[arg-type]
            clock=lambda: self.now, on_rule=self.on_rule,
        )  # fmt: skip

    async def queues(self) -> dict[str, QueueState]:
        return self.states

    async def pending(self, queue: str) -> list[CallbackRequest]:
        return []

    async def on_rule(self, uid: str, queue: str, decision: RuleDecision) -> None:
        self.rules.append((uid, queue, decision))

    async def turn(self, queue: str, round_: int, arrived: float = NOW) -> ScriptedCall:
        call = ScriptedCall("0812345678", {})
        call.info = CallInfo(
            script="queue-wait", uniqueid="u1", args=(queue, str(arrived), str(round_))
        )
        await self.route(call)
        return call


NOBODY = {"PJSIP/agent1": AgentState.UNAVAILABLE}
ONE = {"PJSIP/agent1": AgentState.IN_CALL}


async def test_nobody_staffed_the_caller_hears_why_and_is_offered_a_callback() -> None:
    t = Setup(NOBODY, accept=True)
    call = await t.turn("complaint", 0)
    assert call.played[0] == "queue-no-agent"  # why, first
    [(queue, view)] = t.offers.made
    assert queue == "complaint" and view.estimate_s is None  # no time can be promised
    assert call.variables["IVR_WAIT_RESULT"] == "callback"
    assert t.rules == [("u1", "complaint", RuleDecision("no-agent", "callback"))]


async def test_a_declined_offer_is_not_repeated_the_caller_keeps_the_place() -> None:
    t = Setup(NOBODY, accept=False)
    first = await t.turn("complaint", 0)
    assert first.played[0] == "queue-no-agent" and "queue-position" in first.played
    assert first.variables["IVR_POS"] == "1" and "IVR_WAIT_RESULT" not in first.variables
    t.now += 30
    again = await t.turn("complaint", 1)
    assert "queue-no-agent" not in again.played and len(t.offers.made) == 1


async def test_the_maximum_wait_offers_a_callback_with_agents_staffed() -> None:
    t = Setup(ONE, max_wait_s=60.0, callback_max_offers=0)
    await t.turn("complaint", 0)
    assert t.offers.made == []  # staffed, no estimate offer: nothing yet
    t.now += 61
    call = await t.turn("complaint", 1)
    assert call.played[0] == "queue-max-wait"
    assert len(t.offers.made) == 1
    assert t.rules[-1][2] == RuleDecision("max-wait", "callback")
    t.now += 600
    later = await t.turn("complaint", 2)
    assert "queue-max-wait" not in later.played and len(t.offers.made) == 1  # once


async def test_a_queue_not_known_yet_is_never_said_to_have_nobody() -> None:
    t = Setup(NOBODY)
    t.states = {}  # no state read from Asterisk yet (or Redis away)
    call = await t.turn("complaint", 0)
    assert "queue-no-agent" not in call.played and t.offers.made == []
    assert call.played[0] == "queue-position"


async def test_message_policy_says_why_then_goodbye() -> None:
    t = Setup(NOBODY, no_agent="message")
    call = await t.turn("complaint", 0)
    assert call.played == ["queue-no-agent", "queue-no-agent-message", "goodbye"]
    assert call.variables["IVR_WAIT_RESULT"] == "goodbye"
    assert t.offers.made == []


async def test_overflow_moves_the_caller_who_keeps_the_original_arrival() -> None:
    t = Setup(NOBODY, no_agent="overflow:operator")
    arrived = NOW - 45
    call = await t.turn("complaint", 0, arrived)
    assert call.played == ["queue-no-agent", "queue-overflow"]
    assert call.variables["IVR_WAIT_RESULT"] == "overflow"
    assert call.variables["IVR_OVERFLOW"] == "operator"
    # the dialplan's loop starts again in operator (round 0) with the same arrival;
    # nobody there either: operator's own policy would overflow back, so a callback
    t.now += 1
    there = await t.turn("operator", 0, arrived)
    assert t.store.remembered["u1"] == ("operator", arrived)
    assert there.played[0] == "queue-no-agent"
    assert t.rules[-1][1:] == ("operator", RuleDecision("no-agent", "callback"))
    memory = await t.store.memory("u1")
    assert memory.left == ["complaint"] and memory.entered["operator"] == NOW + 1


async def test_wait_policy_keeps_todays_behaviour_until_the_maximum() -> None:
    t = Setup(NOBODY, no_agent="wait", max_wait_s=600.0)
    call = await t.turn("complaint", 0)
    assert call.played[0] == "queue-position" and t.rules == []
    t.now += 600
    await t.turn("complaint", 1)
    assert t.rules[-1][2] == RuleDecision("max-wait", "callback")


# -- the offer tells honestly when to expect the call -------------------------------
class Booked(CallbackStore):
    def __init__(self) -> None:
        self.created: list[CallbackRequest] = []

    async def create(self, req: CallbackRequest) -> CreateResult:
        self.created.append(req)
        return CreateResult(req, True)


async def test_booked_while_nobody_is_staffed_the_caller_hears_when_an_officer_is_free() -> None:
    store = Booked()
    offer = CallbackOffer(store, lambda q: None, clock=time.time)
    call = ScriptedCall("0812345678", {"callback-offer": ["1"], "callback-confirm": ["1"]})
    view = WaitView(place=1, estimate_s=None, position=1, ringing=False)
    assert await offer(call, "complaint", NOW, view)
    assert call.played[-2:] == ["callback-expect-staffed", "goodbye"]
    assert "callback-expect-within" not in call.played  # no "within 0 minutes"
    assert len(store.created) == 1
