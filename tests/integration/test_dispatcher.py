"""Callback dispatcher: real Redis for the lease and the store, a fake AMI.

Every test runs twice: with :class:`ivr.store.callbacks.CallbackStore` on Redis,
and with a small in-memory store that follows the same contract. Time is a fake
clock (Tuesday 5 March 2024, 10:00 in Bangkok, unless said otherwise); the lease
TTL runs on Redis's real clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiError, AmiReplyLost
from ivr.ami.events import OriginateResponse, QueueCallerJoin
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.lineup.dispatcher import CallbackDispatcher, originate_result
from ivr.lineup.ports import CallbackStoreLike, DispatcherConfig
from ivr.menus.hours import BusinessHours, Window
from ivr.queues.state import Agent, AgentState, Caller, QueueState
from ivr.store.lease import LeaderLease
from tests.until import until

pytestmark = pytest.mark.redis

BKK = ZoneInfo("Asia/Bangkok")
OFFICE = BusinessHours(weekly=((Window.parse("08:30-16:30"),),) * 5 + ((), ()), holidays="none")


def bkk(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> float:
    return datetime(y, m, d, hh, mm, tzinfo=BKK).timestamp()


T0 = bkk(2024, 3, 5, 10, 0)


# ------------------------------------------------------------------ fakes


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class FakeAmi:
    """Records Originates; the test delivers the OriginateResponse events."""

    def __init__(self, log: list[dict[str, Any]] | None = None) -> None:
        self.connected = True
        self.calls: list[dict[str, Any]] = []
        self.shared = log if log is not None else []  # every fake of a test, together
        self.handlers: list[Callable[[OriginateResponse], Awaitable[None] | None]] = []
        self.hang: asyncio.Event | None = None  # set: originate blocks until it is set
        self.refuse: Exception | None = None
        self.called = asyncio.Event()
        self.actions: list[dict[str, str]] = []  # other actions (QueuePause), in order
        self.on_action: Callable[[dict[str, str]], None] | None = None  # the model's view
        self.join_handlers: list[Callable[[QueueCallerJoin], Awaitable[None] | None]] = []

    def subscribe(self, event: type[Any], handler: Callable[[Any], Any]) -> Callable[[], None]:
        # the two lists' types join to object: mypy cannot type this dict's values
        handlers = {OriginateResponse: self.handlers, QueueCallerJoin: self.join_handlers}[event]
        handlers.append(handler)  # type: ignore[attr-defined]
        return lambda: handlers.remove(handler)  # type: ignore[attr-defined]

    async def action(self, name: str, /, **fields_: Any) -> dict[str, str]:
        act = {"Action": name, **{k: str(v) for k, v in fields_.items()}}
        self.actions.append(act)
        if self.on_action is not None:
            self.on_action(act)
        return {"Response": "Success"}

    def pauses(self) -> list[tuple[str, str, str]]:
        """(interface, Paused, Reason) of every QueuePause sent."""
        return [
            (a["Interface"], a["Paused"], a.get("Reason", ""))
            for a in self.actions
            if a["Action"] == "QueuePause"
        ]

    async def join(self, channel: str, queue: str = "complaint") -> None:
        event = QueueCallerJoin(channel=channel, queue=queue, position=1)
        for handler in list(self.join_handlers):
            result = handler(event)
            if result is not None:
                await result

    async def originate(
        self,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        variables: Mapping[str, str] = {},
        caller_id: str | None = None,
        timeout_ms: int = 30000,
        async_: bool = True,
        *,
        action_id: str | None = None,
    ) -> str:
        assert action_id
        call = {
            "channel": channel,
            "context": context,
            "exten": exten,
            "priority": priority,
            "variables": dict(variables),
            "caller_id": caller_id,
            "timeout_ms": timeout_ms,
            "async": async_,
            "action_id": action_id,
        }
        self.calls.append(call)
        self.shared.append(call)
        self.called.set()
        if self.hang is not None:
            await self.hang.wait()
        if self.refuse is not None:
            raise self.refuse
        return action_id

    async def respond(
        self, action_id: str, response: str, reason: int | None = None, channel: str = ""
    ) -> None:
        event = OriginateResponse(
            action_id=action_id, response=response, reason=reason, channel=channel
        )
        for handler in list(self.handlers):
            result = handler(event)
            if result is not None:
                await result

    def callback_ids(self) -> list[str]:
        return [c["variables"]["IVR_CALLBACK_ID"] for c in self.calls]


class MemoryStore:
    """In-memory stand-in with the contract of ``CallbackStore`` (one event loop)."""

    def __init__(self) -> None:
        self.items: dict[str, CallbackRequest] = {}

    @staticmethod
    def _copy(req: CallbackRequest) -> CallbackRequest:
        return replace(req, history=list(req.history))

    async def create(self, req: CallbackRequest) -> CallbackRequest:
        self.items[req.id] = self._copy(req)
        return self._copy(req)

    async def get(self, request_id: str) -> CallbackRequest | None:
        req = self.items.get(request_id)
        return None if req is None else self._copy(req)

    async def pending(self, queue: str) -> list[CallbackRequest]:
        live = (CallbackStatus.PENDING, CallbackStatus.DIALING)
        reqs = [r for r in self.items.values() if r.queue == queue and r.status in live]
        return [self._copy(r) for r in sorted(reqs, key=lambda r: (r.arrived_at, r.id))]

    async def claim(self, request_id: str, instance: str, until: float) -> CallbackRequest | None:
        req = self.items.get(request_id)
        if req is None or req.status is not CallbackStatus.PENDING:
            return None
        req.status = CallbackStatus.DIALING
        req.attempts += 1
        req.dialing_by, req.dialing_until = instance, until
        return self._copy(req)

    async def release(
        self,
        request_id: str,
        instance: str,
        result: str,
        retry_at: float | None,
        max_attempts: int,
    ) -> CallbackRequest | None:
        req = self.items.get(request_id)
        if req is None or req.status is not CallbackStatus.DIALING or req.dialing_by != instance:
            return None
        if req.accepted_at:  # the citizen pressed 1: never back in line
            return None
        req.last_result, req.dialing_by, req.dialing_until = result, "", 0.0
        if retry_at is None or req.attempts >= max_attempts:
            req.status = CallbackStatus.FAILED
        else:
            req.status, req.next_attempt_at = CallbackStatus.PENDING, retry_at
        return self._copy(req)

    async def accept(
        self, request_id: str, instance: str, until: float, *, attempt: int | None = None,
        now: float = 0.0,
    ) -> CallbackRequest | None:  # fmt: skip
        req = self.items.get(request_id)
        live = (CallbackStatus.PENDING, CallbackStatus.DIALING)
        if req is None or req.status not in live or attempt not in (None, req.attempts):
            return None
        if not req.accepted_at:
            if req.status is CallbackStatus.PENDING:
                req.status, req.dialing_by = CallbackStatus.DIALING, instance
            elif req.dialing_until:
                until = min(until, req.dialing_until)
            req.accepted_at, req.dialing_until = now, until
        return self._copy(req)

    async def mark_connected(self, request_id: str) -> CallbackRequest | None:
        req = self.items.get(request_id)
        if req is None or req.status not in (CallbackStatus.PENDING, CallbackStatus.DIALING):
            return None
        req.status, req.last_result, req.dialing_by = CallbackStatus.CONNECTED, "answered", ""
        return self._copy(req)

    async def reclaim_expired(self, now: float) -> list[str]:
        out = []
        for req in self.items.values():
            if req.status is CallbackStatus.DIALING and req.dialing_until <= now:
                out.append(req.id)
                if req.accepted_at:  # pressed 1, never reported: the dialplan queued them
                    req.status, req.last_result = CallbackStatus.CONNECTED, "answered"
                    req.history.append({"at": now, "event": "connected", "unreported": True})
                    req.dialing_by, req.dialing_until = "", 0.0
                    continue
                req.status, req.last_result, req.dialing_by = (
                    CallbackStatus.PENDING,
                    "interrupted",
                    "",
                )
                req.dialing_until = 0.0
        return out


class Store(CallbackStoreLike, Protocol):
    async def create(self, req: CallbackRequest) -> Any: ...

    async def accept(
        self, request_id: str, instance: str, until: float, *, attempt: int | None = None,
        now: float = ...,
    ) -> CallbackRequest | None: ...  # fmt: skip


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest, redis_clean: Redis) -> Store:
    if request.param == "memory":
        return MemoryStore()
    module = pytest.importorskip("ivr.store.callbacks")
    real: Store = module.CallbackStore(redis_clean)
    return real


def request_for(
    rid: str,
    arrived: float,
    number: str,
    queue: str = "complaint",
    topic: str = "complaint",
    **kw: Any,
) -> CallbackRequest:
    return CallbackRequest(
        id=rid,
        queue=queue,
        hotline="1111",
        number=number,
        arrived_at=arrived,
        requested_at=arrived + 30,
        topic=topic,
        **kw,
    )


def queue_with(agents: int = 1, callers: list[Caller] | None = None) -> QueueState:
    return QueueState(
        name="complaint",
        agents={
            f"PJSIP/agent{n}": Agent(interface=f"PJSIP/agent{n}", state=AgentState.AVAILABLE)
            for n in range(1, agents + 1)
        },
        callers={c.uniqueid: c for c in callers or []},
    )


class World:
    """The queue states every dispatcher of a test sees, and its fake clock."""

    def __init__(self, redis: Redis, store: Store, **config: Any) -> None:
        self.redis = redis
        self.store = store
        self.clock = Clock()
        self.states: dict[str, QueueState] = {"complaint": queue_with(1)}
        self.originates: list[dict[str, Any]] = []
        settings: dict[str, Any] = {
            "ring_timeout_s": 30.0,
            "claim_margin_s": 60.0,
            "retry_delay_s": 300.0,
            "max_attempts": 3,
            "tick_s": 0.01,
            "caller_id_for_hotline": lambda h: f'"{h}" <{h}>',
        }
        self.config = DispatcherConfig(**{**settings, **config})
        self.dispatchers: list[CallbackDispatcher] = []

    async def queues(self) -> dict[str, QueueState]:
        return self.states

    def pause(self, act: dict[str, str]) -> None:
        """What the queue model shows once Asterisk reports a QueuePause."""
        if act["Action"] != "QueuePause":
            return
        names = [act["Queue"]] if "Queue" in act else list(self.states)  # no Queue: all
        for name in names:
            agent = self.states[name].agents.get(act["Interface"])
            if agent is None:
                continue
            if act["Paused"] == "true":
                agent.state, agent.paused_reason = AgentState.PAUSED, act.get("Reason", "")
            else:
                agent.state, agent.paused_reason = AgentState.AVAILABLE, ""

    def dispatcher(
        self, instance: str = "inst-a", lease_ttl_s: float = 5.0, lease_name: str = "callbacks"
    ) -> tuple[CallbackDispatcher, FakeAmi]:
        ami = FakeAmi(self.originates)
        ami.on_action = self.pause
        lease = LeaderLease(self.redis, lease_name, instance, lease_ttl_s)
        d = CallbackDispatcher(
            self.store, lease, ami, self.queues, self.config, instance, clock=self.clock
        )
        self.dispatchers.append(d)
        return d, ami

    async def status(self, rid: str) -> CallbackRequest:
        req = await self.store.get(rid)
        assert req is not None
        return req

    def originated_ids(self) -> list[str]:
        return [c["variables"]["IVR_CALLBACK_ID"] for c in self.originates]


@pytest.fixture
def world(redis_clean: Redis, store: Store) -> Iterator[World]:
    yield World(redis_clean, store)


# ------------------------------------------------------------------ dialling


async def test_dials_the_earliest_pending_callback_when_an_agent_is_free(world: World) -> None:
    await world.store.create(request_for("late", T0 - 200, "0810000002"))
    await world.store.create(request_for("early", T0 - 300, "0810000001", language="en"))
    d, ami = world.dispatcher()

    assert await d.tick() == ["early"]
    [call] = ami.calls
    assert call["channel"] == "PJSIP/0810000001@pstn"
    assert (call["context"], call["exten"], call["priority"]) == ("callback-citizen", "s", 1)
    assert call["timeout_ms"] == 30000
    assert call["async"] is True
    assert call["caller_id"] == '"1111" <1111>'
    assert call["variables"] == {
        "IVR_CALLBACK_ID": "early",
        "IVR_QUEUE": "complaint",
        "IVR_HOTLINE": "1111",
        "IVR_TOPIC": "complaint",
        "IVR_LANGUAGE": "en",
        "IVR_ARRIVED_AT": f"{T0 - 300:.3f}",
        "IVR_CALLBACK_ATTEMPT": "1",
    }
    early = await world.status("early")
    assert early.status is CallbackStatus.DIALING
    assert early.attempts == 1
    assert early.dialing_by == "inst-a"
    assert early.dialing_until == T0 + 30 + 60
    assert d.in_flight == 1

    # the one agent is kept for the citizen being rung: no second call
    assert await d.tick() == []
    assert len(ami.calls) == 1
    assert (await world.status("late")).status is CallbackStatus.PENDING


async def test_two_free_agents_two_calls(world: World) -> None:
    world.states["complaint"] = queue_with(2)
    for n, rid in enumerate(["a", "b", "c"]):
        await world.store.create(request_for(rid, T0 - 300 + n, f"081000000{n}"))
    d, ami = world.dispatcher()
    assert await d.tick() == ["a", "b"]
    assert ami.callback_ids() == ["a", "b"]


async def test_no_dial_while_a_live_caller_who_came_earlier_waits(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    world.states["complaint"] = queue_with(
        1, callers=[Caller(uniqueid="1709600000.1", arrived_at=T0 - 250, joined_at=T0 - 20)]
    )
    d, ami = world.dispatcher()
    assert await d.tick() == []
    assert ami.calls == []
    assert (await world.status("cb")).status is CallbackStatus.PENDING

    world.states["complaint"] = queue_with(1)  # the caller was answered
    assert await d.tick() == ["cb"]


async def test_no_dial_without_a_free_agent(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    world.states["complaint"].agents["PJSIP/agent1"].state = AgentState.IN_CALL
    d, ami = world.dispatcher()
    assert await d.tick() == []
    world.states["complaint"].agents["PJSIP/agent1"].state = AgentState.PAUSED
    assert await d.tick() == []
    assert ami.calls == []


# ------------------------------------------------------------------ outcomes


async def test_no_answer_is_retried_after_the_delay_then_failed(
    redis_clean: Redis, store: Store
) -> None:
    world = World(redis_clean, store, max_attempts=2)
    await store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = world.dispatcher()

    assert await d.tick() == ["cb"]
    await ami.respond(ami.calls[0]["action_id"], "Failure", reason=3)
    req = await world.status("cb")
    assert req.status is CallbackStatus.PENDING
    assert req.last_result == "no-answer"
    assert req.next_attempt_at == T0 + 300
    assert req.attempts == 1
    assert d.in_flight == 0

    world.clock.t = T0 + 299
    assert await d.tick() == []
    world.clock.t = T0 + 300
    assert await d.tick() == ["cb"]
    assert ami.calls[1]["variables"]["IVR_CALLBACK_ATTEMPT"] == "2"
    await ami.respond(ami.calls[1]["action_id"], "Failure", reason=5)
    req = await world.status("cb")
    assert req.status is CallbackStatus.FAILED  # stays visible
    assert req.last_result == "busy"
    assert req.attempts == 2

    world.clock.t = T0 + 3600
    assert await d.tick() == []
    assert len(ami.calls) == 2


@pytest.mark.parametrize(
    ("reason", "result"),
    [
        (3, "no-answer"),
        (5, "busy"),
        (8, "congestion"),
        (1, "failed"),
        (0, "failed"),
        (None, "failed"),
    ],
)
def test_originate_reasons(reason: int | None, result: str) -> None:
    assert originate_result(reason) == result


async def test_answered_and_confirmed_is_connected(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = world.dispatcher()
    await d.tick()
    await ami.respond(ami.calls[0]["action_id"], "Success", reason=4)
    assert (await world.status("cb")).status is CallbackStatus.DIALING  # press-1 dialog
    assert d.in_flight == 1
    await d.on_answer_result("cb", confirmed=True)
    assert (await world.status("cb")).status is CallbackStatus.CONNECTED
    assert d.in_flight == 0
    world.clock.t = T0 + 3600
    assert await d.tick() == []
    assert len(ami.calls) == 1


async def test_answered_without_pressing_1_is_retried(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = world.dispatcher()
    await d.tick()
    await ami.respond(ami.calls[0]["action_id"], "Success", reason=4)
    # the press-1 route may run on another instance: it releases for the holder
    other, _ = world.dispatcher("inst-b")
    await other.on_answer_result("cb", confirmed=False)
    req = await world.status("cb")
    assert req.status is CallbackStatus.PENDING
    assert req.last_result == "no-confirm"
    assert req.next_attempt_at == T0 + 300
    await other.on_answer_result("cb", confirmed=False)  # a second report changes nothing
    assert (await world.status("cb")).attempts == 1


async def test_refused_originate_is_retried_later(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = world.dispatcher()
    ami.refuse = AmiError("AMI Originate failed on 127.0.0.1:5038: Extension does not exist.")
    assert await d.tick() == []
    req = await world.status("cb")
    assert req.status is CallbackStatus.PENDING
    assert req.last_result == "failed"
    assert req.next_attempt_at == T0 + 300
    assert d.in_flight == 0


async def test_a_reply_lost_with_the_connection_keeps_the_claim_and_is_not_redialled_early(
    world: World,
) -> None:
    """The Originate may have gone out: no second call before the claim expires."""
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = world.dispatcher()
    ami.refuse = AmiReplyLost("AMI Originate: connection to 127.0.0.1:5038 lost before the reply")
    assert await d.tick() == ["cb"]  # sent, outcome unknown
    req = await world.status("cb")
    assert req.status is CallbackStatus.DIALING  # claimed, outcome unknown
    ami.refuse = None
    for _ in range(3):
        assert await d.tick() == []  # not dialled again while the claim holds
    assert ami.callback_ids() == ["cb"]
    world.clock.t = req.dialing_until  # nothing came back: the claim expires
    assert await d.tick() == ["cb"]
    assert ami.callback_ids() == ["cb", "cb"]
    assert (await world.status("cb")).attempts == 2


async def test_unexpected_originate_error_counts_as_a_failed_attempt(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = world.dispatcher()
    ami.refuse = RuntimeError("unexpected")
    assert await d.tick() == []
    req = await world.status("cb")
    assert (req.status, req.last_result, req.attempts) == (CallbackStatus.PENDING, "failed", 1)


async def test_line_breaks_never_reach_an_ami_header(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001", topic="a\r\nAction: x"))
    d, ami = world.dispatcher()
    assert await d.tick() == ["cb"]
    assert ami.calls[0]["variables"]["IVR_TOPIC"] == "a Action: x"


async def test_responses_to_other_actions_are_ignored(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = world.dispatcher()
    await d.tick()
    await ami.respond("someone-else-1", "Failure", reason=3)
    assert (await world.status("cb")).status is CallbackStatus.DIALING


# ------------------------------------------------------------------ several instances, crashes


async def lease_expired(lease: LeaderLease) -> bool:
    return await lease.holder() is None


async def _run_until(
    dispatchers: list[CallbackDispatcher], done: Callable[[], bool], more_ticks: int = 5
) -> None:
    """Run the dispatchers until ``done()``, then ``more_ticks`` more ticks of each (so
    a callback placed twice would show), and stop them."""
    tasks = [asyncio.create_task(d.run()) for d in dispatchers]
    try:
        await until(done)
        after = [d.ticks for d in dispatchers]
        await until(
            lambda: all(d.ticks >= a + more_ticks for d, a in zip(dispatchers, after, strict=True))
        )
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_two_instances_place_each_callback_once(world: World) -> None:
    world.states["complaint"] = queue_with(4)
    for n in range(4):
        await world.store.create(request_for(f"cb{n}", T0 - 300 + n, f"081000000{n}"))
    a, _ = world.dispatcher("inst-a")
    b, _ = world.dispatcher("inst-b")
    await _run_until([a, b], lambda: len(world.originated_ids()) >= 4)
    assert sorted(world.originated_ids()) == ["cb0", "cb1", "cb2", "cb3"]
    holders = {(await world.status(f"cb{n}")).dialing_by for n in range(4)}
    assert len(holders) == 1  # only the leader dialled


async def test_two_leaders_at_once_still_place_each_callback_once(world: World) -> None:
    # a lease lost mid-tick can leave two instances dialling for a moment:
    # the atomic claim still gives each callback to one of them
    world.states["complaint"] = queue_with(4)
    for n in range(4):
        await world.store.create(request_for(f"cb{n}", T0 - 300 + n, f"081000000{n}"))
    a, _ = world.dispatcher("inst-a", lease_name="lease-a")
    b, _ = world.dispatcher("inst-b", lease_name="lease-b")
    await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
    await _run_until([a, b], lambda: len(world.originated_ids()) >= 4)
    assert sorted(world.originated_ids()) == ["cb0", "cb1", "cb2", "cb3"]


async def test_a_crash_mid_dial_is_redialled_once_by_another_instance(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    a, ami_a = world.dispatcher("inst-a", lease_ttl_s=0.3)
    ami_a.hang = asyncio.Event()  # the Originate never comes back
    task = asyncio.create_task(a.tick())
    await asyncio.wait_for(ami_a.called.wait(), 5)
    task.cancel()  # the dispatcher dies: no release of the claim nor of the lease
    await asyncio.gather(task, return_exceptions=True)
    req = await world.status("cb")
    assert req.status is CallbackStatus.DIALING
    assert req.dialing_by == "inst-a"

    b, ami_b = world.dispatcher("inst-b", lease_ttl_s=0.3)
    assert await b.tick() == []  # a's lease still runs
    assert not b.lease.is_leader
    await until(lambda: lease_expired(a.lease))
    assert await b.tick() == []  # b leads now, but a's claim has not expired
    assert b.lease.is_leader

    world.clock.t = req.dialing_until
    assert await b.tick() == ["cb"]
    req = await world.status("cb")
    assert req.status is CallbackStatus.DIALING
    assert req.dialing_by == "inst-b"
    assert req.attempts == 2
    for _ in range(3):
        assert await b.tick() == []
    assert world.originated_ids() == ["cb", "cb"]  # a's interrupted call, then b's one
    assert ami_b.callback_ids() == ["cb"]


async def test_close_releases_the_lease(world: World) -> None:
    a, _ = world.dispatcher("inst-a")
    b, _ = world.dispatcher("inst-b")
    await a.tick()
    assert a.lease.is_leader
    await b.tick()
    assert not b.lease.is_leader
    await a.close()
    await b.tick()
    assert b.lease.is_leader


# ------------------------------------------------------------------ hours, AMI down


async def test_outside_business_hours_not_dialled_until_the_opening(
    redis_clean: Redis, store: Store
) -> None:
    world = World(redis_clean, store, hours_for_queue=lambda _q: OFFICE)
    saturday = bkk(2024, 3, 9, 10, 0)
    world.clock.t = saturday
    await store.create(request_for("cb", saturday - 600, "0810000001"))
    d, ami = world.dispatcher()
    assert await d.tick() == []
    assert ami.calls == []
    world.clock.t = bkk(2024, 3, 11, 8, 29)
    assert await d.tick() == []
    world.clock.t = bkk(2024, 3, 11, 8, 30)
    assert await d.tick() == ["cb"]


async def test_no_answer_near_closing_time_is_retried_at_the_next_opening(
    redis_clean: Redis, store: Store
) -> None:
    world = World(redis_clean, store, hours_for_queue=lambda _q: OFFICE)
    friday = bkk(2024, 3, 8, 16, 28)
    world.clock.t = friday
    await store.create(request_for("cb", friday - 600, "0810000001"))
    d, ami = world.dispatcher()
    assert await d.tick() == ["cb"]
    await ami.respond(ami.calls[0]["action_id"], "Failure", reason=3)
    req = await world.status("cb")
    assert req.status is CallbackStatus.PENDING
    monday_opening = bkk(2024, 3, 11, 8, 30)
    assert req.next_attempt_at == monday_opening
    world.clock.t = friday + 3600
    assert await d.tick() == []
    world.clock.t = monday_opening
    assert await d.tick() == ["cb"]


async def test_nothing_while_the_ami_is_down(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    world.states["complaint"].agents["PJSIP/agent1"].state = AgentState.IN_CALL
    d, ami = world.dispatcher()
    assert await d.tick() == []  # leads, but the agent is busy
    assert d.lease.is_leader
    ami.connected = False
    with caplog.at_level(logging.WARNING, logger="ivr.callbacks"):
        for _ in range(3):
            assert await d.tick() == []
    assert [r.message for r in caplog.records if r.name == "ivr.callbacks"] == [
        "AMI not connected: no callbacks placed until it is back"
    ]
    assert not d.lease.is_leader  # another instance with a working AMI may lead
    assert ami.calls == []
    world.states["complaint"] = queue_with(1)
    ami.connected = True
    assert await d.tick() == ["cb"]


async def test_logs_hold_masked_numbers_only(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0812345678"))
    d, ami = world.dispatcher()
    with caplog.at_level(logging.DEBUG):
        await d.tick()
        await ami.respond(ami.calls[0]["action_id"], "Failure", reason=3)
    text = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    assert "081*****78" in text
    assert "0812345678" not in text


# ------------------------------------------------------------------ holding the agent


@pytest.fixture
def holding(redis_clean: Redis, store: Store) -> Iterator[World]:
    yield World(redis_clean, store, reserve_agent=True)


HELD = ("PJSIP/agent1", "true", "ivr-callback:cb")
FREED = ("PJSIP/agent1", "false", "")


async def test_the_agent_is_held_before_the_citizen_is_rung(holding: World) -> None:
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = holding.dispatcher()
    assert await d.tick() == ["cb"]
    assert ami.pauses() == [HELD]
    agent = holding.states["complaint"].agents["PJSIP/agent1"]
    assert (agent.state, agent.paused_reason) == (AgentState.PAUSED, "ivr-callback:cb")
    # a later live caller cannot have it; the held agent is not counted twice either
    await holding.store.create(request_for("cb2", T0 - 100, "0810000002"))
    assert await d.tick() == []
    assert ami.pauses() == [HELD]


async def test_the_held_agent_goes_back_when_the_citizen_joins_the_queue(
    holding: World,
) -> None:
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = holding.dispatcher()
    await d.tick()
    channel = "PJSIP/pstn-00000007"
    await ami.respond(ami.calls[0]["action_id"], "Success", reason=4, channel=channel)
    await d.on_answer_result("cb", confirmed=True)
    assert ami.pauses() == [HELD]  # still held while the citizen walks into the queue
    await ami.join("PJSIP/pstn-00000099")  # somebody else
    assert ami.pauses() == [HELD]
    await ami.join(channel)
    assert ami.pauses() == [HELD, FREED]


@pytest.mark.parametrize("how", ["no-answer", "no-1", "refused"])
async def test_the_held_agent_goes_back_when_the_attempt_fails(holding: World, how: str) -> None:
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = holding.dispatcher()
    if how == "refused":
        ami.refuse = AmiError("AMI Originate failed: Extension does not exist.")
    await d.tick()
    if how == "no-answer":
        await ami.respond(ami.calls[0]["action_id"], "Failure", reason=3)
    elif how == "no-1":
        await ami.respond(ami.calls[0]["action_id"], "Success", reason=4, channel="PJSIP/x-1")
        other, _ = holding.dispatcher("inst-b")  # the press-1 route ran on another instance
        other_ami = other.ami
        await other.on_answer_result("cb", confirmed=False)
        assert other_ami.pauses() == [FREED]  # type: ignore[attr-defined]
        return
    assert ami.pauses() == [HELD, FREED]


async def test_a_crashed_dialers_hold_is_released_by_the_next_leader(holding: World) -> None:
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    a, ami_a = holding.dispatcher("inst-a", lease_ttl_s=0.3)
    assert await a.tick() == ["cb"]  # then inst-a dies: the agent stays paused
    assert ami_a.pauses() == [HELD]
    await until(lambda: lease_expired(a.lease))
    b, ami_b = holding.dispatcher("inst-b", lease_ttl_s=0.3)
    assert await b.tick() == []  # a's claim still runs: the agent stays held
    assert ami_b.pauses() == []
    holding.clock.t = (await holding.status("cb")).dialing_until
    assert await b.tick() == ["cb"]  # the claim expired: released, then held and dialled again
    assert ami_b.pauses() == [FREED, HELD]


async def test_a_crash_after_the_citizens_1_is_connected_not_redialled(holding: World) -> None:
    """inst-a dialled, the citizen pressed 1 (accepted) and inst-a died during
    "connecting you", before reporting: the next leader keeps the agent held while the
    claim, shortened to a grace after the 1, runs, then closes the request as connected
    (the dialplan queued the citizen), lets the agent go, and never dials it again."""
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    a, ami_a = holding.dispatcher("inst-a", lease_ttl_s=0.3)
    assert await a.tick() == ["cb"]
    await ami_a.respond(ami_a.calls[0]["action_id"], "Success", reason=4, channel="PJSIP/x-1")
    heard = T0 + 8
    await holding.store.accept("cb", "inst-a", heard + 30, attempt=1, now=heard)
    await until(lambda: lease_expired(a.lease))  # then inst-a dies
    b, ami_b = holding.dispatcher("inst-b", lease_ttl_s=0.3)
    holding.clock.t = heard + 29
    assert await b.tick() == []
    assert ami_b.pauses() == []  # held while the report may still come
    holding.clock.t = heard + 30
    assert await b.tick() == []  # not dialled again
    req = await holding.status("cb")
    assert (req.status, req.attempts) == (CallbackStatus.CONNECTED, 1)
    assert ami_b.pauses() == [FREED]  # the citizen is at the head of the queue
    holding.clock.t = T0 + 3600
    for _ in range(3):
        assert await b.tick() == []
    assert holding.originated_ids() == ["cb"]


async def test_a_supervisors_pause_is_never_undone(holding: World) -> None:
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = holding.dispatcher()
    await d.tick()
    agent = holding.states["complaint"].agents["PJSIP/agent1"]
    agent.paused_reason = "lunch"  # paused again by a supervisor meanwhile
    await ami.respond(ami.calls[0]["action_id"], "Failure", reason=3)
    assert ami.pauses() == [HELD]
    assert agent.paused_reason == "lunch"


async def test_a_stale_hold_without_a_request_is_released(holding: World) -> None:
    agent = holding.states["complaint"].agents["PJSIP/agent1"]
    agent.state, agent.paused_reason = AgentState.PAUSED, "ivr-callback:gone"
    d, ami = holding.dispatcher()
    assert await d.tick() == []
    assert ami.pauses() == [FREED]


async def test_without_holding_no_agent_is_paused(world: World) -> None:
    await world.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = world.dispatcher()
    assert await d.tick() == ["cb"]
    assert ami.pauses() == []


async def test_a_held_agent_is_not_counted_twice(holding: World) -> None:
    holding.states["complaint"] = queue_with(2)
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = holding.dispatcher()
    assert await d.tick() == ["cb"]
    await holding.store.create(request_for("cb2", T0 - 100, "0810000002"))
    # agent1 is held (paused) for cb: agent2 is free for cb2
    assert await d.tick() == ["cb2"]
    assert ami.pauses() == [HELD, ("PJSIP/agent2", "true", "ivr-callback:cb2")]


async def test_a_stopping_dispatcher_lets_its_held_agents_go(holding: World) -> None:
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = holding.dispatcher()
    assert await d.tick() == ["cb"]
    await d.close()
    assert ami.pauses() == [HELD, FREED]
    assert (await holding.status("cb")).status is CallbackStatus.DIALING  # the claim stays


async def test_an_agent_of_two_queues_is_held_in_both_and_released_in_both(
    holding: World,
) -> None:
    shared = Agent(interface="PJSIP/agent1", state=AgentState.AVAILABLE)
    holding.states["operator"] = replace(queue_with(0), name="operator")
    holding.states["operator"].agents["PJSIP/agent1"] = replace(shared)
    await holding.store.create(request_for("cb", T0 - 200, "0810000001"))
    d, ami = holding.dispatcher()
    assert await d.tick() == ["cb"]
    [held] = [a for a in ami.actions if a["Paused"] == "true"]
    assert "Queue" not in held  # paused in every queue: the operator line cannot take it
    op = holding.states["operator"].agents["PJSIP/agent1"]
    assert (op.state, op.paused_reason) == (AgentState.PAUSED, "ivr-callback:cb")
    await ami.respond(ami.calls[0]["action_id"], "Failure", reason=3)
    released = sorted(a["Queue"] for a in ami.actions if a["Paused"] == "false")
    assert released == ["complaint", "operator"]
    assert op.state is AgentState.AVAILABLE
