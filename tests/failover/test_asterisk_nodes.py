"""Two Asterisk nodes behind Kamailio, one of them killed with SIGKILL during calls.

The sandbox's Asterisk (node a) and a second one (node b, :mod:`ivr.sandbox.second_node`)
take the citizens' SIP calls that Kamailio (the shipped ``kamailio.cfg``,
:mod:`ivr.sandbox.kamailio`) spreads over them; one server serves both nodes (one AMI
client and one queue model each). Real SIP calls (SIPp, DTMF as SIP INFO) walk
hotline 1111 into a queue and wait there; the server's API shows each node's queues
and the total. Node b's Asterisk is then killed, new calls keep coming, and the test
counts and prints:

* calls per node before the kill, and the API's view of them;
* calls cut off on the surviving node (must be 0);
* calls that were on the killed node: lost with the box (their media and dialog
  lived in that Asterisk; nothing else can hold them);
* callers who reached a queue, before and after the kill (every new call must);
* seconds from the kill until Kamailio marks node b down and sends new calls only to
  node a (its dispatcher's state, read with ``kamcmd`` every 0.1 s), and until the
  first new call is in node a's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ivr.ami.client import AmiClient
from ivr.ami.events import QueueCallerJoin
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.sandbox import kamailio, second_node
from ivr.sandbox.kamailio import NODES, Kamailio
from ivr.sandbox.pbx import Sandbox
from ivr.sandbox.second_node import SecondNode
from ivr.store.tokens import TokenStore
from tests.until import until

pytestmark = [pytest.mark.sandbox, pytest.mark.sip]

SCENARIO = Path(__file__).with_name("citizen_waits.xml")
BEFORE = 16  # calls placed before the kill (4 a second), each waiting HOLD_S
HOLD_S = 75
AFTER = 8  # calls placed from the kill on (2 a second)
AFTER_HOLD_S = 25
PORTS = {"5060": "a", "5062": "b"}  # the Contact of a node's 200 OK


@dataclass
class Joins:
    """Callers who reached a queue, by node (QueueCallerJoin of the SIP channels)."""

    by_node: dict[str, dict[str, float]] = field(default_factory=lambda: {"a": {}, "b": {}})

    def watch(self, node: str) -> Any:
        def seen(event: QueueCallerJoin) -> None:
            if event.channel.startswith("PJSIP/anonymous"):
                self.by_node[node].setdefault(event.uniqueid, time.monotonic())

        return seen

    def count(self, node: str = "") -> int:
        return sum(len(v) for n, v in self.by_node.items() if not node or n == node)


@dataclass
class SippRun:
    """One SIPp run: its process, and what each call logged (node port, "ok")."""

    name: str
    folder: Path
    proc: asyncio.subprocess.Process

    def calls(self) -> dict[str, dict[str, str]]:
        """{call id: {"node": a|b, "ok": "1"}} from the scenario's log lines."""
        out: dict[str, dict[str, str]] = {}
        for log in self.folder.glob("*_logs.log"):
            for line in log.read_text(errors="replace").splitlines():
                if m := re.match(r"^(\S+) node-port (\d+)", line):
                    out.setdefault(m[1], {})["node"] = PORTS.get(m[2], m[2])
                elif m := re.match(r"^(\S+) ok$", line):
                    out.setdefault(m[1], {})["ok"] = "1"
        return out


async def sipp(tmp: Path, name: str, calls: int, rate: float, hold_s: int, port: int) -> SippRun:
    folder = tmp / name
    folder.mkdir()
    proc = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{kamailio.PORT}",
        "-sf", str(SCENARIO), "-s", "1111", "-i", "127.0.0.1", "-p", str(port),
        "-mp", str(16000 + port % 100 * 10), "-m", str(calls), "-l", str(calls),
        "-r", str(rate), "-d", str(hold_s * 1000), "-recv_timeout", "40s",
        "-timeout", f"{hold_s + 90}s", "-nostdin", "-trace_logs", "-trace_err",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, cwd=folder,
    )  # fmt: skip
    return SippRun(name, folder, proc)


@pytest.fixture
def two_nodes(sandbox: Sandbox, base_settings: Settings, tmp_path: Path) -> Iterator[Kamailio]:
    """Node b and Kamailio started for the test, stopped after it (node a is the
    sandbox's, left as it is)."""
    if shutil.which("kamailio") is None or shutil.which("sipp") is None:
        pytest.skip("kamailio and sipp (Debian kamailio, sip-tester) are needed")
    node = SecondNode(base_settings)
    node.up()
    kamailio = Kamailio(tmp_path)
    try:
        kamailio.start()
        yield kamailio
    finally:
        kamailio.stop()
        node.down()


@pytest.fixture
async def served(two_nodes: Kamailio, settings: Settings) -> AsyncIterator[HotlineApp]:
    """One server for both nodes: the sandbox's [ami] is node a, node b on 5039."""
    nodes = {"a": {"port": settings.ami_port}, "b": {"port": second_node.AMI_PORT}}
    app = HotlineApp(replace(settings, ami_nodes=nodes))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


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
    out = {"a": 0, "b": 0}
    for q in body["queues"]:
        out[q["node"]] += q["callers_waiting"]
    out["total"] = sum(t["callers_waiting"] for t in body["totals"])
    return out


@pytest.mark.timeout(480)
async def test_killing_one_asterisk_node_sends_new_calls_to_the_other(
    served: HotlineApp, two_nodes: Kamailio, settings: Settings, tmp_path: Path
) -> None:
    app, proxy = served, two_nodes
    token, _ = await TokenStore(app.redis).create("supervisor", "fail-over proof")
    joins = Joins()
    watchers = [
        AmiClient(settings.ami_host, port, settings.ami_username, settings.ami_secret)
        for port in (settings.ami_port, second_node.AMI_PORT)
    ]
    for node, ami in zip("ab", watchers, strict=True):
        ami.subscribe(QueueCallerJoin, joins.watch(node))
        await ami.start()
    runs: list[SippRun] = []
    try:
        runs.append(await sipp(tmp_path, "before", BEFORE, 4, HOLD_S, 5081))
        await until(lambda: joins.count() >= BEFORE, within=120, what="every caller in a queue")
        before = {n: joins.count(n) for n in "ab"}
        shown: dict[str, int] = {}

        async def api_shows_everyone() -> bool:
            shown.update(waiting(await api_queues(app, token)))
            each = all(shown[n] >= before[n] for n in "ab")  # (and any caller left by others)
            return each and shown["total"] == shown["a"] + shown["b"]

        await until(api_shows_everyone, within=10, what="the API showing every caller")
        assert before["a"] > 0 and before["b"] > 0, f"Kamailio spread no calls: {before}"

        killed_at = time.monotonic()
        assert SecondNode(settings).kill() is not None
        runs.append(await sipp(tmp_path, "after", AFTER, 2, AFTER_HOLD_S, 5082))

        async def b_down() -> bool:
            return (await asyncio.to_thread(proxy.nodes)).get(NODES[1]) != "AP"

        await until(b_down, within=30, every=0.1, what="Kamailio marking node b down")
        down_s = time.monotonic() - killed_at
        await until(lambda: joins.count("a") >= before["a"] + AFTER, within=120,
                    what="every new caller in node a's queue")  # fmt: skip
        first_new_s = sorted(joins.by_node["a"].values())[before["a"]] - killed_at
        after_kill = await api_queues(app, token)
        await asyncio.wait_for(asyncio.gather(*(r.proc.wait() for r in runs)), HOLD_S + 120)
    finally:
        for r in runs:
            with contextlib.suppress(ProcessLookupError):
                r.proc.kill()
        for ami in watchers:
            await ami.close()

    first, new = runs[0].calls(), runs[1].calls()
    calls = {**first, **new}
    on_a = [c for c in first.values() if c.get("node") == "a"]
    on_b = [c for c in first.values() if c.get("node") == "b"]
    cut_on_a = [c for c in on_a if not c.get("ok")]
    new_ok = [c for c in new.values() if c.get("ok") and c.get("node") == "a"]
    print(
        "\n== two Asterisk nodes behind Kamailio, node b killed (SIGKILL)\n"
        f"calls before the kill: {len(first)} (node a {len(on_a)}, node b {len(on_b)}); "
        f"in a queue: node a {before['a']}, node b {before['b']}\n"
        f"API before the kill: callers waiting node a {shown['a']}, node b {shown['b']}, "
        f"total {shown['total']}\n"
        f"calls cut off on the surviving node a: {len(cut_on_a)}\n"
        f"calls that were on node b: {len(on_b)}, lost with the box: "
        f"{sum(not c.get('ok') for c in on_b)}\n"
        f"new calls after the kill: {len(new)}, reached node a's queue: "
        f"{joins.count('a') - before['a']}, ended normally on node a: {len(new_ok)}\n"
        f"callers who reached a queue: {joins.count()} of {len(calls)} calls\n"
        f"seconds until Kamailio sent new calls only to node a: {down_s:.1f} "
        f"(first new caller in node a's queue after {first_new_s:.1f} s)\n"
        f"API after the kill: nodes {after_kill['nodes']}, total waiting "
        f"{waiting(after_kill)['total']}"
    )
    assert len(first) == BEFORE and len(new) == AFTER
    assert cut_on_a == []
    assert len(new_ok) == AFTER  # every new call went to the survivor and ended well
    assert all(q["node"] == "a" for q in after_kill["queues"])
    assert {"name": "b", "connected": False} in after_kill["nodes"]
