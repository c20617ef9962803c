"""Fuzz the AGI reply parser and the AGI environment parser (ivr/agi/replies.py).

Whatever Asterisk (or anything on port 4573) sends, the parsers either return a
reply / the headers or raise :class:`AgiProtocolError` (:class:`EOFError` for a
stream that ends); valid input parses to what it says.
"""

from __future__ import annotations

import asyncio
import re

from hypothesis import example, given
from hypothesis import strategies as st

from ivr.agi import replies
from ivr.agi.replies import (
    AgiProtocolError,
    ReplyAssembler,
    parse_headers,
    parse_line,
    parse_reply,
    quote_arg,
    read_reply,
)

_CODES = st.sampled_from(["100", "200", "510", "511", "520", "520-", "HANGUP", "2OO", ""])
_PIECES = st.sampled_from(
    ["result=", "result=1", " ", "(", ")", "endpos=", "endpos=12", "-", "\r", "\n", "=", "0"]
)
# Lines that look like AGI: a status code, then pieces of the reply grammar and junk.
_LINES = st.builds(
    lambda code, parts: code + "".join(parts),
    _CODES,
    st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=8),
)
_ANY_LINE = st.one_of(_LINES, st.text(max_size=60))


@given(_ANY_LINE)
@example("200 result=1 endpos=" + "9" * 5000)
@example("200 result=1 " + "a=" * 40 + " (")  # hung: exponential backtracking
@example("200 result=1 (" + ") a=b" * 20_000 + " !")  # hung: quadratic backtracking
def test_parse_line_returns_a_reply_or_a_protocol_error(line: str) -> None:
    try:
        reply = parse_line(line)
    except AgiProtocolError:
        return
    assert 100 <= reply.code <= 599
    assert reply.result_int is None or isinstance(reply.result_int, int)


@given(
    st.sampled_from([100, 200]),
    st.text(st.characters(blacklist_categories=["Z", "C"]), max_size=12),
    st.one_of(st.none(), st.text(st.characters(blacklist_characters="\r\n"), max_size=20)),
    st.one_of(st.none(), st.integers(-(10**12), 10**12)),
)
def test_a_valid_reply_line_parses_to_what_it_says(
    code: int, result: str, data: str | None, endpos: int | None
) -> None:
    line = f"{code} result={result}"
    if data is not None:
        line += f" ({data})"
    if endpos is not None:
        line += f" endpos={endpos}"
    reply = parse_line(line + "\n")
    assert (reply.code, reply.result, reply.raw) == (code, result, line)
    if data is not None:
        assert reply.data == data
    assert reply.endpos == endpos


@given(st.lists(_ANY_LINE, max_size=12))
@example(["520-Invalid command syntax.", "520 End of proper usage."])
def test_reply_assembler_never_raises_anything_else(lines: list[str]) -> None:
    asm = ReplyAssembler()
    for line in lines:
        try:
            reply = asm.feed(line)
        except AgiProtocolError:
            asm.reset()
            continue
        if reply is not None:
            assert reply.code != 100
            asm.reset()


@given(st.lists(_ANY_LINE, max_size=12))
def test_parse_reply_returns_one_reply_or_a_protocol_error(lines: list[str]) -> None:
    try:
        parse_reply(lines)
    except AgiProtocolError:
        pass


@given(st.lists(st.one_of(_LINES.map(lambda s: s + "\n"), st.binary(max_size=30)), max_size=10))
def test_read_reply_ends_with_a_reply_eof_or_a_protocol_error(chunks: list[str | bytes]) -> None:
    feed = iter(chunks)

    async def readline() -> str | bytes:
        return next(feed, b"")

    try:
        asyncio.run(read_reply(readline))
    except (AgiProtocolError, EOFError):
        pass


@given(st.lists(_LINES.filter(lambda s: "\n" not in s).map(lambda s: s + "\n"), max_size=4))
@example(["200 result=0 endpos=16000\n"])
@example(["HANGUP\n", "200 result=1\n"])
def test_a_line_read_again_gives_the_reply_it_gave(lines: list[str]) -> None:
    """read_reply keeps the reply of a line that was a reply alone: reading the same
    lines again (the line known by then) gives what reading them the first time did."""

    async def read() -> object:
        feed = iter(lines)

        async def readline() -> str:
            return next(feed, "")

        try:
            return await read_reply(readline)
        except (AgiProtocolError, EOFError) as e:
            return type(e)

    first, again = asyncio.run(read()), asyncio.run(read())
    assert again == first
    if lines and isinstance(first, replies.AgiReply):
        try:
            alone = parse_reply(lines[:1])
        except AgiProtocolError:
            return  # the first line was not a reply alone
        assert first == alone


_ENV_PIECES = st.sampled_from(
    ["agi_x", "agi_arg_1", ":", ": ", " ", "\r", "\n", "\n\n", "value", "a:b", "é", "\x85"]
)


@given(st.lists(st.one_of(_ENV_PIECES, st.text(max_size=6)), max_size=16))
@example(["agi_x", ": ", "a", "\n", "agi_y", ":", "\n", "\n"])
@example(["agi_x", ":  two spaces", "\n", "agi_x", ": again", "\n\n"])
def test_the_environment_read_at_once_is_the_one_read_line_by_line(pieces: list[str]) -> None:
    """parse_headers reads a block shaped as Asterisk sends it with one regular
    expression: whatever the text, it says what reading it line by line says."""
    text = "".join(pieces)
    try:
        expected: object = replies._parse_header_lines(text)
    except AgiProtocolError:
        expected = AgiProtocolError
    try:
        got: object = parse_headers(text.encode())
    except AgiProtocolError:
        got = AgiProtocolError
    if "\x00" not in text:
        assert got == expected


@given(st.binary(max_size=300))
@example(b"agi_request: x\r\n\r\n")
def test_parse_headers_returns_headers_or_a_protocol_error(raw: bytes) -> None:
    try:
        headers = parse_headers(raw)
    except AgiProtocolError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())


_KEYS = st.from_regex(r"agi_[a-z0-9_]{1,12}", fullmatch=True)
_VALUES = st.text(st.characters(blacklist_characters="\r\n\x00", codec="utf-8"), max_size=30)


@given(st.dictionaries(_KEYS, _VALUES, max_size=10))
def test_a_valid_environment_round_trips(env: dict[str, str]) -> None:
    raw = "".join(f"{k}: {v}\n" for k, v in env.items()) + "\n"
    assert parse_headers(raw.encode("utf-8")) == env


@given(st.text(max_size=40))
def test_quote_arg_quotes_or_refuses_a_newline(s: str) -> None:
    try:
        quoted = quote_arg(s)
    except ValueError:
        assert "\n" in s or "\r" in s or "\x00" in s
        return
    assert quoted.startswith('"') and quoted.endswith('"')
    assert _unquote(quoted[1:-1]) == s


def _unquote(inner: str) -> str:
    """Asterisk's reading of a quoted argument: a backslash keeps the next character."""
    out: list[str] = []
    chars = iter(inner)
    for c in chars:
        if c == '"':
            raise AssertionError(f"unescaped quote in {inner!r}")
        out.append(next(chars) if c == "\\" else c)
    return "".join(out)


# The regular expressions parse_line used before it read "(data) key=value…" in one
# pass: the oracle for short lines, where their backtracking does not matter.
_OLD_DATA = re.compile(
    r"\((?P<data>.*)\)(?P<tail>(?: +[A-Za-z_][A-Za-z0-9_]*=\S*)*) *\Z", re.DOTALL
)
_OLD_KV_ONLY = re.compile(r"(?: *[A-Za-z_][A-Za-z0-9_]*=\S*)* *\Z")
_TAILS = st.lists(
    st.sampled_from(["(", ")", " ", "  ", "a=", "b", "=", "endpos=3", "x)", "(y", "\t", "\n", "é"]),
    max_size=10,
).map("".join)


@given(_TAILS)
@example("() ")  # the same but for trailing blanks, which do not matter
def test_the_one_pass_reading_of_the_data_agrees_with_the_old_regex(tail: str) -> None:
    m = _OLD_DATA.match(tail)
    got = replies._data_and_kv(tail)
    got = None if got is None else (got[0], got[1].rstrip(" "))
    assert got == (None if m is None else (m["data"], m["tail"].rstrip(" ")))
    kv_only = all(not t or replies._KV_TOKEN_RE.fullmatch(t) for t in tail.split(" "))
    assert kv_only == bool(_OLD_KV_ONLY.match(tail))
