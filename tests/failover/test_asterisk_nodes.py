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

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from ivr.app import HotlineApp
from ivr.config import Settings
from tests.failover.two_nodes import Rig, check, named_node_a, prove, report

pytestmark = [pytest.mark.sandbox, pytest.mark.sip]


@pytest.fixture
async def served(rig: Rig, settings: Settings) -> AsyncIterator[HotlineApp]:
    """One server for both nodes: the sandbox's [ami] is node a, node b on 5039."""
    nodes = {n: {"port": p} for n, p in zip(rig.names, rig.ami_ports, strict=True)}
    app = HotlineApp(replace(settings, ami_nodes=nodes))
    async with named_node_a(settings):
        await app.start()
        try:
            yield app
        finally:
            await app.stop()


@pytest.mark.timeout(480)
async def test_killing_one_asterisk_node_sends_new_calls_to_the_other(
    served: HotlineApp, rig: Rig, settings: Settings, tmp_path: Path
) -> None:
    r = await prove(served, rig, settings, tmp_path)
    print(report(r))
    check(r, rig)
