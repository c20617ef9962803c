"""AMI events as typed, frozen records: pure functions, no I/O, no logging.

:func:`parse_event` turns one raw AMI event (header name -> value) into the typed
record for the events the server uses, or an :class:`UnknownEvent` for the rest.
It never raises on malformed traffic: a number that does not parse becomes
``None`` and the event is still produced.

Header names are matched case-insensitively; the field names follow Asterisk 22
(``Uniqueid``, ``Linkedid``, ``Cause-txt``, ``DurationMs``, ``CommandId``, …).
Every record keeps the original headers in ``raw`` and the ``Timestamp`` header
(present when ``timestampevents = yes`` in ``manager.conf``) as ``timestamp``.

Personal data: fields that may carry a citizen's phone number (caller ID, dial
strings, extensions, AGI command text, variable values) and ``raw`` are left out
of ``repr()``, so logging an event does not leak them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, TypeAlias, TypedDict

__all__ = [
    "AGIExecEnd",
    "AGIExecStart",
    "AgentCalled",
    "AgentComplete",
    "AgentConnect",
    "AmiEvent",
    "AnyEvent",
    "BaseEvent",
    "DTMFEnd",
    "FullyBooted",
    "Hangup",
    "Newchannel",
    "OriginateResponse",
    "QueueCallerAbandon",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueMemberPause",
    "QueueMemberStatus",
    "UnknownEvent",
    "VarSet",
    "known_event_names",
    "parse_event",
    "parse_float",
    "parse_int",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})
_INT_RE = re.compile(r"[+-]?\d+", re.ASCII)
_FLOAT_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_int(value: object) -> int | None:
    """ASCII decimal integer (surrounding blanks allowed), else ``None``."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > 30 or not _INT_RE.fullmatch(text):
        return None
    return int(text)


def parse_float(value: object) -> float | None:
    """Finite ASCII decimal number such as ``1718000000.123456``, else ``None``."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > 40 or not _FLOAT_RE.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _parse_bool(value: object) -> bool | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, kw_only=True)
class BaseEvent:
    """What every event has: the raw headers and the optional ``Timestamp``."""

    raw: Mapping[str, str] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)
    timestamp: float | None = None

    @property
    def name(self) -> str:
        raise NotImplementedError

    def get(self, header: str, default: str = "") -> str:
        """A raw header, looked up case-insensitively (``ActionID``, ``Privilege``, …)."""
        wanted = header.lower()
        for key, value in self.raw.items():
            if key.lower() == wanted:
                return value
        return default


@dataclass(frozen=True, kw_only=True)
class AmiEvent(BaseEvent):
    """Base of the typed events; ``EVENT`` is the AMI event name."""

    EVENT: ClassVar[str] = ""

    @property
    def name(self) -> str:
        return self.EVENT


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(BaseEvent):
    """An event the server has no typed record for (or one without an ``Event`` header)."""

    event_name: str = ""

    @property
    def name(self) -> str:
        return self.event_name


AnyEvent: TypeAlias = AmiEvent | UnknownEvent


@dataclass(frozen=True, kw_only=True)
class _ChannelEvent(AmiEvent):
    channel: str = ""
    uniqueid: str = ""
    linkedid: str = ""


@dataclass(frozen=True, kw_only=True)
class FullyBooted(AmiEvent):
    """Sent after login (to users with ``system`` read permission) once Asterisk is up."""

    EVENT: ClassVar[str] = "FullyBooted"
    status: str = ""
    uptime: int | None = None
    last_reload: int | None = None


@dataclass(frozen=True, kw_only=True)
class Newchannel(_ChannelEvent):
    EVENT: ClassVar[str] = "Newchannel"
    channel_state: int | None = None
    channel_state_desc: str = ""
    caller_id_num: str = field(default="", repr=False)
    caller_id_name: str = field(default="", repr=False)
    context: str = ""
    exten: str = field(default="", repr=False)
    priority: int | None = None


@dataclass(frozen=True, kw_only=True)
class Hangup(_ChannelEvent):
    EVENT: ClassVar[str] = "Hangup"
    cause: int | None = None
    cause_txt: str = ""


@dataclass(frozen=True, kw_only=True)
class DTMFEnd(_ChannelEvent):
    EVENT: ClassVar[str] = "DTMFEnd"
    digit: str = ""
    duration_ms: int | None = None
    direction: str = ""  # "Received" or "Sent"


@dataclass(frozen=True, kw_only=True)
class AGIExecStart(_ChannelEvent):
    EVENT: ClassVar[str] = "AGIExecStart"
    command: str = field(default="", repr=False)
    command_id: str = ""


@dataclass(frozen=True, kw_only=True)
class AGIExecEnd(AGIExecStart):
    EVENT: ClassVar[str] = "AGIExecEnd"
    result_code: int | None = None
    result: str = ""


@dataclass(frozen=True, kw_only=True)
class OriginateResponse(AmiEvent):
    """Outcome of an asynchronous ``Originate``; ``action_id`` ties it to the request."""

    EVENT: ClassVar[str] = "OriginateResponse"
    action_id: str = ""
    response: str = ""  # "Success" or "Failure"
    channel: str = field(default="", repr=False)
    context: str = ""
    exten: str = field(default="", repr=False)
    reason: int | None = None
    uniqueid: str = ""
    caller_id_num: str = field(default="", repr=False)

    @property
    def success(self) -> bool:
        return self.response.lower() == "success"


@dataclass(frozen=True, kw_only=True)
class VarSet(_ChannelEvent):
    EVENT: ClassVar[str] = "VarSet"
    variable: str = ""
    value: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class QueueCallerJoin(_ChannelEvent):
    EVENT: ClassVar[str] = "QueueCallerJoin"
    queue: str = ""
    position: int | None = None
    count: int | None = None
    caller_id_num: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class QueueCallerLeave(_ChannelEvent):
    EVENT: ClassVar[str] = "QueueCallerLeave"
    queue: str = ""
    position: int | None = None
    count: int | None = None


@dataclass(frozen=True, kw_only=True)
class QueueCallerAbandon(_ChannelEvent):
    EVENT: ClassVar[str] = "QueueCallerAbandon"
    queue: str = ""
    position: int | None = None
    original_position: int | None = None
    hold_time: int | None = None


@dataclass(frozen=True, kw_only=True)
class _AgentEvent(_ChannelEvent):
    """Caller channel fields plus the queue member and the agent's (``Dest``) channel."""

    queue: str = ""
    member_name: str = ""
    interface: str = ""
    dest_channel: str = ""
    dest_uniqueid: str = ""


@dataclass(frozen=True, kw_only=True)
class AgentCalled(_AgentEvent):
    EVENT: ClassVar[str] = "AgentCalled"


@dataclass(frozen=True, kw_only=True)
class AgentConnect(_AgentEvent):
    EVENT: ClassVar[str] = "AgentConnect"
    hold_time: int | None = None
    ring_time: int | None = None


@dataclass(frozen=True, kw_only=True)
class AgentComplete(_AgentEvent):
    EVENT: ClassVar[str] = "AgentComplete"
    hold_time: int | None = None
    talk_time: int | None = None
    reason: str = ""  # "caller", "agent" or "transfer"


@dataclass(frozen=True, kw_only=True)
class _QueueMemberEvent(AmiEvent):
    queue: str = ""
    member_name: str = ""
    interface: str = ""
    state_interface: str = ""
    membership: str = ""  # dynamic, realtime, static
    penalty: int | None = None
    calls_taken: int | None = None
    last_call: int | None = None
    last_pause: int | None = None
    login_time: int | None = None
    in_call: bool | None = None
    status: int | None = None  # AST_DEVICE_* (1 not in use, 2 in use, 6 ringing, …)
    paused: bool | None = None
    paused_reason: str = ""
    ringinuse: bool | None = None
    wrapuptime: int | None = None


@dataclass(frozen=True, kw_only=True)
class QueueMemberStatus(_QueueMemberEvent):
    EVENT: ClassVar[str] = "QueueMemberStatus"


@dataclass(frozen=True, kw_only=True)
class QueueMemberPause(_QueueMemberEvent):
    EVENT: ClassVar[str] = "QueueMemberPause"


# --------------------------------------------------------------------------- parsing


class _BaseKw(TypedDict):
    raw: Mapping[str, str]
    timestamp: float | None


class _ChanKw(_BaseKw):
    channel: str
    uniqueid: str
    linkedid: str


class _AgentKw(_ChanKw):
    queue: str
    member_name: str
    interface: str
    dest_channel: str
    dest_uniqueid: str


class _MemberKw(_BaseKw):
    queue: str
    member_name: str
    interface: str
    state_interface: str
    membership: str
    penalty: int | None
    calls_taken: int | None
    last_call: int | None
    last_pause: int | None
    login_time: int | None
    in_call: bool | None
    status: int | None
    paused: bool | None
    paused_reason: str
    ringinuse: bool | None
    wrapuptime: int | None


class _Fields:
    """Case-insensitive, never-raising access to one raw event."""

    __slots__ = ("_lower", "raw")

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw
        self._lower = {str(k).lower(): v for k, v in raw.items()}

    def s(self, key: str) -> str:
        value = self._lower.get(key.lower())
        if value is None:
            return ""
        return value if isinstance(value, str) else str(value)

    def i(self, key: str) -> int | None:
        return parse_int(self._lower.get(key.lower()))

    def b(self, key: str) -> bool | None:
        return _parse_bool(self._lower.get(key.lower()))

    def base(self) -> _BaseKw:
        return {"raw": self.raw, "timestamp": parse_float(self._lower.get("timestamp"))}

    def chan(self) -> _ChanKw:
        return {
            **self.base(),
            "channel": self.s("Channel"),
            "uniqueid": self.s("Uniqueid"),
            "linkedid": self.s("Linkedid"),
        }

    def agent(self) -> _AgentKw:
        return {
            **self.chan(),
            "queue": self.s("Queue"),
            "member_name": self.s("MemberName"),
            "interface": self.s("Interface"),
            "dest_channel": self.s("DestChannel"),
            "dest_uniqueid": self.s("DestUniqueid"),
        }

    def member(self) -> _MemberKw:
        return {
            **self.base(),
            "queue": self.s("Queue"),
            "member_name": self.s("MemberName"),
            "interface": self.s("Interface"),
            "state_interface": self.s("StateInterface"),
            "membership": self.s("Membership"),
            "penalty": self.i("Penalty"),
            "calls_taken": self.i("CallsTaken"),
            "last_call": self.i("LastCall"),
            "last_pause": self.i("LastPause"),
            "login_time": self.i("LoginTime"),
            "in_call": self.b("InCall"),
            "status": self.i("Status"),
            "paused": self.b("Paused"),
            # Asterisk 13-16 also sent ``Reason`` on QueueMemberPause.
            "paused_reason": self.s("PausedReason") or self.s("Reason"),
            "ringinuse": self.b("Ringinuse"),
            "wrapuptime": self.i("Wrapuptime"),
        }


_Parser = Callable[[_Fields], AmiEvent]
_PARSERS: dict[str, _Parser] = {}


def _parser(cls: type[AmiEvent]) -> Callable[[_Parser], _Parser]:
    def register(fn: _Parser) -> _Parser:
        _PARSERS[cls.EVENT.lower()] = fn
        return fn

    return register


@_parser(FullyBooted)
def _fully_booted(f: _Fields) -> AmiEvent:
    return FullyBooted(
        **f.base(),
        status=f.s("Status"),
        uptime=f.i("Uptime"),
        last_reload=f.i("LastReload"),
    )


@_parser(Newchannel)
def _newchannel(f: _Fields) -> AmiEvent:
    return Newchannel(
        **f.chan(),
        channel_state=f.i("ChannelState"),
        channel_state_desc=f.s("ChannelStateDesc"),
        caller_id_num=f.s("CallerIDNum"),
        caller_id_name=f.s("CallerIDName"),
        context=f.s("Context"),
        exten=f.s("Exten"),
        priority=f.i("Priority"),
    )


@_parser(Hangup)
def _hangup(f: _Fields) -> AmiEvent:
    return Hangup(**f.chan(), cause=f.i("Cause"), cause_txt=f.s("Cause-txt"))


@_parser(DTMFEnd)
def _dtmf_end(f: _Fields) -> AmiEvent:
    return DTMFEnd(
        **f.chan(),
        digit=f.s("Digit"),
        duration_ms=f.i("DurationMs"),
        direction=f.s("Direction"),
    )


@_parser(AGIExecStart)
def _agi_exec_start(f: _Fields) -> AmiEvent:
    return AGIExecStart(**f.chan(), command=f.s("Command"), command_id=f.s("CommandId"))


@_parser(AGIExecEnd)
def _agi_exec_end(f: _Fields) -> AmiEvent:
    return AGIExecEnd(
        **f.chan(),
        command=f.s("Command"),
        command_id=f.s("CommandId"),
        result_code=f.i("ResultCode"),
        result=f.s("Result"),
    )


@_parser(OriginateResponse)
def _originate_response(f: _Fields) -> AmiEvent:
    return OriginateResponse(
        **f.base(),
        action_id=f.s("ActionID"),
        response=f.s("Response"),
        channel=f.s("Channel"),
        context=f.s("Context"),
        exten=f.s("Exten"),
        reason=f.i("Reason"),
        uniqueid=f.s("Uniqueid"),
        caller_id_num=f.s("CallerIDNum"),
    )


@_parser(VarSet)
def _var_set(f: _Fields) -> AmiEvent:
    return VarSet(**f.chan(), variable=f.s("Variable"), value=f.s("Value"))


@_parser(QueueCallerJoin)
def _queue_caller_join(f: _Fields) -> AmiEvent:
    return QueueCallerJoin(
        **f.chan(),
        queue=f.s("Queue"),
        position=f.i("Position"),
        count=f.i("Count"),
        caller_id_num=f.s("CallerIDNum"),
    )


@_parser(QueueCallerLeave)
def _queue_caller_leave(f: _Fields) -> AmiEvent:
    return QueueCallerLeave(
        **f.chan(),
        queue=f.s("Queue"),
        position=f.i("Position"),
        count=f.i("Count"),
    )


@_parser(QueueCallerAbandon)
def _queue_caller_abandon(f: _Fields) -> AmiEvent:
    return QueueCallerAbandon(
        **f.chan(),
        queue=f.s("Queue"),
        position=f.i("Position"),
        original_position=f.i("OriginalPosition"),
        hold_time=f.i("HoldTime"),
    )


@_parser(AgentCalled)
def _agent_called(f: _Fields) -> AmiEvent:
    return AgentCalled(**f.agent())


@_parser(AgentConnect)
def _agent_connect(f: _Fields) -> AmiEvent:
    return AgentConnect(
        **f.agent(),
        hold_time=f.i("HoldTime"),
        ring_time=f.i("RingTime"),
    )


@_parser(AgentComplete)
def _agent_complete(f: _Fields) -> AmiEvent:
    return AgentComplete(
        **f.agent(),
        hold_time=f.i("HoldTime"),
        talk_time=f.i("TalkTime"),
        reason=f.s("Reason"),
    )


@_parser(QueueMemberStatus)
def _queue_member_status(f: _Fields) -> AmiEvent:
    return QueueMemberStatus(**f.member())


@_parser(QueueMemberPause)
def _queue_member_pause(f: _Fields) -> AmiEvent:
    return QueueMemberPause(**f.member())


def known_event_names() -> frozenset[str]:
    """The AMI event names :func:`parse_event` turns into typed records."""
    return frozenset(p.EVENT for p in _TYPED)


_TYPED: tuple[type[AmiEvent], ...] = (
    FullyBooted,
    Newchannel,
    Hangup,
    DTMFEnd,
    AGIExecStart,
    AGIExecEnd,
    OriginateResponse,
    VarSet,
    QueueCallerJoin,
    QueueCallerLeave,
    QueueCallerAbandon,
    AgentCalled,
    AgentConnect,
    AgentComplete,
    QueueMemberStatus,
    QueueMemberPause,
)


def parse_event(raw: Mapping[str, str]) -> AmiEvent | UnknownEvent:
    """The typed record for one raw AMI event; never raises on malformed values."""
    try:
        fields = _Fields(raw)
    except Exception:  # a broken mapping: keep what we can say about it
        return UnknownEvent(raw=_EMPTY)
    name = fields.s("Event").strip()
    parser = _PARSERS.get(name.lower())
    if parser is not None:
        try:
            return parser(fields)
        except Exception:  # defensive: a parser bug must not stop event handling
            pass
    return UnknownEvent(**fields.base(), event_name=name)
