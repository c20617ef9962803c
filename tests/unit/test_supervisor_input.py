"""Supervisor actions' input, pure: pause reasons from the configured list, bodies,
agent names, ``?limit=``, the settings' ``pause_reasons`` and the audit's masking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ivr.api.action_input import (
    MemberToAdd,
    audit_limit,
    check_agent,
    check_reason,
    member_channel,
    member_to_add,
    parse_body,
    pause_reason,
    spy_channel,
    spy_request,
)
from ivr.api.errors import BadRequest, UnknownReason
from ivr.config import DEFAULT_PAUSE_REASONS, load_settings
from ivr.store.audit import AuditEntry, masked

REASONS = ("break", "training")


def test_a_listed_reason_is_taken() -> None:
    assert check_reason("break", REASONS) == "break"
    assert pause_reason({"reason": "training"}, REASONS) == "training"


@pytest.mark.parametrize("body", [{"reason": "nap"}, {"reason": ""}, {"reason": None}, {}, None])
def test_a_reason_not_listed_is_400_listing_the_allowed(body: Any) -> None:
    with pytest.raises(UnknownReason) as e:
        pause_reason(body, REASONS)
    assert e.value.status_code == 400 and e.value.error_id == "unknown-reason"
    assert "break, training" in e.value.message


def test_a_pause_body_takes_only_a_reason() -> None:
    with pytest.raises(BadRequest, match="colour"):
        pause_reason({"reason": "break", "colour": "red"}, REASONS)
    with pytest.raises(BadRequest, match="JSON object"):
        pause_reason(["break"], REASONS)


def test_no_reason_configured_says_where_to_set_them() -> None:
    with pytest.raises(UnknownReason, match="pause_reasons"):
        check_reason("break", ())


def test_member_body_defaults_and_checks() -> None:
    assert member_to_add("PJSIP/a1", None) == MemberToAdd("PJSIP/a1", 0, "")
    got = member_to_add("PJSIP/a1", {"interface": "PJSIP/a1", "penalty": 3, "name": "สมชาย"})
    assert got == MemberToAdd("PJSIP/a1", 3, "สมชาย")
    for bad in ({"interface": "PJSIP/a2"}, {"penalty": "1"}, {"penalty": True}, {"name": 5}):
        with pytest.raises(BadRequest):
            member_to_add("PJSIP/a1", bad)


@pytest.mark.parametrize("agent", ["PJSIP/agent1", "Local/agent@sim-agent/n", "SIP/x-1"])
def test_member_interfaces_are_agents(agent: str) -> None:
    assert check_agent(agent) == agent


@pytest.mark.parametrize("agent", ["", "agent1", "PJSIP/a,b", "PJSIP/a\r\nAction: Logoff"])
def test_other_names_are_not(agent: str) -> None:
    with pytest.raises(BadRequest, match="PJSIP%2Fagent1"):
        check_agent(agent)


def test_audit_limit() -> None:
    assert audit_limit({}) == 50
    assert audit_limit({"limit": "7"}) == 7
    for bad in ({"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"since": "1"}):
        with pytest.raises(BadRequest):
            audit_limit(bad)


def test_pause_reasons_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "ivr.toml"
    cfg.write_text('[queues]\npause_reasons = ["พักเบรก", "training"]\n', encoding="utf-8")
    assert load_settings(cfg).pause_reasons == ("พักเบรก", "training")
    assert "break" in DEFAULT_PAUSE_REASONS and "training" in DEFAULT_PAUSE_REASONS


def test_audit_text_never_holds_a_phone_number() -> None:
    assert masked("called 0812345678 twice") == "called 081*****78 twice"
    assert masked("reason break") == "reason break"
    line = AuditEntry(0.0, "ab12cd34", "duty", "pause", "complaint", "PJSIP/agent1").line()
    assert (
        line == "1970-01-01 00:00:00Z  ab12cd34:duty  pause  queue=complaint agent=PJSIP/agent1  ok"
    )


def test_a_body_is_utf8_json_or_400() -> None:
    assert parse_body(b"") is None and parse_body(b" \n") is None
    assert parse_body('{"reason": "พัก"}'.encode()) == {"reason": "พัก"}
    for raw in (b"\x13\xb6", b"{", b"\xff{}"):  # not UTF-8 was a 500
        with pytest.raises(BadRequest):
            parse_body(raw)


def test_spy_request_maps_modes_to_chanspy_options() -> None:
    phones = ("PJSIP/supervisor1",)
    for mode, options in (("listen", "q"), ("whisper", "qw"), ("barge", "qB")):
        assert spy_request({"mode": mode, "phone": phones[0]}, phones).options == options
    with pytest.raises(BadRequest, match="PJSIP/supervisor1") as e:
        spy_request({"mode": "listen", "phone": "PJSIP/agent1"}, phones)
    assert e.value.error_id == "unknown-phone"
    with pytest.raises(BadRequest, match="listen, whisper, barge"):
        spy_request({"mode": "B", "phone": phones[0]}, phones)
    with pytest.raises(BadRequest, match="unknown field"):
        spy_request({"mode": "listen", "phone": phones[0], "options": "qwB"}, phones)


def test_spied_channels_are_plain_channel_names() -> None:
    assert spy_channel("PJSIP/agent1-0000002a")
    assert spy_channel("Local/x@sim-agent-00000012;1")
    for bad in ("", "agent1", "PJSIP/agent1,qB", "PJSIP/a)b", "PJSIP/a b", "PJSIP/${X}"):
        assert not spy_channel(bad), bad


def test_member_channel_is_the_bridged_channel_named_after_the_member() -> None:
    rows = [
        {"Event": "CoreShowChannel", "Channel": "PJSIP/agent10-00000001", "BridgeId": "b1"},
        {"Event": "CoreShowChannel", "Channel": "PJSIP/agent1-00000002", "BridgeId": ""},
        {"Event": "CoreShowChannel", "Channel": "PJSIP/agent1-00000003", "BridgeId": "b2"},
        {"Event": "CoreShowChannel", "Channel": "Local/x@sim-agent-00000012;2", "BridgeId": ""},
        {"Event": "CoreShowChannel", "Channel": "Local/x@sim-agent-00000012;1", "BridgeId": "b3"},
    ]
    assert member_channel("PJSIP/agent1", rows) == "PJSIP/agent1-00000003"
    assert member_channel("Local/x@sim-agent/n", rows) == "Local/x@sim-agent-00000012;1"
    assert member_channel("PJSIP/agent2", rows) == ""
