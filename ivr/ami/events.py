"""AMI events as typed, frozen records: pure functions, no I/O, no logging.

:func:`parse_event` turns one raw AMI event (header name -> value) into the typed
record for the events the server uses, or an :class:`UnknownEvent` for the rest.
It never raises on malformed traffic: a number that does not parse becomes
``None`` and the event is still produced.

Header names are matched case-insensitively; the field names follow Asterisk 22
(``Uniqueid``, ``Linkedid``, ``Cause-txt``, ``DurationMs``, ``CommandId``, …).
Every record keeps the original headers in ``raw`` and the ``Timestamp`` header
(present when ``timestampevents = yes`` in ``manager.conf``) as ``timestamp``.

Each record's fields are declared once, in its dataclass; the parser is derived
from the declaration. A field is read from the header named like the attribute
without its underscores (``caller_id_num`` from ``CallerIDNum``, ``duration_ms``
from ``DurationMs``), unless its metadata names the header(s) with
:func:`headers` (``cause_txt`` from ``Cause-txt``). Its type says how the value is
read: ``str`` as is (``""`` when absent), ``int | None`` with :func:`parse_int`,
``float | None`` with :func:`parse_float`, ``bool | None`` from ``1/0``,
``yes/no``, ``true/false``, ``on/off``. A field of any other type is refused when
the module is imported.

Personal data: fields that may carry a citizen's phone number (caller ID, dial
strings, extensions, AGI command text, variable values) and ``raw`` are left out
of ``repr()``, so logging an event does not leak them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, TypeAlias

from ivr.ami.readers import FieldReader, as_text, headers, parse_float, parse_int

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
    "headers",
    "known_event_names",
    "parse_event",
    "parse_float",
    "parse_int",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})

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
        found = self.raw.get(header)  # as Asterisk spells it
        if found is not None:
            return found
        lower: Mapping[str, str] | None = self.__dict__.get("_lower")
        if lower is None:  # made once, kept beside the fields (the first spelling wins)
            lower = {str(k).lower(): v for k, v in reversed(list(self.raw.items()))}
            object.__setattr__(self, "_lower", lower)
        found = lower.get(header.lower())
        return default if found is None else found


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
    cause_txt: str = field(default="", metadata=headers("Cause-txt"))


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
    # Asterisk 13-16 also sent the reason as ``Reason`` on QueueMemberPause.
    paused_reason: str = field(default="", metadata=headers("PausedReason", "Reason"))
    ringinuse: bool | None = None
    wrapuptime: int | None = None


@dataclass(frozen=True, kw_only=True)
class QueueMemberStatus(_QueueMemberEvent):
    EVENT: ClassVar[str] = "QueueMemberStatus"


@dataclass(frozen=True, kw_only=True)
class QueueMemberPause(_QueueMemberEvent):
    EVENT: ClassVar[str] = "QueueMemberPause"


# --------------------------------------------------------------------------- parsing

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

_READERS: dict[str, tuple[type[AmiEvent], FieldReader]] = {
    cls.EVENT.lower(): (cls, FieldReader.of(cls)) for cls in _TYPED
}
_UNKNOWN = FieldReader.of(UnknownEvent, skip=frozenset({"event_name"}))


def known_event_names() -> frozenset[str]:
    """The AMI event names :func:`parse_event` turns into typed records."""
    return frozenset(p.EVENT for p in _TYPED)


def parse_event(
    raw: Mapping[str, str], lower: Mapping[str, str] | None = None
) -> AmiEvent | UnknownEvent:
    """The typed record for one raw AMI event; never raises on malformed values.

    ``lower``, when the caller has it, is ``raw`` keyed by lower-case header name
    (:func:`ivr.ami.frames.read_headers` gives both): it spares building it again.
    """
    try:
        low: Mapping[str, object] = (
            lower if lower is not None else {str(k).lower(): v for k, v in raw.items()}
        )
    except Exception:  # a broken mapping: keep what we can say about it
        return UnknownEvent(raw=_EMPTY)
    name = as_text(low.get("event")).strip()
    typed = _READERS.get(name.lower())
    event: AmiEvent | UnknownEvent | None = None
    if typed is not None:
        cls, reader = typed
        with contextlib.suppress(Exception):  # a reader bug must not stop event handling
            event = _record(cls, reader.kwargs(low, raw))
    if event is None:
        event = UnknownEvent(**_UNKNOWN.kwargs(low, raw), event_name=name)
    if lower is not None:  # what BaseEvent.get would make
        event.__dict__["_lower"] = lower
    return event


_new = object.__new__


def _record(cls: type[AmiEvent], kwargs: dict[str, object]) -> AmiEvent:
    """``cls(**kwargs)`` for a record whose every field is in ``kwargs`` (what a
    :class:`FieldReader` gives), without the frozen dataclass's ``__init__``: it
    sets each field through ``object.__setattr__``, the dearest step of parsing."""
    event = _new(cls)
    event.__dict__.update(kwargs)
    return event
