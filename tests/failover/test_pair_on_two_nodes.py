"""Two application instances serving two Asterisk nodes behind Kamailio: one instance
killed with SIGKILL, then one node (README "Two Asterisk nodes behind Kamailio").

The sandbox's Asterisk (node a) and node b (:mod:`ivr.sandbox.second_node`) take the
SIP calls Kamailio spreads over them (:mod:`tests.failover.two_nodes`). Each node's
dialplan reaches the application through FastAGI fail-over, ``IVR_AGI =
hagi://ivr-agi.internal/<node>``: the SRV records (:mod:`ivr.sandbox.dns`) list
instance A (``ivr serve``, started first: it holds every lease, ``callbacks@a``,
``callbacks@b``, ``queue-events``, ``history``) and instance B. Both have
``[ami.nodes]`` a and b, the same Redis, the same settings
(:mod:`tests.failover.two_instances`).

1. SIPp citizens (2 a second, digit 2 as SIP INFO) walk hotline 1111 into the
   complaint queue on both nodes (nobody staffed: each waits, then hangs up itself);
   six callbacks of ``after-hours``, where simulated agents answer on both nodes, are
   dialled through whichever node has an agent free. Once callers are in the menus
   of both nodes and the citizens called back are at their question, A gets SIGKILL
   and new citizens call at once. Counted: calls cut off (0), callers who reached a
   queue, callbacks lost or dialled twice (0), seconds until B served a new call on
   each node, the leases B took over, and B's API showing each node's queues and the
   total.
2. Node b's Asterisk is then killed during calls, counted as the two-node proof
   counts it (:func:`tests.failover.two_nodes.prove`): new calls go to node a, served
   by B, the only instance left.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient, AmiError
from ivr.app import HotlineApp
from ivr.app_node import lease_name
from ivr.config import Settings
from ivr.sandbox import dns
from ivr.store.tokens import TokenStore
from tests.failover.agi_watch import Citizen, Watch, callbacks_at_their_question, get_json
from tests.failover.killable import serve
from tests.failover.two_instances import (
    CALLBACKS,
    all_connected,
    book_callbacks,
    hang_up_all,
    healthy,
    instance_a,
    instance_b,
    led_by,
    node_globals,
    takeovers,
)
from tests.failover.two_nodes import Rig, check, prove, report, sipp, waiting
from tests.until import until

pytestmark = [pytest.mark.sandbox, pytest.mark.sip]

CALLERS, NEW = 36, 6  # before the kill (and on through it), then at once after it
RATE, HOLD_S = 2, 30  # calls a second; seconds in the queue after the digit
QUEUE = "after-hours"  # the callbacks' queue, staffed on both nodes
AGENTS = ("fo-h1", "fo-h2")  # simulated agents of QUEUE on each node
LEASES = ("callbacks@a", "callbacks@b", "queue-events", "history")
assert LEASES[:2] == (lease_name("callbacks", "a"), lease_name("callbacks", "b"))


def node_values(node: str) -> dict[str, str]:
    """A node's dialplan globals during the test (put back after)."""
    return {
        "IVR_AGI": f"hagi://{dns.DOMAIN}/{node}",  # the pair, this node's routes
        "IVR_QUEUE_INTERVAL": "5",  # callers leave Queue() for the queue-wait route often
        "SIM_PRESS_AGAIN": "1",  # a citizen called back and asked again presses 1 again
    }


@pytest.fixture
def settings(base_settings: Settings, rig: Rig, tmp_path: Path) -> Settings:
    """Instance B's settings with both nodes; A reads the same file (``[ami.nodes]``)."""
    ports = dict(zip(rig.names, rig.ami_ports, strict=True))
    source = tmp_path / "ivr-nodes.toml"
    tables = "".join(f"\n[ami.nodes.{n}]\nport = {p}\n" for n, p in ports.items())
    source.write_text(Path(base_settings.source).read_text("utf-8") + tables, "utf-8")
    nodes = {n: {"port": p} for n, p in ports.items()}
    return replace(instance_b(base_settings, tmp_path), source=str(source), ami_nodes=nodes)


@pytest.fixture
async def amis(rig: Rig, settings: Settings) -> AsyncIterator[dict[str, AmiClient]]:
    """The test's own AMI client of each node."""
    s, clients = settings, {}
    try:
        for node, port in zip(rig.names, rig.ami_ports, strict=True):
            clients[node] = AmiClient(s.ami_host, port, s.ami_username, s.ami_secret)
            await clients[node].start()
        yield clients
    finally:
        for client in clients.values():
            await client.close()


@pytest.fixture
async def lines(amis: dict[str, AmiClient], redis: Redis, resolver: None) -> AsyncIterator[None]:
    """hagi:// on each node, agents of QUEUE on each node, an empty database; all put
    back (what is left of a killed node goes with it)."""
    await redis.flushdb()
    async with contextlib.AsyncExitStack() as stack:
        for node, ami in amis.items():
            await stack.enter_async_context(node_globals(ami, node_values(node)))
            for name in AGENTS:
                await ami.action("QueueAdd", Queue=QUEUE, Interface=f"Local/{name}@sim-agent/n")
        try:
            yield
        finally:
            for ami in amis.values():
                for name in AGENTS:
                    with contextlib.suppress(AmiError):
                        iface = f"Local/{name}@sim-agent/n"
                        await ami.action("QueueRemove", Queue=QUEUE, Interface=iface)
    await redis.flushdb()


def _sip(w: Watch) -> list[Citizen]:
    return [c for c in w.citizens.values() if c.kind == "sip"]


def _in_line(w: Watch) -> int:
    """Citizens in a queue on a node now, waiting (as the API counts them)."""
    return sum(bool(c.queue) and c.ended is None and not c.answered for c in w.citizens.values())


def _the_moment(watches: Mapping[str, Watch]) -> bool:
    """Callers in the menus and waiting on both nodes, citizens called back at their
    question: the moment to kill A."""
    menus = all(w.busy()[f"{n}/hotline"] >= 1 for n, w in watches.items())
    waiting_ = all(any(c.queue and c.ended is None for c in _sip(w)) for w in watches.values())
    return menus and waiting_ and callbacks_at_their_question(watches.values())


def _first_new(w: Watch, killed: float) -> Citizen | None:
    """The first SIP call on a node that started after the kill, once it heard a prompt."""
    new = sorted((c for c in _sip(w) if c.started >= killed), key=lambda c: c.started)
    return new[0] if new and new[0].first_prompt is not None else None


async def _api_shows_every_node(
    base: str, token: str, watches: Mapping[str, Watch], seen: dict[str, Any]
) -> bool:
    """B's ``/api/queues``: both nodes connected, each node's callers as Asterisk has
    them, and the totals their sum."""
    status, body = await get_json(base, "/api/queues", token)
    if status != 200 or not body:
        return False
    seen.update(
        body=body, waiting=waiting(body), asterisk={n: _in_line(w) for n, w in watches.items()}
    )
    up = all(n["connected"] for n in body["nodes"]) and len(body["nodes"]) == len(watches)
    each = all(seen["waiting"].get(n, 0) == seen["asterisk"][n] for n in watches)
    total = seen["waiting"]["total"] == sum(seen["waiting"].get(n, 0) for n in watches)
    return up and each and total and seen["waiting"]["total"] > 0


async def _instance_killed(
    proc: asyncio.subprocess.Process,
    b: HotlineApp,
    rig: Rig,
    watches: dict[str, Watch],
    redis: Redis,
    tmp: Path,
) -> dict[str, Any]:
    """The calls, A's kill, what the citizens lost (one piece: the story of part 1)."""
    ports = {str(p): n for p, n in zip(rig.sip_ports, rig.names, strict=True)}
    during = await sipp(rig, tmp / "during", CALLERS, RATE, HOLD_S, 5083)
    await until(lambda: all(any(c.queue for c in _sip(w)) for w in watches.values()),
                within=90, what="callers waiting on both nodes")  # fmt: skip
    numbers = await book_callbacks(redis, QUEUE)
    await until(lambda: _the_moment(watches), within=120, what="A busy on both nodes")
    at_kill = {n: Counter(route for route, _ in w.in_agi.values()) for n, w in watches.items()}
    killed = time.time()
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    new = await sipp(rig, tmp / "new", NEW, RATE, 20, 5084)
    taking = asyncio.create_task(takeovers(redis, killed, LEASES))
    first: dict[str, Citizen] = {}
    for n, w in watches.items():
        first[n] = await until(lambda w=w: _first_new(w, killed), 60, f"B serving node {n}")
    taken = await asyncio.wait_for(taking, 60)
    token, _ = await TokenStore(redis).create("supervisor", "fail-over proof")
    api: dict[str, Any] = {}
    base = f"http://127.0.0.1:{b.settings.http_port}"
    await until(lambda: _api_shows_every_node(base, token, watches, api), 30, "B's API")
    await asyncio.wait_for(asyncio.gather(during.proc.wait(), new.proc.wait()), HOLD_S + 120)
    done = await until(lambda: all_connected(redis), within=240, what="every callback connected")
    return {
        "calls": {**during.calls(ports), **new.calls(ports)}, "at_kill": at_kill,
        "killed": killed, "first": first, "taken": taken, "api": api, "numbers": numbers,
        "connected": done, "watches": watches,
    }  # fmt: skip


def _figures(r: dict[str, Any]) -> list[str]:
    """The lines part 1 prints (README "Two Asterisk nodes behind Kamailio")."""
    watches: dict[str, Watch] = r["watches"]
    killed, calls = r["killed"], r["calls"]
    lines = ["== two instances on two nodes: instance A killed (SIGKILL), B serving both"]
    for n, w in watches.items():
        sip = _sip(w)
        on_node = [c for c in calls.values() if c.get("node") == n]
        before = [c for c in sip if c.started < killed and c.first_prompt is not None]
        baseline = statistics.median(c.first_prompt - c.started for c in before)  # type: ignore[operator]
        new = r["first"][n]
        lines += [
            f"node {n}: SIP calls {len(on_node)}, cut off "
            f"{sum(not c.get('ok') for c in on_node)}; reached a queue "
            f"{sum(bool(c.queue) for c in sip)} of {len(sip)} (fallback to the default queue "
            f"{sum(c.fallback for c in sip)}); in an AGI of A at the kill: "
            + ", ".join(f"{k} {v}" for k, v in sorted(r["at_kill"][n].items())),
            f"  B's first prompt to a new call: {new.first_prompt - killed:.2f} s after the kill"
            f" ({new.first_prompt - new.started:.2f} s after its channel; before the kill: "
            f"median {baseline:.2f} s)",
        ]
    dialled: Counter[str] = Counter()
    for w in watches.values():
        dialled.update(w.dialled)
    callbacks = [c for w in watches.values() for c in w.citizens.values() if c.kind == "callback"]
    by_node = {n: sum(w.dialled.values()) for n, w in watches.items()}
    lines += [
        f"callbacks: {CALLBACKS}, dialled through "
        + ", ".join(f"node {n} {k}" for n, k in by_node.items())
        + f"; lost {CALLBACKS - len(r['connected'])}, dialled twice "
        f"{sum(dialled[x] > 1 for x in r['numbers'])}; asked again by B "
        f"{sum(c.asked_again for c in callbacks)}; cut off {sum(c.cut_off() for c in callbacks)}",
        "leases taken over by B: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["taken"].items()),
        f"B's API after the kill: callers waiting {r['api']['waiting']} (Asterisk: "
        f"{r['api']['asterisk']}), nodes {r['api']['body']['nodes']}",
    ]
    return lines


@pytest.mark.timeout(540)
async def test_two_instances_on_two_nodes_lose_no_call_when_one_instance_then_one_node_dies(
    settings: Settings,
    rig: Rig,
    amis: dict[str, AmiClient],
    redis: Redis,
    lines: None,
    tmp_path: Path,
) -> None:
    watches = {n: Watch(ami) for n, ami in amis.items()}
    async with serve(settings, instance_a(settings), tmp_path / "ivr-a.log") as (proc, a_base):
        b: HotlineApp | None = None
        try:
            await until(lambda: healthy(a_base), within=60, what="instance A serving")
            await until(lambda: led_by(redis, "ivr-a", LEASES), 30, "A holding every lease")
            b = HotlineApp(settings)
            await b.start()
            one = await _instance_killed(proc, b, rig, watches, redis, tmp_path)
            figures, problems = _figures(one), _problems(one)
            print("\n" + "\n".join(figures))
            served_before = b.agi.stats["calls_started"]
            two = await prove(b, rig, settings, tmp_path / "node-kill")
            print(report(two))
            part_two = b.agi.stats["calls_started"] - served_before
            print(f"FastAGI calls B served during part 2: {part_two}")
            (tmp_path / "figures.txt").write_text("\n".join(figures) + report(two) + "\n", "utf-8")
        finally:
            for n, w in watches.items():
                w.closing = True
                await hang_up_all(amis[n], w)
                w.close()
            if b is not None:
                await b.stop()
    assert problems == []
    check(two, rig)


def _problems(r: dict[str, Any]) -> list[str]:
    """What part 1 must not have found, read as soon as it ends (part 2 adds calls)."""
    watches: dict[str, Watch] = r["watches"]
    calls, out = r["calls"], []
    if len(calls) != CALLERS + NEW:
        out.append(f"{CALLERS + NEW} SIP calls placed, {len(calls)} logged")
    if not all(sum(c.get("node") == n for c in calls.values()) > 0 for n in watches):
        out.append("Kamailio spread no calls")
    out += [f"SIP call cut off: {k}" for k, c in calls.items() if not c.get("ok")]
    for n, w in watches.items():
        out += [f"node {n}: {c} reached no queue" for c in _sip(w) if not c.queue]
        if sum(r["at_kill"][n].values()) == 0:
            out.append(f"no call of node {n} in an AGI of A at the kill")
        if r["first"][n].first_prompt - r["killed"] >= 10:
            out.append(f"node {n}: B served no new call within 10 s")
    dialled: Counter[str] = Counter()
    for w in watches.values():
        dialled.update(w.dialled)
    out += [f"callback {x} dialled {dialled[x]} times" for x in r["numbers"] if dialled[x] != 1]
    out += [f"callback {c.id} attempts {c.attempts}" for c in r["connected"] if c.attempts != 1]
    callbacks = [c for w in watches.values() for c in w.citizens.values() if c.kind == "callback"]
    out += [f"citizen called back cut off: {c}" for c in callbacks if c.cut_off()]
    if max(r["taken"].values()) >= 30:
        out.append(f"leases taken over late: {r['taken']}")
    return out
