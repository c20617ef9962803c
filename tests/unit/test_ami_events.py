"""Typed AMI events from raw headers (Asterisk 22 field names), including bad traffic."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from ivr.ami.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AGIExecEnd,
    AGIExecStart,
    AmiEvent,
    DTMFEnd,
    FullyBooted,
    Hangup,
    Newchannel,
    OriginateResponse,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
    QueueMemberPause,
    QueueMemberStatus,
    UnknownEvent,
    VarSet,
    known_event_names,
    parse_event,
    parse_float,
    parse_int,
)
from ivr.ami.readers import FieldReader

PHONE = "0812345678"

CHANNEL = {
    "Channel": "PJSIP/trunk-00000012",
    "ChannelState": "6",
    "ChannelStateDesc": "Up",
    "CallerIDNum": PHONE,
    "CallerIDName": "<unknown>",
    "ConnectedLineNum": "<unknown>",
    "ConnectedLineName": "<unknown>",
    "Language": "th",
    "AccountCode": "",
    "Context": "hotline",
    "Exten": "1111",
    "Priority": "3",
    "Uniqueid": "1718000000.42",
    "Linkedid": "1718000000.41",
}

DEST = {
    "DestChannel": "PJSIP/agent-101-00000013",
    "DestChannelState": "6",
    "DestChannelStateDesc": "Up",
    "DestCallerIDNum": "101",
    "DestCallerIDName": "Agent 101",
    "DestUniqueid": "1718000001.43",
    "DestLinkedid": "1718000000.41",
}

MEMBER = {
    "Queue": "hotline-1111",
    "MemberName": "Agent 101",
    "Interface": "PJSIP/agent-101",
    "StateInterface": "PJSIP/agent-101",
    "Membership": "dynamic",
    "Penalty": "0",
    "CallsTaken": "7",
    "LastCall": "1718000100",
    "LastPause": "0",
    "LoginTime": "1717990000",
    "InCall": "1",
    "Status": "2",
    "Paused": "0",
    "PausedReason": "",
    "Ringinuse": "0",
    "Wrapuptime": "15",
}


def ev(name: str, *parts: dict[str, str], **extra: str) -> dict[str, str]:
    raw = {"Event": name, "Privilege": "agent,all"}
    for part in parts:
        raw.update(part)
    raw.update(extra)
    return raw


# ------------------------------------------------------------------ each event


def test_fully_booted() -> None:
    e = parse_event(
        {
            "Event": "FullyBooted",
            "Privilege": "system,all",
            "Uptime": "1234",
            "LastReload": "12",
            "Status": "Fully Booted",
        }
    )
    assert e == FullyBooted(status="Fully Booted", uptime=1234, last_reload=12)
    assert e.name == "FullyBooted"


def test_newchannel() -> None:
    e = parse_event(ev("Newchannel", CHANNEL))
    assert isinstance(e, Newchannel)
    assert (e.channel, e.uniqueid, e.linkedid) == (
        "PJSIP/trunk-00000012",
        "1718000000.42",
        "1718000000.41",
    )
    assert e.channel_state == 6 and e.channel_state_desc == "Up"
    assert e.caller_id_num == PHONE and e.context == "hotline" and e.exten == "1111"
    assert e.priority == 3


def test_hangup() -> None:
    e = parse_event(ev("Hangup", CHANNEL, Cause="16", **{"Cause-txt": "Normal Clearing"}))
    assert isinstance(e, Hangup)
    assert e.cause == 16 and e.cause_txt == "Normal Clearing"
    assert e.uniqueid == "1718000000.42" and e.linkedid == "1718000000.41"


def test_dtmf_end() -> None:
    e = parse_event(ev("DTMFEnd", CHANNEL, Digit="#", DurationMs="120", Direction="Received"))
    assert isinstance(e, DTMFEnd)
    assert (e.digit, e.duration_ms, e.direction) == ("#", 120, "Received")


def test_agi_exec_start_and_end() -> None:
    start = parse_event(
        ev("AGIExecStart", CHANNEL, Command='STREAM FILE hotline/welcome ""', CommandId="9183")
    )
    assert isinstance(start, AGIExecStart) and not isinstance(start, AGIExecEnd)
    assert start.command == 'STREAM FILE hotline/welcome ""' and start.command_id == "9183"
    end = parse_event(
        ev(
            "AGIExecEnd",
            CHANNEL,
            Command="GET DATA hotline/menu 5000 1",
            CommandId="9184",
            ResultCode="200",
            Result="Success",
        )
    )
    assert isinstance(end, AGIExecEnd)
    assert (end.command_id, end.result_code, end.result) == ("9184", 200, "Success")


def test_originate_response() -> None:
    e = parse_event(
        {
            "Event": "OriginateResponse",
            "Privilege": "call,all",
            "ActionID": "ivr-1-7",
            "Response": "Failure",
            "Channel": f"PJSIP/{PHONE}@trunk",
            "Context": "callback",
            "Exten": "s",
            "Application": "",
            "Data": "",
            "Reason": "5",
            "Uniqueid": "<null>",
            "CallerIDNum": "<unknown>",
            "CallerIDName": "<unknown>",
        }
    )
    assert isinstance(e, OriginateResponse)
    assert e.action_id == "ivr-1-7" and not e.success and e.reason == 5
    assert e.context == "callback" and e.exten == "s"
    ok = parse_event({"Event": "OriginateResponse", "Response": "Success", "Reason": "4"})
    assert isinstance(ok, OriginateResponse) and ok.success


def test_var_set() -> None:
    e = parse_event(ev("VarSet", CHANNEL, Variable="QUEUESTATUS", Value="TIMEOUT"))
    assert isinstance(e, VarSet)
    assert (e.variable, e.value) == ("QUEUESTATUS", "TIMEOUT")


def test_queue_caller_join_leave_abandon() -> None:
    join = parse_event(
        ev("QueueCallerJoin", CHANNEL, Queue="hotline-1111", Position="3", Count="3")
    )
    assert isinstance(join, QueueCallerJoin)
    assert (join.queue, join.position, join.count) == ("hotline-1111", 3, 3)
    assert join.caller_id_num == PHONE and join.uniqueid == "1718000000.42"

    leave = parse_event(
        ev("QueueCallerLeave", CHANNEL, Queue="hotline-1111", Position="1", Count="2")
    )
    assert isinstance(leave, QueueCallerLeave)
    assert (leave.position, leave.count) == (1, 2)

    abandon = parse_event(
        ev(
            "QueueCallerAbandon",
            CHANNEL,
            Queue="hotline-1111",
            Position="2",
            OriginalPosition="5",
            HoldTime="94",
        )
    )
    assert isinstance(abandon, QueueCallerAbandon)
    assert (abandon.position, abandon.original_position, abandon.hold_time) == (2, 5, 94)


def test_agent_events() -> None:
    member = {"Queue": "hotline-1111", "MemberName": "Agent 101", "Interface": "PJSIP/agent-101"}
    called = parse_event(ev("AgentCalled", CHANNEL, DEST, member))
    assert isinstance(called, AgentCalled)
    assert called.interface == "PJSIP/agent-101" and called.member_name == "Agent 101"
    assert called.dest_channel == "PJSIP/agent-101-00000013"
    assert called.dest_uniqueid == "1718000001.43" and called.uniqueid == "1718000000.42"

    connect = parse_event(ev("AgentConnect", CHANNEL, DEST, member, HoldTime="31", RingTime="4"))
    assert isinstance(connect, AgentConnect)
    assert (connect.hold_time, connect.ring_time) == (31, 4)

    complete = parse_event(
        ev("AgentComplete", CHANNEL, DEST, member, HoldTime="31", TalkTime="182", Reason="caller")
    )
    assert isinstance(complete, AgentComplete)
    assert (complete.hold_time, complete.talk_time, complete.reason) == (31, 182, "caller")


def test_queue_member_status_and_pause() -> None:
    status = parse_event(ev("QueueMemberStatus", MEMBER))
    assert isinstance(status, QueueMemberStatus)
    assert status.queue == "hotline-1111" and status.interface == "PJSIP/agent-101"
    assert status.status == 2 and status.in_call is True and status.paused is False
    assert status.calls_taken == 7 and status.wrapuptime == 15 and status.ringinuse is False
    assert status.last_call == 1718000100 and status.login_time == 1717990000

    pause = parse_event(ev("QueueMemberPause", MEMBER, Paused="1", PausedReason="lunch"))
    assert isinstance(pause, QueueMemberPause)
    assert pause.paused is True and pause.paused_reason == "lunch"
    # Asterisk 16 and older also sent the reason as ``Reason``
    old = parse_event(ev("QueueMemberPause", {**MEMBER, "PausedReason": ""}, Reason="training"))
    assert isinstance(old, QueueMemberPause) and old.paused_reason == "training"


def test_every_registered_name_parses_to_its_class() -> None:
    names = known_event_names()
    assert len(names) == 16
    for name in names:
        e = parse_event({"Event": name})
        assert isinstance(e, AmiEvent) and e.name == name


# ------------------------------------------------------------------ robustness


@pytest.mark.parametrize("bad", ["", "abc", "3.5", "1e3", " ", "๓", "--1", "1_000", "9" * 50])
def test_bad_numbers_become_none_and_the_event_is_still_produced(bad: str) -> None:
    e = parse_event(
        ev("QueueCallerAbandon", CHANNEL, Queue="q", Position=bad, OriginalPosition="4")
    )
    assert isinstance(e, QueueCallerAbandon)
    assert e.position is None and e.original_position == 4 and e.hold_time is None


def test_numbers_tolerate_blanks_and_signs() -> None:
    assert parse_int(" 12 ") == 12 and parse_int("-1") == -1 and parse_int("+3") == 3
    assert parse_int(None) is None and parse_int(12) is None
    assert parse_float("1718000000.123456") == pytest.approx(1718000000.123456)
    for bad in ("nan", "inf", "1e400", "", "x", "1,5"):
        assert parse_float(bad) is None


def test_missing_fields_take_defaults() -> None:
    e = parse_event({"Event": "Hangup"})
    assert e == Hangup()
    assert isinstance(e, Hangup) and e.cause is None and e.channel == "" and e.timestamp is None


def test_header_names_are_case_insensitive() -> None:
    e = parse_event({"event": "queuecallerjoin", "QUEUE": "q1", "position": "2", "uniqueid": "1.1"})
    assert isinstance(e, QueueCallerJoin)
    assert (e.queue, e.position, e.uniqueid) == ("q1", 2, "1.1")


def test_unknown_events_keep_name_and_raw() -> None:
    raw = {"Event": "BridgeEnter", "BridgeUniqueid": "abc", "Timestamp": "1718000000.5"}
    e = parse_event(raw)
    assert isinstance(e, UnknownEvent)
    assert e.name == "BridgeEnter" and e.raw == raw and e.timestamp == 1718000000.5
    assert e.get("bridgeuniqueid") == "abc" and e.get("Missing", "-") == "-"

    nameless = parse_event({"Response": "Success"})
    assert isinstance(nameless, UnknownEvent) and nameless.name == ""


def test_non_string_values_do_not_raise() -> None:
    weird: dict[str, object] = {"Event": "Hangup", "Cause": 16, "Uniqueid": None}
    e = parse_event(weird)  # type: ignore[arg-type]
    assert isinstance(e, Hangup) and e.cause is None and e.uniqueid == ""


def test_timestamps() -> None:
    raw = ev("Hangup", CHANNEL, Cause="16", Timestamp="1718000123.456789")
    e = parse_event(raw)
    assert e.timestamp == pytest.approx(1718000123.456789)
    assert parse_event(ev("Hangup", Timestamp="yesterday")).timestamp is None
    assert parse_event(ev("Hangup")).timestamp is None
    assert parse_event(ev("Hangup", Timestamp=" 1718000123 ")).timestamp == 1718000123.0


def test_raw_is_kept_but_out_of_equality_and_repr() -> None:
    raw = ev("QueueCallerJoin", CHANNEL, Queue="hotline-1111", Position="1", Count="1")
    e = parse_event(raw)
    assert e.raw == raw and e.get("Language") == "th"
    assert e == dataclasses.replace(e, raw={})


@pytest.mark.parametrize(
    "raw",
    [
        ev("QueueCallerJoin", CHANNEL, Queue="q", Position="1", Count="1"),
        ev("Newchannel", CHANNEL),
        ev("OriginateResponse", Channel=f"PJSIP/{PHONE}@trunk", CallerIDNum=PHONE),
        ev("VarSet", CHANNEL, Variable="CALLBACK_NUMBER", Value=PHONE),
        ev("AGIExecStart", CHANNEL, Command=f"SAY DIGITS {PHONE} #"),
        ev("Rename", CHANNEL),
    ],
)
def test_repr_never_shows_phone_numbers(raw: dict[str, str]) -> None:
    e = parse_event(raw)
    assert PHONE not in repr(e) and PHONE not in str(e)


def test_events_are_frozen() -> None:
    e = parse_event(ev("Hangup", Cause="16"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.timestamp = 1.0  # type: ignore[misc]


# ------------------------------------------------------------------ declared once


def test_every_declared_field_is_read_from_its_header() -> None:
    """The parser is derived from the records: each field's header fills that field."""
    renamed = {"cause_txt": "Cause-txt", "paused_reason": "PausedReason"}
    samples: dict[object, tuple[str, object]] = {
        str: ("x", "x"),
        int | None: ("7", 7),
        float | None: ("1.5", 1.5),
        bool | None: ("yes", True),
    }
    for name in known_event_names():
        cls = type(parse_event({"Event": name}))
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name == "raw":
                continue
            header = renamed.get(f.name, f.name.replace("_", ""))
            text, value = samples[hints[f.name]]
            e = parse_event({"Event": name, header.upper(): text})
            assert getattr(e, f.name) == value, (name, f.name)


def test_a_field_type_with_no_reader_is_refused_at_declaration() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Odd(AmiEvent):
        EVENT: typing.ClassVar[str] = "Odd"
        items: list[str] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match=r"Odd\.items"):
        FieldReader.of(Odd)
