"""The AMI byte stream cut into messages and read in one pass (ivr.ami.frames), and
the event classes the session mask asks for (ivr.ami.classes): against the
recorded streams, every message reads as panoramisk reads it, and every event's
``Privilege`` is the class the table says."""

from __future__ import annotations

import gzip
import json

import pytest
from panoramisk.message import Message

from ivr.ami.classes import EVENT_CLASSES, classes_of, event_mask
from ivr.ami.frames import event_name, has_action_id, read_headers, split_frames
from ivr.ami.panoramisk_fixes import plain
from ivr.config import PROJECT_ROOT
from ivr.history.feed import EVENTS as HISTORY_EVENTS
from ivr.probes.call import _WATCHED as PROBE_EVENTS
from ivr.queues import model
from ivr.queues.figures import COUNTED

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "ami"
STREAM = FIXTURES / "stream-1111.ami.gz"


def _frames(stream: bytes) -> list[bytes]:
    frames, rest = split_frames(b"", stream)
    assert rest == b""
    return frames


def test_a_message_cut_anywhere_between_reads_comes_out_whole() -> None:
    data = "Event: QueueCallerJoin\r\nCallerIDName: สมชาย\r\n\r\nEvent: Hangup\r\n\r\n".encode()
    for cut in range(len(data) + 1):
        first, rest = split_frames(b"", data[:cut])
        second, rest = split_frames(rest, data[cut:])
        assert first + second == [data.split(b"\r\n\r\n")[0], b"Event: Hangup"]
        assert rest == b""
    assert read_headers((first + second)[0].decode())[0]["CallerIDName"] == "สมชาย"


def test_the_name_is_read_from_the_first_line_alone() -> None:
    assert event_name(b"Event: VarSet\r\nVariable: X") == b"VarSet"
    assert event_name(b"Event: Hangup") == b"Hangup"
    assert event_name(b"Response: Success\r\nEvent: X") is None
    assert event_name(b"\r\nEvent: Hangup") is None  # not as Asterisk writes it: slow path
    assert has_action_id(b"Event: QueueEntry\r\nActionID: a-1\r\nQueue: q")
    assert not has_action_id(b"Event: Hangup\r\nChannel: ActionID: x")


def test_headers_read_as_panoramisk_reads_them() -> None:
    text = (
        "Event: AGIExecEnd\r\nResult: 200%20result%3D1 \r\nChanVariable: A=1\r\n"
        "content: dropped\r\nno separator\r\nChanVariable: B=2\r\nchanvariable: C=3\r\n"
        "Empty: \r\nLast:  spaces  "
    )
    raw, lower = read_headers(text)
    assert raw == {
        "Event": "AGIExecEnd",
        "Result": "200 result=1",
        "ChanVariable": "A=1\nB=2\nC=3",
        "Empty": "",
        "Last": " spaces",  # the message is stripped at both ends, as panoramisk does
    }
    assert lower == {k.lower(): v for k, v in raw.items()}


def _recorded() -> list[bytes]:
    return _frames(gzip.decompress(STREAM.read_bytes()))


def test_every_recorded_message_reads_as_panoramisk_reads_it() -> None:
    frames = _recorded()
    assert len(frames) > 8000
    for frame in frames:
        text = frame.decode("utf-8", "replace")
        message = Message.from_line(text.strip())
        if message is None:
            continue
        assert read_headers(text)[0] == plain(message), text[:200]


def _privileges() -> dict[str, set[str]]:
    """Event name -> the classes its Privilege header named, over every fixture."""
    found: dict[str, set[str]] = {}
    for frame in _recorded():
        _raw, lower = read_headers(frame.decode("utf-8", "replace"))
        if "event" in lower and "privilege" in lower:
            found.setdefault(lower["event"], set()).add(lower["privilege"])
    for path in sorted(FIXTURES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "Event" in row and "Privilege" in row and "ActionID" not in row:
                found.setdefault(row["Event"], set()).add(row["Privilege"])
    return found


def test_the_class_table_agrees_with_what_asterisk_sent() -> None:
    seen = _privileges()
    checked = 0
    for name, privileges in seen.items():
        if name.lower() in EVENT_CLASSES:
            assert privileges == {f"{EVENT_CLASSES[name.lower()]},all"}, name
            checked += 1
    assert checked >= 25


@pytest.mark.parametrize(
    ("names", "mask"),
    [
        (None, "on"),
        (frozenset(), "off"),
        (frozenset({"queuecallerjoin", "hangup", "userevent"}), "agent,call,user"),
        (frozenset({"varset", "fullybooted"}), "dialplan,system"),
        (frozenset({"queuecallerjoin", "somethingnew"}), "on"),  # unknown: every class
    ],
)
def test_event_mask(names: frozenset[str] | None, mask: str) -> None:
    assert event_mask(names) == mask
    assert classes_of(mask) == (None if mask == "on" else frozenset(mask.split(",")) - {"off"})


def test_every_event_the_server_subscribes_to_has_a_known_class() -> None:
    """Else the server's session would ask for every class (``on``) again."""
    subscribed = [
        *model.HANDLERS,
        *(c.EVENT for c in COUNTED),
        *(c.EVENT for c in HISTORY_EVENTS),
        *PROBE_EVENTS,
        "OriginateResponse",  # the callback dispatcher
        "FullyBooted",  # members restored after a restart
    ]
    unknown = sorted(n for n in subscribed if n.lower() not in EVENT_CLASSES)
    assert not unknown
    assert event_mask(frozenset(n.lower() for n in subscribed)) == "agent,call,dialplan,system,user"
