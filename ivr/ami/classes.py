"""The AMI class of each event, and the event mask that asks Asterisk for only the
classes of the events wanted: pure, no I/O.

Asterisk sends a session an event only when every class of the event (its
``Privilege`` header, without ``all``) is in the session's event mask, set by
``Events:`` on login or the ``Events`` action; neither needs any right (a user's
``read =`` classes still bound what it can receive). The classes here are
Asterisk 22's (``manager show event <name>``); the recorded fixtures' ``Privilege``
headers are checked against them by the unit tests. An event not listed here
asks for every class (``on``): wanting it can never cost an event.

Most of what Asterisk sends on a busy line is of classes the server never reads:
``dialplan`` (``Newexten``, ``VarSet``: a line each dialplan step and variable
set), ``agi`` (``AGIExecStart``/``End`` for every AGI command), ``reporting``
(``RTCPSent``/``Received`` every few seconds of each call) and ``dtmf``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

__all__ = ["EVENT_CLASSES", "classes_of", "event_mask"]

_AGENT = (
    "QueueCallerJoin QueueCallerLeave QueueCallerAbandon AgentCalled AgentRingNoAnswer "
    "AgentConnect AgentComplete AgentDump QueueMemberStatus QueueMemberPause "
    "QueueMemberAdded QueueMemberRemoved QueueMemberPenalty QueueMemberRinginuse"
)
_CALL = (
    "Hangup HangupRequest SoftHangupRequest Newchannel Newstate NewCallerid "
    "NewConnectedLine OriginateResponse DialBegin DialEnd DialState BridgeCreate "
    "BridgeEnter BridgeLeave BridgeDestroy MusicOnHoldStart MusicOnHoldStop "
    "ChanSpyStart ChanSpyStop DeviceStateChange"
)

#: lower-case event name -> its class
EVENT_CLASSES: Final[Mapping[str, str]] = {
    **{name.lower(): "agent" for name in _AGENT.split()},
    **{name.lower(): "call" for name in _CALL.split()},
    "userevent": "user",
    "fullybooted": "system",
    "shutdown": "system",
    "varset": "dialplan",
    "newexten": "dialplan",
    "dtmfbegin": "dtmf",
    "dtmfend": "dtmf",
    "agiexecstart": "agi",
    "agiexecend": "agi",
    "rtcpsent": "reporting",
    "rtcpreceived": "reporting",
}


def event_mask(wanted: Iterable[str] | None) -> str:
    """The ``Events`` value asking for the classes of the ``wanted`` events (lower
    case); ``on`` for every class (None, or an event of unknown class), ``off`` when
    nothing is wanted."""
    if wanted is None:
        return "on"
    classes: set[str] = set()
    for name in wanted:
        found = EVENT_CLASSES.get(name)
        if found is None:
            return "on"
        classes.add(found)
    return ",".join(sorted(classes)) if classes else "off"


def classes_of(mask: str) -> frozenset[str] | None:
    """The classes an ``Events`` value asks for (None: every class), as Asterisk reads
    it: ``on``/``yes``/``true`` every class, ``off``/``no``/``false`` none."""
    text = mask.strip().lower()
    if text in ("on", "yes", "true", "y", "t", "1"):
        return None
    if text in ("", "off", "no", "false", "n", "f", "0"):
        return frozenset()
    return frozenset(c.strip() for c in text.split(",") if c.strip())
