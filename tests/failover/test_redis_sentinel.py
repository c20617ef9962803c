"""Redis with Sentinel (README "Redis Sentinel"): the primary is killed with SIGKILL
while simulated citizens walk the menus, wait in a queue and book callbacks, and
while callbacks are dialled; the server follows the sentinels to the promoted
replica. Counted and printed: calls cut off (must be 0), callers who reached a
queue, callbacks lost or dialled twice (must be 0), traces written, and the seconds
until the server writes again.

The HA Redis (one primary, one replica, three sentinels: ivr.sandbox.sentinel) runs
beside the shared sandbox Redis, on ports of its own; the server under test is a
HotlineApp in this process, configured with the sentinels only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.ami.client import AmiClient
from ivr.ami.events import AnyEvent
from ivr.app import HotlineApp
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.config import PROJECT_ROOT, Settings
from ivr.config_redis import redis_target
from ivr.sandbox.pbx import Sandbox
from ivr.sandbox.sentinel import SentinelSandbox
from ivr.sandbox.simcall import SimCall
from ivr.store.callbacks import CallbackStore
from ivr.store.client import redis_client
from ivr.store.events import StoredEvent
from tests.integration.conftest import SimCaller
from tests.integration.test_queue_waiting import PJSIP_AGENTS, QUEUE
from tests.until import until

CALLERS = 12  # simulated citizens, one every CALLER_GAP_S; every other one books a callback
CALLER_GAP_S = 5.0
BOOKED_BEFORE = 6  # callbacks of the operator queue pending when the test starts
CALLBACK_QUEUE = "operator"
OPERATOR_PJSIP = [f"PJSIP/agent{i}" for i in range(5, 9)]


@pytest.fixture
def ha(sandbox: Sandbox) -> Iterator[SentinelSandbox]:
    """The HA Redis, in a folder of its own; stopped after the test."""
    with SentinelSandbox(PROJECT_ROOT / "var" / "sentinel") as h:
        yield h


@pytest.fixture
def settings(settings: Settings, ha: SentinelSandbox) -> Settings:
    """The sentinels only (url gives the database); quick callbacks through simulated
    citizens; a caller of a queue with nobody staffed is offered a callback."""
    return replace(
        settings,
        redis_url="redis://127.0.0.1:6379/0",  # with sentinels: only its /0 counts
        redis_sentinels=ha.sentinels,
        redis_service=ha.service,
        callback_dial_template="Local/{number}@sim-citizen",
        callback_ring_timeout_s=6,
        callback_retry_delay_s=1,
        callback_tick_s=0.3,
        callback_threshold_s=-1,  # offer whenever a wait can be estimated
        no_agent="callback",
        paused_grace_s=0,  # members all paused: nobody staffed
    )


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    """The tests' own client (traces, checks) follows the sentinels as the server's does."""
    r = redis_client(redis_target(settings))
    try:
        yield r
    finally:
        await r.aclose()


CALLER = "Local/s@sim-caller"  # a simulated citizen calling in (ivr.sandbox.simcall)
CITIZEN = "@sim-citizen"  # a citizen called back (the callbacks' dial template)


@dataclass
class Ledger:
    """What the AMI showed of each call: the citizens calling in (their ``;1``
    channels, the hotline's side) and the citizens called back."""

    started: set[str] = field(default_factory=set)  # callers' channels created
    joined: set[str] = field(default_factory=set)  # ... that joined a queue in Asterisk
    served: set[str] = field(default_factory=set)  # ... connected to an agent
    booked: set[str] = field(default_factory=set)  # ... that left with a callback booked
    hung_up: set[str] = field(default_factory=set)
    dialled: list[str] = field(default_factory=list)  # citizens rung back, in order

    def on(self, e: AnyEvent) -> None:
        channel = e.get("Channel")
        if not channel.endswith(";1") or not (channel.startswith(CALLER) or CITIZEN in channel):
            return
        if e.name == "Newchannel":
            (self.started.add if channel.startswith(CALLER) else self.dialled.append)(channel)
        elif e.name == "QueueCallerJoin":
            self.joined.add(channel)
        elif e.name == "AgentConnect":
            self.served.add(channel)
        elif e.name == "UserEvent" and e.get("UserEvent") == "IvrCallbackBooked":
            self.booked.add(channel)
        elif e.name == "Hangup":
            self.hung_up.add(channel)

    def callers(self, *states: set[str]) -> set[str]:
        """Callers' channels in any of ``states`` (every caller's with none)."""
        every = {c for c in self.started | self.joined if c.startswith(CALLER)}
        return every & set().union(*states) if states else every

    def dials_of(self, number: str) -> int:
        return sum(1 for ch in self.dialled if ch.startswith(f"Local/{number}@"))

    def now(self) -> dict[str, int]:
        """Where the calls are at this moment."""
        in_line = self.callers(self.joined) - self.hung_up
        return {
            # in the menus, or at the queue's first turn (before joining it in Asterisk)
            "in_menus": len(self.callers() - self.joined - self.booked - self.hung_up),
            "in_line": len(in_line - self.served),
            "booked": len(self.callers(self.booked)),
            "callbacks_ringing": len(set(self.dialled) - self.hung_up),
        }


@dataclass
class Staff:
    """Simulated agents: ``line`` paused in the callers' queue (nobody staffed there
    until :meth:`come`), ``callbacks`` ready in the callbacks' queue."""

    line: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)


@pytest.fixture
async def staff(ami: AmiClient) -> AsyncIterator[Staff]:
    """Nobody waiting; the SIP agents paused; simulated agents added (removed after);
    the waiting loop's turns every 3 s."""
    for queue in (QUEUE, CALLBACK_QUEUE):
        reply = await ami.action("QueueStatus", Queue=queue)
        for entry in reply if isinstance(reply, list) else []:
            if entry.get("Event") == "QueueEntry":
                await ami.action("Hangup", Channel=entry["Channel"])
    sip = [(a, QUEUE) for a in PJSIP_AGENTS] + [(a, CALLBACK_QUEUE) for a in OPERATOR_PJSIP]
    for a, queue in sip:
        await ami.action("QueuePause", Interface=a, Queue=queue, Paused="true")
    await ami.action("Setvar", Variable="IVR_QUEUE_INTERVAL", Value="3")
    staff = Staff()
    added: list[tuple[str, str]] = []
    for n in range(3):
        name, member = f"haline{n}", f"Local/haline{n}@sim-agent/n"
        await ami.action("QueueAdd", Queue=QUEUE, Interface=member, MemberName=name, Paused="true")
        staff.line.append(member)
        added.append((member, QUEUE))
    for n in range(2):
        name, member = f"hacb{n}", f"Local/hacb{n}@sim-agent/n"
        await ami.action("QueueAdd", Queue=CALLBACK_QUEUE, Interface=member, MemberName=name)
        staff.callbacks.append(member)
        added.append((member, CALLBACK_QUEUE))
    try:
        yield staff
    finally:
        for member, queue in added:
            await ami.action("QueueRemove", Queue=queue, Interface=member)
        for a, queue in sip:
            await ami.action("QueuePause", Interface=a, Queue=queue, Paused="false")
        await ami.action("Setvar", Variable="IVR_QUEUE_INTERVAL", Value="30")


async def book_before(app: HotlineApp) -> list[CallbackRequest]:
    """Callbacks of the operator queue already pending (booked through the server's
    store: a replica has them), dialled from the start, two at a time."""
    now = time.time()
    out = []
    for n in range(BOOKED_BEFORE):
        req = CallbackRequest(  # 7: the citizen takes 12 s to press 1 (calls in progress)
            id=f"ha-before-{n}", queue=CALLBACK_QUEUE, hotline="1111", number=f"08620000{n}7",
            arrived_at=now - 300 + n, requested_at=now - 200 + n,
        )  # fmt: skip
        assert (await app.callbacks.create(req)).created
        out.append(req)
    return out


async def one_caller(call: SimCaller, n: int) -> SimCall:
    """Caller ``n``: walks the menu to the complaint queue (2), where nobody is staffed
    yet; the even ones accept the callback offer (1) and confirm their number (1), the
    odd ones let it pass and wait in line."""
    await asyncio.sleep(n * CALLER_GAP_S)
    number = f"0812{n:05d}1"  # ends in 1: answers a callback and presses 1
    if n % 2 == 0:
        return await call("1111", "211", caller=number, keep=True, limit_s=240,
                          until=lambda c: c.hung_up or bool(c.queue))  # fmt: skip
    return await call("1111", "2", caller=number, keep=True, limit_s=240,
                      until=lambda c: bool(c.queue) or c.hung_up)  # fmt: skip


def drain(queue: asyncio.Queue[StoredEvent]) -> list[StoredEvent]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


async def writes_again(app: HotlineApp, killed_at: float) -> float:
    """Seconds from the kill until a write through the server's own client succeeds."""
    while True:
        try:
            await app.redis.set("ivr:failover:probe", str(time.time()))
            return time.monotonic() - killed_at
        except (RedisError, OSError):
            await asyncio.sleep(0.05)


@pytest.mark.timeout(480)
async def test_killing_the_redis_primary_loses_no_call_and_no_callback(
    settings: Settings, ha: SentinelSandbox, ami: AmiClient, call: SimCaller,
    staff: Staff, redis: Redis,
) -> None:  # fmt: skip
    ledger = Ledger()
    for name in ("QueueCallerJoin", "AgentConnect", "UserEvent", "Hangup", "Newchannel"):
        ami.subscribe(name, ledger.on)
    app = HotlineApp(settings)
    await app.start()
    callers: list[asyncio.Task[SimCall]] = []
    try:
        before = await book_before(app)
        callers = [asyncio.create_task(one_caller(call, n)) for n in range(CALLERS)]
        # callers in the menus and in the line, callbacks being dialled: kill the primary
        await until(
            lambda: (
                (n := ledger.now())["in_menus"] and n["in_line"] >= 2 and n["callbacks_ringing"]
            ),
            120,
            "callers in the menus and in the line, and a callback being dialled",
        )
        stream = app.stream.subscribe(lambda: None)  # the live stream, as a wallboard reads it
        at_kill = ledger.now() | {
            "not_called_yet": CALLERS - len(ledger.callers()),
            "called_back": len(set(ledger.dialled)),
        }
        old = await asyncio.to_thread(ha.kill_primary)
        killed_at, kill_ms = time.monotonic(), int(time.time() * 1000)
        back_s = await writes_again(app, killed_at)
        new = await asyncio.to_thread(ha.wait_primary, old)
        done = await asyncio.gather(*callers)  # every caller in line or booked
        for member in staff.line:  # agents come: the line is served, callbacks dialled
            await ami.action("QueuePause", Interface=member, Queue=QUEUE, Paused="false")
        figures = await settle_and_count(app, redis, ledger, before, done)
        # the background parts on the new primary: the stream's XREAD reader delivered the
        # changes published after the kill, the history outbox was drained, a lease held
        after_kill = {ev.id for ev in drain(stream.queue) if int(ev.id.split("-")[0]) > kill_ms}
        history = await app.history.sink.status() if app.history else {}
        await until(lambda: app.dispatcher.lease.is_leader, 10, "the dispatcher leading")
        # the old primary comes back: a replica again, which confirms what was kept
        await asyncio.to_thread(ha.restart, old)
        kept = app.replication.unconfirmed if app.replication else 0
        await until(lambda: app.replication and not app.replication.pending, 60, "kept confirmed")
    finally:
        for t in callers:
            t.cancel()
        await asyncio.gather(*callers, return_exceptions=True)
        await app.stop()
        for channel in ledger.callers(ledger.joined) - ledger.hung_up:
            await ami.action("Hangup", Channel=channel)
    rep = app.replication
    assert rep is not None and rep.primary is not None
    watch = rep.primary
    switched = watch.switched_at
    print(
        f"\n== Redis Sentinel fail-over: primary :{old} killed (SIGKILL), :{new} promoted\n"
        f"   at the kill: {at_kill['in_menus']} callers in the menus or at the queue's first "
        f"turn (the callback offer), {at_kill['in_line']} waiting in line, {at_kill['booked']} "
        f"had booked a callback, {at_kill['not_called_yet']} yet to call; "
        f"{at_kill['callbacks_ringing']} citizens being called back "
        f"({at_kill['called_back']} called back so far)\n"
        f"   calls cut off: {figures['cut_off']}\n"
        f"   callers who reached a queue: {figures['reached_queue']} of {CALLERS} "
        f"({figures['waited']} waited in line, {figures['booked']} booked a callback there; "
        f"{figures['refused']} told their booking could not be made, who kept their place)\n"
        f"   callbacks: {figures['callbacks']} booked, {figures['connected']} connected, "
        f"lost {figures['lost']}, dialled twice {figures['twice']}\n"
        f"   traces written: {figures['traces']} of {CALLERS} "
        f"(waiting in memory at the end: {app.traces.pending})\n"
        f"   seconds until the server writes again: {back_s:.2f} "
        f"(new primary seen by the server after {(switched or killed_at) - killed_at:.2f} s)\n"
        f"   after the switch: {len(after_kill)} live-stream events read by the server's "
        f"XREAD reader; history records written {history.get('written')}, "
        f"waiting {history.get('waiting')}\n"
        f"   callback changes a replica confirmed at once: {rep.confirmed}; kept, as no replica "
        f"was left after the kill: {kept}, settled once :{old} was back as a replica "
        f"({rep.reapplied} confirmed by it, the others no longer needed)\n"
    )
    assert figures["cut_off"] == 0
    assert figures["lost"] == 0 and figures["twice"] == 0
    assert figures["connected"] == figures["callbacks"]
    assert figures["reached_queue"] == CALLERS
    assert watch.switches == 1
    assert figures["traces"] == CALLERS
    assert after_kill, "the live stream was read again after the switch"


async def settle_and_count(
    app: HotlineApp,
    redis: Redis,
    ledger: Ledger,
    before: list[CallbackRequest],
    calls: list[SimCall],
) -> dict[str, int]:
    """Wait (a bounded time) until every callback booked is connected and every caller
    in line served, then count what the citizens lost."""
    store = CallbackStore(redis)
    booked_calls = [c for c in calls if c.channel in ledger.booked]
    waited = [c for c in calls if c.channel not in ledger.booked]
    requests: dict[str, CallbackRequest] = {}  # every booking found, by id

    async def settled() -> bool:
        recent = await store.list_recent(limit=500)
        mine = {r.id for r in before} | {r.id for r in recent if r.call_uniqueid in uids}
        requests.update({r.id: r for r in recent if r.id in mine})
        return all(r.status is CallbackStatus.CONNECTED for r in requests.values()) and all(
            c.channel in ledger.served for c in waited
        )

    uids = {c.uniqueid for c in booked_calls}
    with contextlib.suppress(AssertionError):  # counted below either way
        await until(settled, 180, "every callback connected and every caller in line served")
    found = {r.call_uniqueid for r in requests.values()}
    traces = [await app.traces.get(c.uniqueid) for c in calls]
    cut_off = [
        c for c in calls
        if c.channel in ledger.hung_up and c.channel not in ledger.served | ledger.booked
    ]  # fmt: skip
    numbers = [r.number for r in requests.values()]
    return {
        "cut_off": len(cut_off),
        "reached_queue": sum(1 for c in calls if c.channel in ledger.joined | ledger.booked),
        "waited": sum(1 for c in waited if c.channel in ledger.joined),
        "booked": len(booked_calls),
        # accepted the offer while Redis was switching: told so, kept their place in line
        "refused": sum(
            1 for c in calls if any(p.endswith("callback-not-booked") for p in c.prompts_started())
        ),
        "callbacks": len(before) + len(booked_calls),
        "connected": sum(1 for r in requests.values() if r.status is CallbackStatus.CONNECTED),
        "lost": sum(1 for r in before if r.id not in requests)
        + sum(1 for c in booked_calls if c.uniqueid not in found),
        "twice": sum(1 for n in numbers if ledger.dials_of(n) > 1),
        "traces": sum(1 for t in traces if t is not None),
    }
