"""What the proofs of several Asterisk nodes behind Kamailio share: node b and
Kamailio beside the sandbox's Asterisk (the ``rig`` fixture), SIPp citizens through
Kamailio (``citizen_waits.xml``), the callers each node's AMI saw reach a queue, the
server's API view of them, and the story of a node killed with SIGKILL while calls wait
(:func:`prove`, :func:`report`, :func:`check`)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ivr.ami.client import AmiClient
from ivr.ami.events import QueueCallerJoin
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.sandbox.kamailio import NODES, Kamailio
from ivr.sandbox.pbx import Sandbox
from ivr.sandbox.second_node import NODE_B, SecondNode
from ivr.store.tokens import TokenStore
from tests.until import until

SCENARIO = Path(__file__).with_name("citizen_waits.xml")
BEFORE = 16  # calls placed before the kill (4 a second), each waiting HOLD_S
HOLD_S = 75
AFTER = 8  # calls placed from the kill on (2 a second)
AFTER_HOLD_S = 25


@dataclass
class Rig:
    """Two nodes behind Kamailio: the survivor first, then the node killed."""

    names: tuple[str, str]  # ("a", "b")
    ami_ports: tuple[int, int]
    sip_ports: tuple[int, int]  # the port of each node's 200 OK Contact
    proxy: Kamailio
    kill: Callable[[], object]  # SIGKILL the second node's Asterisk

    @property
    def killed_uri(self) -> str:
        return self.proxy.node_uris[1]


@dataclass
class Joins:
    """Callers who reached a queue, by node (QueueCallerJoin of the SIP channels)."""

    by_node: dict[str, dict[str, float]] = field(default_factory=dict)

    def watch(self, node: str) -> Callable[[QueueCallerJoin], None]:
        seen_here = self.by_node.setdefault(node, {})

        def seen(event: QueueCallerJoin) -> None:
            if event.channel.startswith("PJSIP/anonymous"):
                seen_here.setdefault(event.uniqueid, time.monotonic())

        return seen

    def count(self, node: str = "") -> int:
        return sum(len(v) for n, v in self.by_node.items() if not node or n == node)


@dataclass
class SippRun:
    """One SIPp run: its process, and what each call logged (node port, "ok")."""

    folder: Path
    proc: asyncio.subprocess.Process

    def calls(self, ports: dict[str, str]) -> dict[str, dict[str, str]]:
        """{call id: {"node": name, "ok": "1"}} from the scenario's log lines."""
        out: dict[str, dict[str, str]] = {}
        for log in self.folder.glob("*_logs.log"):
            for line in log.read_text(errors="replace").splitlines():
                if m := re.match(r"^(\S+) node-port (\d+)", line):
                    out.setdefault(m[1], {})["node"] = ports.get(m[2], m[2])
                elif m := re.match(r"^(\S+) ok$", line):
                    out.setdefault(m[1], {})["ok"] = "1"
        return out


async def sipp(rig: Rig, folder: Path, calls: int, rate: float, hold_s: int, port: int) -> SippRun:
    await asyncio.to_thread(folder.mkdir, parents=True)
    proc = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{rig.proxy.port}",
        "-sf", str(SCENARIO), "-s", "1111", "-i", "127.0.0.1", "-p", str(port),
        "-mp", str(16000 + port % 100 * 10), "-m", str(calls), "-l", str(calls),
        "-r", str(rate), "-d", str(hold_s * 1000), "-recv_timeout", "40s",
        "-timeout", f"{hold_s + 90}s", "-nostdin", "-trace_logs", "-trace_err",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, cwd=folder,
    )  # fmt: skip
    return SippRun(folder, proc)


async def api_queues(app: HotlineApp, token: str) -> dict[str, Any]:
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"http://{host}:{port}/api/queues", headers={"Authorization": f"Bearer {token}"}
        ) as r,
    ):
        assert r.status == 200
        body: dict[str, Any] = await r.json()
        return body


def waiting(body: dict[str, Any]) -> dict[str, int]:
    """Callers waiting per node, and the total over nodes ("total")."""
    out: dict[str, int] = {}
    for q in body["queues"]:
        out[q["node"]] = out.get(q["node"], 0) + q["callers_waiting"]
    out["total"] = sum(t["callers_waiting"] for t in body["totals"])
    return out


async def prove(app: HotlineApp, rig: Rig, settings: Settings, tmp: Path) -> dict[str, Any]:
    """Calls over both nodes, the second one killed, new calls: what was counted
    (one piece: the story of the proof, step by step)."""
    (a, b), proxy = rig.names, rig.proxy
    token, _ = await TokenStore(app.redis).create("supervisor", "fail-over proof")
    joins = Joins()
    watchers = [
        AmiClient(settings.ami_host, port, settings.ami_username, settings.ami_secret)
        for port in rig.ami_ports
    ]
    for node, ami in zip(rig.names, watchers, strict=True):
        ami.subscribe(QueueCallerJoin, joins.watch(node))
        await ami.start()
    runs: list[SippRun] = []
    shown: dict[str, int] = {}
    try:
        started = time.monotonic()
        runs.append(await sipp(rig, tmp / "before", BEFORE, 4, HOLD_S, 5081))
        await until(lambda: joins.count() >= BEFORE, within=120, what="every caller in a queue")
        before = {n: joins.count(n) for n in rig.names}
        walk_s = min(t for seen in joins.by_node.values() for t in seen.values()) - started

        async def api_shows_everyone() -> bool:
            shown.update(waiting(await api_queues(app, token)))
            each = all(shown.get(n, 0) >= before[n] for n in rig.names)  # (+ others' callers)
            return each and shown["total"] == sum(shown.get(n, 0) for n in rig.names)

        await until(api_shows_everyone, within=10, what="the API showing every caller")
        killed_at = time.monotonic()
        rig.kill()
        runs.append(await sipp(rig, tmp / "after", AFTER, 2, AFTER_HOLD_S, 5082))

        async def killed_down() -> bool:
            return (await asyncio.to_thread(proxy.nodes)).get(rig.killed_uri) != "AP"

        await until(killed_down, within=30, every=0.1, what="Kamailio marking the node down")
        down_s = time.monotonic() - killed_at
        await until(lambda: joins.count(a) >= before[a] + AFTER, within=120,
                    what="every new caller in the survivor's queue")  # fmt: skip
        first_new_s = sorted(joins.by_node[a].values())[before[a]] - killed_at
        after_kill = await api_queues(app, token)
        await asyncio.wait_for(asyncio.gather(*(r.proc.wait() for r in runs)), HOLD_S + 120)
    finally:
        for r in runs:
            with contextlib.suppress(ProcessLookupError):
                r.proc.kill()
        for ami in watchers:
            await ami.close()
    ports = {str(p): n for p, n in zip(rig.sip_ports, rig.names, strict=True)}
    first, new = runs[0].calls(ports), runs[1].calls(ports)
    log = proxy.log.read_text(errors="replace") if proxy.log.exists() else ""
    return {
        "before": before, "shown": shown, "down_s": down_s, "first_new_s": first_new_s,
        "walk_s": walk_s, "retried": log.count("did not take the call"),
        "agi": dict(app.agi.stats),
        "first": first, "new": new, "joins_after": joins.count(a) - before[a],
        "joins": joins.count(), "after_kill": after_kill, "survivor": a, "killed": b,
    }  # fmt: skip


def report(r: dict[str, Any]) -> str:
    a, b = r["survivor"], r["killed"]
    first, new = r["first"], r["new"]
    on_a = [c for c in first.values() if c.get("node") == a]
    on_b = [c for c in first.values() if c.get("node") == b]
    return (
        f"\n== two Asterisk nodes behind Kamailio, node {b} killed (SIGKILL)\n"
        f"calls before the kill: {len(first)} (node {a} {len(on_a)}, node {b} {len(on_b)}); "
        f"in a queue: node {a} {r['before'][a]}, node {b} {r['before'][b]}\n"
        f"API before the kill: callers waiting node {a} {r['shown'].get(a)}, "
        f"node {b} {r['shown'].get(b)}, total {r['shown']['total']}\n"
        f"calls cut off on the surviving node {a}: {sum(not c.get('ok') for c in on_a)}\n"
        f"calls that were on node {b}: {len(on_b)}, lost with the box: "
        f"{sum(not c.get('ok') for c in on_b)}\n"
        f"new calls after the kill: {len(new)}, reached node {a}'s queue: "
        f"{r['joins_after']}, ended normally on node {a}: "
        f"{sum(bool(c.get('ok')) and c.get('node') == a for c in new.values())}\n"
        f"callers who reached a queue: {r['joins']} of {len(first) + len(new)} calls\n"
        f"seconds until Kamailio sent new calls only to node {a}: {r['down_s']:.1f}; "
        f"new calls first sent to the dead node and passed on to node {a}: {r['retried']}\n"
        f"first new caller in node {a}'s queue {r['first_new_s']:.1f} s after the kill "
        f"(baseline, nothing killed: {r['walk_s']:.1f} s from the first call to its queue)\n"
        f"API after the kill: nodes {r['after_kill']['nodes']}, callers waiting "
        f"{waiting(r['after_kill'])}\n"
        f"FastAGI calls served: {r['agi']['calls_started']} (failed "
        f"{r['agi']['calls_failed']}, unknown route {r['agi']['unknown_route']})"
    )


def check(r: dict[str, Any], rig: Rig) -> None:
    """What :func:`prove` must have found (its figures are printed first)."""
    first, new = r["first"], r["new"]
    assert len(first) == BEFORE and len(new) == AFTER
    assert r["before"]["a"] > 0 and r["before"]["b"] > 0, "Kamailio spread no calls"
    cut = [c for c in first.values() if c.get("node") == "a" and not c.get("ok")]
    assert cut == [], "calls cut off on the surviving node"
    assert all(c.get("ok") and c.get("node") == "a" for c in new.values())
    assert r["joins_after"] == AFTER  # every new caller reached a queue on the survivor
    # every call was served by the server, from its own node's routes (no fallback)
    assert r["agi"]["unknown_route"] == 0
    assert r["walk_s"] > 3.0  # the menus walked (the digit is pressed 3 s in)
    assert all(q["node"] == "a" for q in r["after_kill"]["queues"])
    assert {"name": "b", "connected": False} in r["after_kill"]["nodes"]
    assert NODES[1] == rig.killed_uri


@pytest.fixture
def rig(sandbox: Sandbox, base_settings: Settings, tmp_path: Path) -> Iterator[Rig]:
    """Node b and Kamailio started for the test, stopped after it (node a is the
    sandbox's, left as it is)."""
    if shutil.which("kamailio") is None or shutil.which("sipp") is None:
        pytest.skip("kamailio and sipp (Debian kamailio, sip-tester) are needed")
    node = SecondNode(base_settings)
    node.up()
    proxy = Kamailio(tmp_path)
    try:
        proxy.start()
        yield Rig(
            ("a", "b"), (base_settings.ami_port, NODE_B.ami_port),
            (base_settings.sip_port, NODE_B.sip_port), proxy, node.kill,
        )  # fmt: skip
    finally:
        proxy.stop()
        node.down()


@contextlib.asynccontextmanager
async def named_node_a(settings: Settings) -> AsyncIterator[None]:
    """The sandbox's Asterisk as node a: its IVR_AGI ends in ``/a`` while the test
    runs (a global set over the AMI; ``ivr sandbox up`` writes it back anyway)."""
    ami = AmiClient(settings.ami_host, settings.ami_port, settings.ami_username,
                    settings.ami_secret)  # fmt: skip
    await ami.start()
    try:
        reply = await ami.action("Getvar", Variable="IVR_AGI", as_list=False)
        shipped = str(reply.get("Value", "")) if isinstance(reply, dict) else ""
        await ami.action("Setvar", Variable="IVR_AGI", Value=f"{shipped.rstrip('/')}/a")
        try:
            yield
        finally:
            await ami.action("Setvar", Variable="IVR_AGI", Value=shipped)
    finally:
        await ami.close()
