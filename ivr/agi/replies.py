"""AGI reply parsing: pure functions, no I/O.

Asterisk answers every AGI command with one reply, which is one of:

* ``200 result=N [(data)] [endpos=N]`` (``result`` may be empty: ``200 result= (timeout)``;
  a few commands add free text: ``200 result=0 Gosub complete``),
* ``100 result=0 Trying...``, an intermediate line (GOSUB) followed later by the final reply,
* ``510 Invalid or unknown command``,
* ``511 Command Not Permitted on a dead channel or intercept routine``,
* ``520 Invalid command syntax.  Proper usage not available.`` or the multi-line form
  ``520-Invalid command syntax.  Proper usage follows:`` … ``520 End of proper usage.``

Besides, a FastAGI connection carries an inline ``HANGUP`` line when the channel hangs
up; it may arrive before any reply (the reply still follows).  :class:`ReplyAssembler`
takes lines one at a time and says when a reply is complete.

Most replies are one of a few lines (``200 result=1``, ``200 result=0 endpos=N`` for
a prompt heard to its end): :func:`read_reply` keeps the reply parsed from each line
that was a whole reply alone and carries no data (nothing of a caller's is kept;
replies are immutable, so calls share them), up to :data:`KNOWN_LINES` lines, and
parses only the lines it has not seen.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ivr.agi.types import AgiError

__all__ = [
    "MAX_REPLY_CHARS",
    "MAX_REPLY_LINES",
    "AgiProtocolError",
    "AgiReply",
    "ReplyAssembler",
    "parse_headers",
    "parse_line",
    "parse_reply",
    "quote_arg",
    "read_reply",
]

MAX_REPLY_LINES = 500
"""Upper bound on the lines of one reply (a usage text is about 30 lines)."""

MAX_REPLY_CHARS = 256 * 1024
"""Upper bound on the characters of one reply, all lines together."""

_SHOWN = 80

KNOWN_LINES = 1024
"""Lines kept with their parsed reply by :func:`read_reply` (all forgotten when full)."""

_STATUS_RE = re.compile(r"(?P<code>[1-5][0-9][0-9])(?P<sep>[ -])(?P<rest>.*)\Z", re.DOTALL)
_RESULT_RE = re.compile(r"result=(?P<result>\S*)(?: (?P<tail>.*))?\Z", re.DOTALL)
_KV_TOKEN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=\S*")
_ENDPOS_RE = re.compile(r"(?:^|\s)endpos=(-?[0-9]+)(?=\s|\Z)")
_ENDPOS_DIGITS = 19
"""An ``endpos`` (a sample offset) longer than this is not a number Asterisk sends."""
_HEADER_KEY_RE = re.compile(r"[A-Za-z0-9_]+\Z")
_USAGE_END = "520 End of proper usage."


class AgiProtocolError(AgiError):
    """Asterisk (or whatever is on the other end) sent something that is not AGI."""


def _shown(line: str) -> str:
    """The offending line for an error message: truncated, repr-quoted."""
    if len(line) > _SHOWN:
        return repr(line[:_SHOWN]) + "…"
    return repr(line)


@dataclass(frozen=True)
class AgiReply:
    """One final reply to one AGI command.

    ``result`` is the text after ``result=`` (``""`` for ``200 result= (timeout)`` and for
    non-200 replies); ``data`` is the text in parentheses, or the free text after the result
    (``Gosub complete``), or for 5xx replies the message (the whole usage text for 520).
    ``hangup`` tells that an inline ``HANGUP`` line arrived while this reply was awaited.
    """

    code: int
    result: str
    data: str | None
    endpos: int | None
    raw: str
    hangup: bool = False

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def result_int(self) -> int | None:
        """``result`` as an integer, ``None`` when empty or not a number."""
        try:
            return int(self.result)
        except ValueError:
            return None


def _strip_eol(line: str) -> str:
    if line.endswith("\n"):
        line = line[:-1]
    if line.endswith("\r"):
        line = line[:-1]
    return line


def parse_line(line: str) -> AgiReply:
    """Parse one single-line reply (``200 …``, ``100 …``, ``510 …``, ``511 …``, ``520 …``).

    Raises :class:`AgiProtocolError` for a line that is not an AGI status line.
    """
    line = _strip_eol(line)
    m = _STATUS_RE.match(line)
    if m is None or m.group("sep") != " ":
        raise AgiProtocolError(f"malformed AGI reply line: {_shown(line)}")
    code = int(m.group("code"))
    rest = m.group("rest")
    if code not in (100, 200):
        return AgiReply(code=code, result="", data=rest, endpos=None, raw=line)
    rm = _RESULT_RE.match(rest)
    if rm is None:
        raise AgiProtocolError(f"AGI reply without result=: {_shown(line)}")
    result = rm.group("result")
    tail = rm.group("tail") or ""
    data: str | None = None
    kv_tail = ""
    dm = _data_and_kv(tail)
    if dm is not None:
        data, kv_tail = dm
    elif all(not t or _KV_TOKEN_RE.fullmatch(t) for t in tail.split(" ")):
        kv_tail = tail
    else:
        data = tail.strip() or None
    endpos: int | None = None
    em = _ENDPOS_RE.search(kv_tail)
    if em is not None:
        if len(em.group(1).lstrip("-")) > _ENDPOS_DIGITS:
            raise AgiProtocolError(f"AGI reply with an endpos out of range: {_shown(line)}")
        endpos = int(em.group(1))
    return AgiReply(code=code, result=result, data=data, endpos=endpos, raw=line)


def _data_and_kv(tail: str) -> tuple[str, str] | None:
    """``(data)`` then nothing or ``key=value`` tokens: (data, the tokens), else None.

    The rightmost ``)`` followed by tokens only closes the data, so data may hold ``)``.
    One pass from the end: a regular expression for this shape backtracked
    quadratically on a long line (and exponentially on ``a=a=a=…``), stalling the
    event loop on one line from the peer.
    """
    if not tail.startswith("("):
        return None
    end = len(tail)
    while True:
        while end > 0 and tail[end - 1] == " ":
            end -= 1
        if end >= 2 and tail[end - 1] == ")":
            return tail[1 : end - 1], tail[end:]
        cut = tail.rfind(" ", 0, end)
        if cut < 0 or not _KV_TOKEN_RE.fullmatch(tail, cut + 1, end):
            return None
        end = cut


class ReplyAssembler:
    """Feed reply lines one at a time; :meth:`feed` returns the reply once it is complete.

    ``HANGUP`` lines are remembered (``hangup_seen``) and skipped, ``100`` lines are skipped,
    multi-line ``520-`` replies are collected until the final ``520`` line.  One assembler
    assembles one reply; :meth:`reset` prepares it for the next.
    """

    def __init__(self) -> None:
        self.hangup_seen = False
        self._usage: list[str] | None = None
        self._raw: list[str] = []
        self._chars = 0
        self._lines = 0

    def reset(self) -> None:
        self.hangup_seen = False
        self._usage = None
        self._raw = []
        self._chars = 0
        self._lines = 0

    @property
    def in_progress(self) -> bool:
        """True while a multi-line reply has started and not ended."""
        return self._usage is not None

    def feed(self, line: str) -> AgiReply | None:
        line = _strip_eol(line)
        self._lines += 1
        self._chars += len(line) + 1
        if self._lines > MAX_REPLY_LINES or self._chars > MAX_REPLY_CHARS:
            raise AgiProtocolError(
                f"AGI reply too long ({self._lines} lines, {self._chars} chars), "
                f"last line: {_shown(line)}"
            )
        if self._usage is not None:
            return self._feed_usage(line)
        if line == "HANGUP":
            self.hangup_seen = True
            return None
        if line.startswith("520-"):
            self._raw = [line]
            self._usage = []
            return None
        reply = parse_line(line)
        if reply.code == 100:
            return None
        return self._finish(reply)

    def _feed_usage(self, line: str) -> AgiReply | None:
        assert self._usage is not None
        self._raw.append(line)
        if line.startswith("520 "):
            final = line
        elif line.endswith(_USAGE_END):
            # The usage text did not end with a newline: the final line is glued to it.
            self._usage.append(line[: -len(_USAGE_END)])
            final = _USAGE_END
        else:
            self._usage.append(line)
            return None
        usage = "\n".join(self._usage).strip("\n")
        raw = "\n".join(self._raw)
        reply = AgiReply(code=520, result="", data=usage or final[4:], endpos=None, raw=raw)
        self._usage = None
        return self._finish(reply)

    def _finish(self, reply: AgiReply) -> AgiReply:
        if self.hangup_seen:
            reply = AgiReply(
                code=reply.code,
                result=reply.result,
                data=reply.data,
                endpos=reply.endpos,
                raw=reply.raw,
                hangup=True,
            )
        return reply


def parse_reply(lines: list[str]) -> AgiReply:
    """Parse the complete list of lines of one reply.

    Leading ``HANGUP`` and ``100`` lines are allowed.  Raises :class:`AgiProtocolError`
    when the lines do not form exactly one complete reply.
    """
    asm = ReplyAssembler()
    reply: AgiReply | None = None
    for i, line in enumerate(lines):
        reply = asm.feed(line)
        if reply is not None:
            if i != len(lines) - 1:
                raise AgiProtocolError(
                    f"unexpected line after a complete AGI reply: {_shown(lines[i + 1])}"
                )
            return reply
    raise AgiProtocolError(f"incomplete AGI reply ({len(lines)} lines)")


async def read_reply(
    readline: Callable[[], Awaitable[str | bytes]], encoding: str = "utf-8"
) -> AgiReply:
    """Read lines with ``readline`` until one reply is complete.

    ``readline`` returns one line with its newline; an empty result means end of stream,
    and raises :class:`EOFError`.  A final line without a newline (the stream ended in the
    middle of a line) raises :class:`EOFError` too.
    """
    got = await readline()
    line = got.decode(encoding, errors="replace") if isinstance(got, bytes) else got
    known = _known.get(line)
    if known is not None:
        return known
    asm = ReplyAssembler()
    first = True
    while True:
        if not line.endswith("\n"):
            raise EOFError("AGI connection closed" + (" mid-line" if line else ""))
        reply = asm.feed(line)
        if reply is not None:
            if first and not reply.hangup and reply.data is None:  # the line alone, no data
                if len(_known) >= KNOWN_LINES:
                    _known.clear()
                _known[line] = reply
            return reply
        first = False
        got = await readline()
        line = got.decode(encoding, errors="replace") if isinstance(got, bytes) else got


_known: dict[str, AgiReply] = {}
"""Lines that were a whole reply alone, and that reply (see the module docstring)."""


def parse_headers(raw: bytes) -> dict[str, str]:
    """Parse the ``agi_x: y`` environment block Asterisk sends on connect.

    ``raw`` may include the terminating blank line.  Raises :class:`AgiProtocolError` for
    anything that is not such a block (binary data, lines without a ``key: value`` shape).
    A block as Asterisk sends it (``key: value`` lines ending in a line feed, then the
    blank line) is read by one regular expression; anything else line by line.
    """
    if b"\x00" in raw:
        raise AgiProtocolError("AGI environment contains NUL bytes")
    text = raw.decode("utf-8", errors="replace")
    if _ENV_BLOCK_RE.fullmatch(text):
        return dict(_ENV_LINE_RE.findall(text))
    return _parse_header_lines(text)


_ENV_BLOCK_RE = re.compile(r"(?:[A-Za-z0-9_]+:[^\r\n]*\n)+\n")
_ENV_LINE_RE = re.compile(r"([A-Za-z0-9_]+): ?([^\r\n]*)\n")


def _parse_header_lines(text: str) -> dict[str, str]:
    """:func:`parse_headers` line by line: CR LF endings, blank lines, errors."""
    headers: dict[str, str] = {}
    for line in text.split("\n"):
        line = _strip_eol(line)
        if not line:
            continue
        key, colon, value = line.partition(":")
        if not colon or not _HEADER_KEY_RE.match(key):
            raise AgiProtocolError(f"malformed AGI environment line: {_shown(line)}")
        if value.startswith(" "):
            value = value[1:]
        headers[key] = value
    return headers


def quote_arg(s: str) -> str:
    """Quote one AGI command argument: ``a "b"`` -> ``"a \\"b\\""``.

    Newlines (and NUL) cannot be sent in a command, so they raise :class:`ValueError`.
    """
    if "\n" in s or "\r" in s or "\x00" in s:
        raise ValueError(f"AGI argument must not contain a newline: {s[:_SHOWN]!r}")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
