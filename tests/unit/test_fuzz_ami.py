"""Fuzz the AMI path from bytes to typed events.

Bytes from the AMI socket are cut into messages at blank lines and read as panoramisk
would (``FixedProtocol.data_received``: an event in one pass by
:func:`ivr.ami.frames.read_headers`, anything else by panoramisk's
``Message.from_line`` and :func:`ivr.ami.panoramisk_fixes.plain`), then typed by
:func:`ivr.ami.events.parse_event`, which promises never to raise. Whatever arrives,
in whatever chunks, nothing raises; a well-formed event comes out as it went in, and
an event nobody wants never comes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from ivr.ami.events import AmiEvent, UnknownEvent, known_event_names, parse_event
from ivr.ami.panoramisk_fixes import FixedProtocol, plain


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


class _Server:
    """What the protocol hands events to (the client's manager, row 13)."""

    def __init__(self, got: list[dict[str, str]], wanted: frozenset[str] | None) -> None:
        self.got = got
        self._wanted = wanted
        self.events_received = self.events_dropped = 0

    def wanted(self) -> frozenset[str] | None:
        return self._wanted

    def deliver_event(self, raw: dict[str, str], lower: Mapping[str, str]) -> None:
        assert dict(lower) == {k.lower(): v for k, v in raw.items()}
        self.got.append(raw)


class _Collect(FixedProtocol):
    """The framing the server uses, with every message kept instead of dispatched."""

    def __init__(self, wanted: frozenset[str] | None = None) -> None:
        self.got: list[dict[str, str]] = []
        self.connection_made(_Transport())
        self.encoding = "utf8"  # what panoramisk's Manager sets
        self.factory = _Server(self.got, wanted)

    def handle_message(self, message: Any) -> None:
        self.got.append(plain(message))


def _frame(chunks: list[bytes], wanted: frozenset[str] | None = None) -> list[dict[str, str]]:
    proto = _Collect(wanted)
    for chunk in chunks:
        proto.data_received(chunk)
    return proto.got


_NAMES = st.sampled_from([*sorted(known_event_names()), "Newexten", "", "event", " Hangup "])
_HEADERS = st.sampled_from(
    [
        "Event",
        "Channel",
        "Uniqueid",
        "Linkedid",
        "Cause",
        "Cause-txt",
        "Queue",
        "Position",
        "Count",
        "HoldTime",
        "TalkTime",
        "Paused",
        "Timestamp",
        "DurationMs",
        "Result",
        "content",
        "Response",
        "ActionID",
        "Interface",
        "Status",
        "Value",
        "Variable",
    ]
)
_VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["1", "-1", "0", "yes", "nan", "inf", "1e999", "9" * 50, "1718000000.5"]),
)
_RAW = st.dictionaries(st.one_of(_HEADERS, st.text(max_size=10)), _VALUES, max_size=12)


@given(st.one_of(_RAW, st.builds(lambda n, d: {"Event": n, **d}, _NAMES, _RAW)))
@example({"Event": "QueueCallerJoin", "Position": "9" * 5000})
def test_parse_event_never_raises(raw: dict[str, str]) -> None:
    event = parse_event(raw)
    assert isinstance(event, AmiEvent | UnknownEvent)
    assert isinstance(event.name, str)
    repr(event)


def _wire(events: list[dict[str, str]]) -> bytes:
    return "".join("".join(f"{k}: {v}\r\n" for k, v in e.items()) + "\r\n" for e in events).encode(
        "utf-8"
    )


@st.composite
def _chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


@given(st.binary(max_size=300).flatmap(_chunked))
@example([b"Event: Hangup\r\nUniqueid: 1\r\n\r", b"\nEvent: \xff\xfe\r\n\r\n"])
@example([b"Response: Follows\r\n\r\n"])
def test_any_bytes_in_any_chunks_frame_without_raising(chunks: list[bytes]) -> None:
    for raw in _frame(chunks):
        parse_event(raw)


_WORD = st.text(
    st.one_of(st.characters(min_codepoint=33, max_codepoint=126), st.sampled_from("สายด่วนก่")),
    min_size=1,
    max_size=10,
)
_TOKEN = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,9}", fullmatch=True).filter(
    lambda k: k.lower() not in ("event", "response", "result", "content", "actionid")
)
_EVENTS = st.lists(
    st.builds(
        lambda name, rest: {"Event": name, **rest},
        st.sampled_from(sorted(known_event_names())),
        st.dictionaries(_TOKEN, _WORD, max_size=6).filter(
            lambda d: len({k.lower() for k in d}) == len(d)
        ),
    ),
    min_size=1,
    max_size=4,
)


@given(_EVENTS.flatmap(lambda es: st.tuples(st.just(es), _chunked(_wire(es)))))
@example(  # ก (e0 b8 81) split between two reads: panoramisk alone dropped the header
    (
        [{"Event": "QueueCallerJoin", "A": "ก"}],
        [b"Event: QueueCallerJoin\r\nA: \xe0\xb8", b"\x81\r\n\r\n"],
    )
)
def test_well_formed_events_come_out_as_they_went_in(
    case: tuple[list[dict[str, str]], list[bytes]],
) -> None:
    events, chunks = case
    got = _frame(chunks)
    assert got == events
    assert [parse_event(raw).name for raw in got] == [e["Event"] for e in events]


@given(
    _EVENTS.flatmap(lambda es: st.tuples(st.just(es), _chunked(_wire(es)))),
    st.sets(st.sampled_from(sorted(n.lower() for n in known_event_names()))),
)
def test_events_nobody_wants_never_come_out(
    case: tuple[list[dict[str, str]], list[bytes]], wanted: set[str]
) -> None:
    events, chunks = case
    kept = [e for e in events if e["Event"].lower() in wanted | {"fullybooted"}]
    assert _frame(chunks, frozenset(wanted)) == kept
