"""The queue-wait route with a scripted caller, a real Redis and per-queue settings."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ivr.agi.types import CallInfo
from ivr.callbacks.model import CallbackRequest
from ivr.calls.waiting import WaitingRoute, WaitSettings
from ivr.lineup.view import WaitView
from ivr.queues.state import Agent, AgentState, Caller, QueueState
from ivr.store.waiting import WaitingStore
from tests.scripted import ScriptedCall

pytestmark = pytest.mark.redis

NOW = 10_000.0


def busy_queue(name: str) -> QueueState:
    """Two callers ahead, one agent on a call: the next caller waits about 3 x 180 s."""
    return QueueState(
        name,
        callers={
            "a": Caller("a", arrived_at=NOW - 300),
            "b": Caller("b", arrived_at=NOW - 200),
        },
        agents={"PJSIP/agent1": Agent("PJSIP/agent1", state=AgentState.IN_CALL)},
    )


class Offers:
    def __init__(self) -> None:
        self.made: list[tuple[str, WaitView]] = []

    async def __call__(self, call: object, queue: str, arrived: float, view: WaitView) -> bool:
        self.made.append((queue, view))
        return False  # the caller declines and stays in the queue


def route(redis: Redis, offers: Offers) -> WaitingRoute:
    per_queue = {
        "complaint": WaitSettings(callback_threshold_s=120.0, callback_max_offers=1),
        "operator": WaitSettings(callback_threshold_s=3600.0),
    }

    async def queues() -> dict[str, QueueState]:
        return {q: busy_queue(q) for q in per_queue}

    async def pending(queue: str) -> list[CallbackRequest]:
        return []

    return WaitingRoute(
        WaitingStore(redis), queues, pending, offers, per_queue.__getitem__, clock=lambda: NOW
    )


def caller(uid: str, queue: str, round_: int) -> ScriptedCall:
    call = ScriptedCall("0812345678", {})
    call.info = CallInfo(script="queue-wait", uniqueid=uid, args=(queue, str(NOW), str(round_)))
    return call


async def test_each_queue_offers_by_its_own_threshold(redis_clean: Redis) -> None:
    offers = Offers()
    r = route(redis_clean, offers)
    c1, c2 = caller("c1", "complaint", 0), caller("c2", "operator", 0)
    await r(c1)
    await r(c2)
    assert [q for q, _ in offers.made] == ["complaint"]  # 540 s > 120 s; < 3600 s
    for c in (c1, c2):
        assert c.played[:2] == ["queue-position", "num-3"]  # both told their place
        assert c.variables["IVR_POS"] == "3"  # and sent back to it


async def test_a_queue_limits_its_own_number_of_offers(redis_clean: Redis) -> None:
    offers = Offers()
    r = route(redis_clean, offers)
    for round_ in range(3):
        await r(caller("c1", "complaint", round_))
    assert len(offers.made) == 1  # complaint: callback_max_offers = 1
