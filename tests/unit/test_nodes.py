"""Several Asterisk nodes: their settings and the errors an admin sees, how a queue on
a node is named, one queue over every node, the views over the nodes' models, and
the AMI of every node used as one (actions to their queue's node)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from ivr.ami.client import AmiClient, AmiError
from ivr.ami.nodes import NodeAmis
from ivr.config import ConfigError, load_settings
from ivr.config_nodes import ami_nodes, node_problems
from ivr.doctor.checks import systemname_finding
from ivr.lineup.members import of_node
from ivr.lineup.nodes import NodeLive, NodeQueues, totals
from ivr.queues.nodes import base_queue, merged, node_of, node_queue, node_route
from ivr.queues.state import Agent, AgentState, Caller, QueueState
from ivr.sandbox.kamailio import parse_dispatcher_list
from ivr.sandbox.second_node import node_conf
from ivr.store.members import AddedMember


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ivr.toml"
    p.write_text(text, encoding="utf-8")
    return p


# -- settings ------------------------------------------------------------------------
def test_without_node_tables_the_ami_settings_are_the_one_node(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, '[ami]\nhost = "10.0.0.5"\nport = 5039\nusername = "u"\n'))
    [node] = ami_nodes(s)
    assert (node.name, node.address, node.username) == ("", "10.0.0.5:5039", "u")
    assert ami_nodes(load_settings()) and ami_nodes(load_settings())[0].name == ""  # the sandbox


def test_each_node_table_is_a_node_with_the_ami_keys_it_leaves_out(tmp_path: Path) -> None:
    s = load_settings(
        write(
            tmp_path,
            '[ami]\nusername = "ivr-server"\nsecret = "s3"\naction_timeout = 4\n'
            '[ami.nodes.a]\nhost = "10.0.0.11"\n'
            '[ami.nodes.b]\nhost = "10.0.0.12"\nport = 5039\nsecret = "other"\n',
        )
    )
    a, b = ami_nodes(s)
    assert (a.name, a.address, a.username, a.secret, a.action_timeout) == (
        "a", "10.0.0.11:5038", "ivr-server", "s3", 4.0,
    )  # fmt: skip
    assert (b.name, b.address, b.secret) == ("b", "10.0.0.12:5039", "other")
    assert "other" not in repr(b)  # never in a log line


def test_every_problem_of_the_node_tables_names_its_line_and_fix(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "[ami]\n"  # 1
        'host = "10.0.0.1"\n'  # 2
        "[ami.nodes.A]\n"  # 3: upper case
        'host = "10.0.0.2"\n'  # 4
        "[ami.nodes.b]\n"  # 5
        "port = 70000\n"  # 6
        "colour = 1\n"  # 7
        "[ami.nodes.c]\n"  # 8
        "action_timeout = -1\n"  # 9
        "[ami.nodes.d]\n"  # 10: the address of [ami], as e
        "[ami.nodes.e]\n",  # 11
    )
    s = load_settings(p)
    found = [str(x) for x in node_problems(s)]
    assert any(f.startswith(f"{p}:3: [ami.nodes.A]: the node name 'A'") for f in found), found
    assert any(f.startswith(f"{p}:6: [ami.nodes.b]: port = 70000") for f in found), found
    assert any(f.startswith(f"{p}:7: [ami.nodes.b]: unknown key 'colour'") for f in found), found
    assert any(f.startswith(f"{p}:9: [ami.nodes.c]: action_timeout") for f in found), found
    assert any(
        f.startswith(f"{p}:11: [ami.nodes.e] has the address of [ami.nodes.d]") for f in found
    ), found
    assert all(" — " in f for f in found)  # each with its fix
    with pytest.raises(ConfigError):
        ami_nodes(s)


def test_a_bare_value_for_a_node_is_refused(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, '[ami.nodes]\na = "10.0.0.2"\n'))
    [problem] = node_problems(s)
    assert "[ami.nodes.a] must be a table" in str(problem)


# -- names -----------------------------------------------------------------------------
def test_a_queue_on_a_node_and_back() -> None:
    assert node_queue("complaint", "a") == "complaint@a"
    assert node_queue("complaint", "") == "complaint"  # the one node: plain
    assert (base_queue("complaint@a"), node_of("complaint@a")) == ("complaint", "a")
    assert (base_queue("complaint"), node_of("complaint")) == ("complaint", "")
    assert node_route("queue-wait", "b") == "b/queue-wait"
    assert node_route("queue-wait", "") == "queue-wait"


def test_one_queue_over_every_node_keeps_everyone() -> None:
    a = QueueState(
        "complaint",
        callers={"a-1.1": Caller("a-1.1", arrived_at=10.0)},
        agents={"PJSIP/agent1": Agent("PJSIP/agent1", state=AgentState.AVAILABLE)},
        answered=2,
        handle_times=[60.0],
    )
    b = QueueState(
        "complaint",
        callers={"b-1.1": Caller("b-1.1", arrived_at=5.0)},
        agents={"PJSIP/agent1": Agent("PJSIP/agent1", state=AgentState.IN_CALL)},
        answered=1,
        handle_times=[120.0],
    )
    m = merged("complaint", {"a": a, "b": b})
    assert [c.uniqueid for c in m.callers_in_order()] == ["b-1.1", "a-1.1"]
    assert sorted(m.agents) == ["a/PJSIP/agent1", "b/PJSIP/agent1"]  # one member on each
    assert m.agents_by_state()["available"] == 1 and m.agents_by_state()["in_call"] == 1
    assert (m.answered, sorted(m.handle_times)) == (3, [60.0, 120.0])


# -- views over the nodes ----------------------------------------------------------------
class FakeAmi:
    def __init__(self, connected: bool = True) -> None:
        self.connected = connected
        self.logins = 1 if connected else 0
        self.address = "127.0.0.1:5038"
        self.actions: list[tuple[str, dict[str, Any]]] = []
        self.handlers: list[Callable[[Any], None]] = []
        self.subscribed: list[Any] = []

    async def action(self, name: str, /, **fields_: Any) -> dict[str, str]:
        if not self.connected:
            raise AmiError("not connected")
        self.actions.append((name, fields_))
        return {"Response": "Success"}

    async def originate(self, channel: str, *args: Any, **kw: Any) -> str:
        self.actions.append(("Originate", {"Channel": channel}))
        return "id-1"

    def subscribe(self, event: Any, handler: Callable[[Any], None]) -> Callable[[], None]:
        self.handlers.append(handler)
        self.subscribed.append(event)
        return lambda: self.handlers.remove(handler)


class FakeLive:
    def __init__(self, *names: str) -> None:
        self.states = {n: QueueState(n) for n in names}

    async def queues(self) -> dict[str, QueueState]:
        return dict(self.states)


def test_one_node_is_shown_as_it_always_was() -> None:
    live = FakeLive("complaint")
    view = NodeQueues([NodeLive("", FakeAmi(connected=False), live)])
    assert not view.several
    assert view.states() is live.states  # not even copied; shown while the AMI is down
    assert list(asyncio.run(view.queues())) == ["complaint"]


def test_several_nodes_name_their_queues_and_a_node_down_is_left_out() -> None:
    a, b = FakeAmi(), FakeAmi()
    view = NodeQueues(
        [
            NodeLive("a", a, FakeLive("complaint", "operator")),
            NodeLive("b", b, FakeLive("complaint")),
        ]
    )
    states = asyncio.run(view.queues())
    assert sorted(states) == ["complaint@a", "complaint@b", "operator@a"]
    assert states["complaint@b"].name == "complaint@b"
    assert sorted(totals(states)) == ["complaint", "operator"]
    b.connected = False
    assert sorted(view.states()) == ["complaint@a", "operator@a"]
    assert view.connected() == {"a": True, "b": False}


def test_node_amis_send_a_queue_action_to_its_node_with_the_plain_name() -> None:
    a, b = FakeAmi(), FakeAmi()
    amis = NodeAmis({"a": cast(AmiClient, a), "b": cast(AmiClient, b)})
    asyncio.run(amis.action("QueuePause", Queue="complaint@b", Interface="PJSIP/agent1"))
    assert a.actions == []
    assert b.actions == [("QueuePause", {"Queue": "complaint", "Interface": "PJSIP/agent1"})]
    with pytest.raises(AmiError, match="names no Asterisk node"):
        asyncio.run(amis.action("QueuePause", Queue="complaint", Interface="PJSIP/agent1"))
    a.connected = False  # the first node down: the rest goes through the next one
    asyncio.run(amis.originate("Local/1111@from-public", "ivr-probe", "s"))
    assert b.actions[-1] == ("Originate", {"Channel": "Local/1111@from-public"})
    b.connected = False
    assert not amis.connected
    with pytest.raises(AmiError, match="no Asterisk node connected"):
        asyncio.run(amis.action("Hangup", Channel="x"))


def test_node_amis_hear_every_node() -> None:
    a, b = FakeAmi(), FakeAmi()
    amis = NodeAmis({"a": cast(AmiClient, a), "b": cast(AmiClient, b)})

    async def go() -> object:
        waiting = asyncio.ensure_future(amis.wait_event(lambda e: str(e) == "ping", timeout=5))
        await asyncio.sleep(0)
        for handler in list(b.handlers):
            handler("ping")
        return await waiting

    assert asyncio.run(go()) == "ping"
    assert a.handlers == b.handlers == []  # unsubscribed
    assert a.subscribed == ["*"]  # every event while it waits: the mask widens


def test_node_amis_wait_for_named_events_only() -> None:
    a, b = FakeAmi(), FakeAmi()
    amis = NodeAmis({"a": cast(AmiClient, a), "b": cast(AmiClient, b)})

    async def go() -> object:
        wanted = ["OriginateResponse", "Hangup"]
        waiting = asyncio.ensure_future(amis.wait_event(bool, timeout=5, names=wanted))
        await asyncio.sleep(0)
        for handler in list(a.handlers):
            handler("OriginateResponse")
        return await waiting

    assert asyncio.run(go()) == "OriginateResponse"
    assert a.subscribed == b.subscribed == ["OriginateResponse", "Hangup"]
    assert a.handlers == b.handlers == []


def test_each_node_restores_only_its_own_members() -> None:
    remembered = [
        AddedMember("complaint@a", "PJSIP/agent1"),
        AddedMember("complaint@b", "PJSIP/agent2", 1, "Malee"),
        AddedMember("operator", "PJSIP/agent3"),
    ]
    assert of_node(remembered, "b") == [AddedMember("complaint", "PJSIP/agent2", 1, "Malee")]
    assert of_node(remembered, "") == remembered  # the one node: as remembered


# -- the sandbox's second node and Kamailio ------------------------------------------------
def test_node_b_s_configuration_is_node_a_s_with_its_own_folders_ports_and_agi() -> None:
    conf = node_conf("asterisk.conf", "[directories]\nastrundir => /run/ivr-asterisk\n[options]\n")
    assert "astrundir => /run/ivr-asterisk-b\n" in conf and "systemname = ivr-b" in conf
    ext = node_conf("extensions.conf", "[globals]\nIVR_AGI = agi://127.0.0.1:4573\nX = 1\n")
    assert "IVR_AGI = agi://127.0.0.1:4573/b\n" in ext and "X = 1" in ext
    assert "hagi://agi.example/b" in node_conf("extensions.conf", "IVR_AGI = hagi://agi.example\n")
    rtp = node_conf("rtp.conf", "[general]\nrtpstart = 20000\nrtpend = 20999\n")
    assert "rtpstart = 21000" in rtp and "rtpend = 21999" in rtp
    sip = node_conf(
        "pjsip.conf", "contact = sip:agent1@127.0.0.1:5101\ncontact = sip:127.0.0.1:5090\n"
    )
    assert "127.0.0.1:5201" in sip and "127.0.0.1:5190" in sip and "5101" not in sip


def test_the_dispatcher_s_view_of_the_nodes() -> None:
    text = (
        "{\n\tSET: {\n\t\tTARGETS: {\n\t\t\tDEST: {\n\t\t\t\tURI: sip:127.0.0.1:5062\n"
        "\t\t\t\tFLAGS: IP\n\t\t\t\tPRIORITY: 0\n\t\t\t}\n\t\t\tDEST: {\n"
        "\t\t\t\tURI: sip:127.0.0.1:5060\n\t\t\t\tFLAGS: AP\n\t\t\t}\n"
    )
    assert parse_dispatcher_list(text) == {"sip:127.0.0.1:5062": "IP", "sip:127.0.0.1:5060": "AP"}


def test_a_node_without_systemname_is_a_doctor_finding_with_its_fix() -> None:
    assert systemname_finding("ivr-b").ok
    bad = systemname_finding("")
    assert not bad.ok and "asterisk.conf" in bad.fix
