"""The AMI byte stream cut into messages, and a message's headers: pure, no I/O.

Asterisk ends each message (response or event) with a blank line. The stream is
cut at ``\\r\\n\\r\\n`` in bytes, so a character split between two socket reads (a
Thai caller or member name) is never cut: a message is decoded once it is whole.

:func:`event_name` reads only the first line of a message (``Event: <name>``), so
an event nobody listens to is dropped without being decoded.
:func:`read_headers` reads a message's ``Key: value`` lines the way panoramisk 1.4's
``Message.from_line`` and :func:`ivr.ami.panoramisk_fixes.plain` together read
them: a line without ``": "`` is skipped; ``Result`` is URL-unquoted and stripped;
a ``content`` header is dropped; a header repeated is kept once, its values joined
with newlines. Header names differing only in case count as one (the first
spelling is kept), as panoramisk's case-insensitive message does.
"""

from __future__ import annotations

from urllib.parse import unquote

__all__ = ["END", "event_name", "has_action_id", "read_headers", "split_frames"]

END = b"\r\n\r\n"
_EVENT = b"Event: "
_ACTION_ID = b"\r\nActionID: "


def split_frames(pending: bytes, data: bytes) -> tuple[list[bytes], bytes]:
    """The whole messages in ``pending + data`` (without their blank line), and the
    bytes left over for the next read."""
    buf = pending + data if pending else data
    frames = buf.split(END)
    rest = frames.pop()
    return frames, rest


def event_name(frame: bytes) -> bytes | None:
    """The event name when the message starts with ``Event: `` (as Asterisk writes
    every event), else None."""
    if not frame.startswith(_EVENT):
        return None
    end = frame.find(b"\r\n", 7)
    return frame[7:] if end < 0 else frame[7:end]


def has_action_id(frame: bytes) -> bool:
    """Whether the message carries an ``ActionID`` (after its first line): part of
    an action's reply, never dropped."""
    return _ACTION_ID in frame


def read_headers(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """``(headers, lower)``: the headers of a decoded message, stripped of blanks at
    both ends as panoramisk strips it, as sent and keyed by lower-case name (what
    :func:`ivr.ami.events.parse_event` reads)."""
    raw: dict[str, str] = {}
    lower: dict[str, str] = {}
    for line in text.strip().split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        low = key.lower()
        if low == "result":
            value = unquote(value).strip()
        elif low == "content":
            continue
        before = lower.get(low)
        if before is None:
            raw[key] = lower[low] = value
            continue
        lower[low] = joined = f"{before}\n{value}"
        for spelling in raw:  # rare: a repeated header (ChanVariable, Variable)
            if spelling.lower() == low:
                raw[spelling] = joined
                break
    return raw, lower
