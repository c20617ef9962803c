"""``ivr doctor``'s pure checks: AMI rights, the dialplan, queues, prompts, clocks,
the FastAGI verdict, and the rendering and exit code."""

from __future__ import annotations

import json
from types import MappingProxyType

from ivr.ami.events import UnknownEvent
from ivr.config import Settings
from ivr.doctor import checks
from ivr.doctor.asterisk import _agi_global, _login_failure
from ivr.doctor.fastagi import _StandIn, _verdict
from ivr.doctor.findings import exit_code, fail, ok, render_json, render_text

LIST_COMMANDS = {
    "Response": "Success",
    "ActionID": "x-1",
    "Originate": "Originate a call.  (Priv: originate,all)",
    "QueueAdd": "Add interface to queue.  (Priv: agent,all)",
    "QueueRemove": "Remove interface from queue.  (Priv: agent,all)",
    "QueuePause": "Makes a queue member temporarily unavailable.  (Priv: agent,all)",
    "Hangup": "Hangup channel.  (Priv: system,call,all)",
    "CoreShowChannels": "List currently active channels.  (Priv: system,reporting,all)",
    "QueueStatus": "Show queue status.  (Priv: <none>)",
}

MANAGER_SHOW_USER = """
          username: ivr
            secret: <Set>
         read perm: system,call,agent,user,all
        write perm: system,call,originate,agent,all
"""


def test_list_commands_parsed_and_every_needed_action_allowed() -> None:
    allowed = checks.parse_list_commands(LIST_COMMANDS)
    assert allowed["QueueStatus"] == frozenset()
    assert allowed["Hangup"] == {"system", "call", "all"}
    assert "Response" not in allowed
    assert exit_code(checks.write_findings(allowed, "ivr")) == 0


def test_missing_write_rights_name_the_action_and_the_class_to_grant() -> None:
    allowed = checks.parse_list_commands(
        {k: v for k, v in LIST_COMMANDS.items() if k not in ("Originate", "QueuePause")}
    )
    (finding,) = checks.write_findings(allowed, "ivr")
    assert not finding.ok
    assert "Originate" in finding.detail and "QueuePause" in finding.detail
    assert "add agent, originate to write = of [ivr]" in finding.fix
    assert "manager reload" in finding.fix


def test_read_rights_from_manager_show_user() -> None:
    parsed = checks.parse_manager_user(MANAGER_SHOW_USER)
    assert parsed is not None
    read, write = parsed
    assert "originate" in write
    (finding,) = checks.read_findings(read - {"all"}, set(), "ivr")
    assert not finding.ok and "dialplan (VarSet" in finding.detail
    assert "add dialplan to read = of [ivr]" in finding.fix
    assert checks.read_findings(read, set(), "ivr")[0].ok  # "all" covers every class
    assert checks.parse_manager_user("No such user") is None


def test_read_rights_unknown_are_confirmed_from_the_events_seen() -> None:
    seen = checks.privilege_classes(["call,all", "user,all", ""])
    (finding,) = checks.read_findings(None, seen, "ivr")
    assert finding.ok
    assert (
        "call, user" in finding.detail and "system, agent, dialplan not confirmed" in finding.detail
    )


def test_dialplan_contexts_and_extensions() -> None:
    needs = checks.dialplan_needs(["1555", "1111"], probe_context="ivr-probe", spy=False)
    assert [n.context for n in needs][:2] == ["hotlines", "ivr-hotline"]
    assert "ivr-spy" not in [n.context for n in needs]
    found: dict[str, set[str] | None] = {n.context: set(n.extensions) for n in needs}
    found["hotlines"] = {"1111"}
    found["ivr-doctor"] = None
    bad = [f for f in checks.dialplan_findings(needs, found) if not f.ok]
    assert [f.check for f in bad] == ["dialplan.hotlines", "dialplan.ivr-doctor"]
    assert "lacks extension(s) 1555" in bad[0].detail
    assert "#include" in bad[1].fix and "dialplan reload" in bad[1].fix


def test_queues_named_by_hotlines_must_exist_in_asterisk() -> None:
    found = checks.queue_findings(
        {"operator": {"1111"}, "complaint": {"1111", "1555"}}, {"operator"}
    )
    assert [(f.check, f.ok) for f in found] == [
        ("queue.complaint", False),
        ("queue.operator", True),
    ]
    assert "hotline 1111, 1555" in found[0].detail and "queues.conf" in found[0].fix


def test_prompt_audio_per_language() -> None:
    needed = {("1111", "th"): {"a", "b"}, ("1111", "en"): {"a", "b"}}
    found = checks.prompt_findings(needed, {("1111", "en"): ["b"]})
    assert [(f.check, f.ok) for f in found] == [
        ("prompts.1111.en", False),
        ("prompts.1111.th", True),
    ]
    assert "no en audio: b" in found[0].detail and "ivr prompts build" in found[0].fix


def test_clock_skew() -> None:
    assert checks.skew_finding("redis", 0.2).ok
    late = checks.skew_finding("asterisk", -3.5)
    assert not late.ok and "-3.5 s" in late.detail and "chrony" in late.fix
    assert not checks.skew_finding("postgres", None, "refused").ok


def _event(**headers: str) -> UnknownEvent:
    return UnknownEvent(
        raw=MappingProxyType({"Event": "UserEvent", **headers}), event_name="UserEvent"
    )


def test_fastagi_verdicts() -> None:
    s = Settings()
    stand_in = _StandIn(s)
    running = _verdict(_event(Answer="unknown-route", Status="SUCCESS"), s, stand_in, running=True)
    assert running.ok and "running server" in running.detail
    assert _verdict(_event(Answer="answered", Status="SUCCESS"), s, stand_in, running=False).ok
    lost = _verdict(_event(Answer="", Status="FAILURE"), s, stand_in, running=True)
    assert not lost.ok and "AGISTATUS=FAILURE" in lost.detail and "[agi] allow" in lost.fix
    stand_in.refused.append("10.0.0.5:40000")
    refused = _verdict(_event(Answer="", Status="FAILURE"), s, stand_in, running=False)
    assert not refused.ok and "10.0.0.5" in refused.detail


def test_rendering_and_exit_code() -> None:
    findings = [ok("redis", "answers"), fail("queue.x", "no queue x", "add [x]")]
    text = render_text(findings)
    assert text.splitlines()[0].startswith("ok    redis")
    assert "FAIL  queue.x: no queue x\n        fix: add [x]" in text
    assert text.endswith("1 problem(s) of 2 checks")
    body = json.loads(render_json(findings))
    assert body["ok"] is False and body["checks"][1]["fix"] == "add [x]"
    assert exit_code(findings) == 1 and exit_code(findings[:1]) == 0


def test_a_refused_login_and_an_unreachable_ami_get_their_own_fixes() -> None:
    s = Settings(ami_username="ivr-server")
    refused = _login_failure(s, "AMI login to 127.0.0.1:5038 failed: Authentication failed")
    assert "[ami] username and secret" in refused.fix and "'ivr-server'" in refused.fix
    away = _login_failure(
        s, "AMI at 127.0.0.1:5038: no successful login within 5s (last error: Connect call failed)"
    )
    assert "start Asterisk" in away.fix and "enabled = yes" in away.fix


class _Globals:
    """Answers ``Getvar`` with the value of the global asked for."""

    def __init__(self, **values: str) -> None:
        self.values = values

    async def action(self, name: str, **fields: str) -> dict[str, str]:
        return {"Response": "Success", "Value": self.values.get(fields["Variable"], "")}


async def test_the_agi_global_and_the_server_port() -> None:
    async def finding(value: str, port: int) -> tuple[bool, str]:
        got = await _agi_global(_Globals(IVR_AGI=value), Settings(agi_port=port))  # type: ignore[arg-type]
        return got.ok, got.detail

    assert (await finding("agi://10.0.0.5:4573", 4573))[0]
    assert not (await finding("agi://10.0.0.5:4573", 4574))[0]
    # FastAGI fail-over: the ports come from the SRV records, any instance's port fits
    good, detail = await finding("hagi://ivr-agi.internal", 4574)
    assert good and "_agi._tcp.ivr-agi.internal" in detail
    assert not (await finding("hagi://ivr-agi.internal:4573", 4574))[0]  # a port: no SRV


async def test_the_agi_global_of_a_node_ends_in_its_name_through_hagi_too() -> None:
    """With several nodes each node's calls are told apart by the path of IVR_AGI,
    with FastAGI fail-over (hagi://, the ports in DNS) as with one address."""

    async def finding(value: str, node: str) -> tuple[bool, str, str]:
        got = await _agi_global(_Globals(IVR_AGI=value), Settings(agi_port=4573), node)  # type: ignore[arg-type]
        return got.ok, got.detail, got.fix

    good, detail, _ = await finding("hagi://ivr-agi.internal/b", "b")
    assert good and "_agi._tcp.ivr-agi.internal" in detail
    assert (await finding("hagi://ivr-agi.internal/b/", "b"))[0]
    for wrong in ("hagi://ivr-agi.internal", "hagi://ivr-agi.internal/a"):
        ok, detail, fix = await finding(wrong, "b")
        assert not ok and "does not end in this node's name (b)" in detail
        assert "IVR_AGI = hagi://ivr-agi.internal/b" in fix  # the fail-over kept in the fix
    ok, _, fix = await finding("agi://10.0.0.5:4573", "b")
    assert not ok and "agi://<this server's address>:4573/b" in fix
    assert (await finding("agi://10.0.0.5:4573/b", "b"))[0]
