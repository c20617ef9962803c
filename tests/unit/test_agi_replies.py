"""AGI reply parsing, with reply lines as Asterisk 22 writes them."""

from __future__ import annotations

import pytest

from ivr.agi.replies import (
    MAX_REPLY_LINES,
    AgiProtocolError,
    AgiReply,
    ReplyAssembler,
    parse_headers,
    parse_line,
    parse_reply,
    quote_arg,
    read_reply,
)
from ivr.agi.types import AgiError

USAGE_520 = [
    "520-Invalid command syntax.  Proper usage follows:",
    " Usage: STREAM FILE <filename> <escape digits> [sample offset]",
    "        Send the given file, allowing playback to be interrupted by the given",
    "        digits, if any.  Use double quotes for the digits if you wish none to be",
    "        permitted.",
    "",
    "        Returns 0 if playback completes without a digit being pressed, the ASCII",
    "        numerical value of the digit if one was pressed, or -1 on error or if the",
    "        channel was disconnected.",
    "520 End of proper usage.",
]


# -- single lines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "result", "data", "endpos"),
    [
        ("200 result=49 endpos=12345", "49", None, 12345),
        ("200 result=0 endpos=0", "0", None, 0),
        ("200 result=-1 endpos=0", "-1", None, 0),
        ("200 result=0", "0", None, None),
        ("200 result=1", "1", None, None),
        ("200 result=-1", "-1", None, None),
        ("200 result= (timeout)", "", "timeout", None),
        ("200 result=123 (timeout)", "123", "timeout", None),
        ("200 result=1 (testvariable)", "1", "testvariable", None),
        ("200 result=1 ()", "1", "", None),
        ("200 result=1 (สวัสดี ครับ)", "1", "สวัสดี ครับ", None),
        ("200 result=1 (a (b) c)", "1", "a (b) c", None),
        ("200 result=1 (dtmf) endpos=8000", "1", "dtmf", 8000),
        ("200 result=0 (timeout) endpos=160000", "0", "timeout", 160000),
        ("200 result=-1 (hangup) endpos=4000", "-1", "hangup", 4000),
        ("200 result=1 (speech) endpos=0 results=1 score0=900", "1", "speech", 0),
        ("200 result=0 Gosub complete", "0", "Gosub complete", None),
        ("200 result=-1 Gosub label not found", "-1", "Gosub label not found", None),
        ("200 result=6", "6", None, None),
        ("200 result=1234", "1234", None, None),
    ],
)
def test_parse_200(line: str, result: str, data: str | None, endpos: int | None) -> None:
    reply = parse_line(line)
    assert reply == AgiReply(code=200, result=result, data=data, endpos=endpos, raw=line)
    assert reply.ok
    assert reply.hangup is False


def test_result_int() -> None:
    assert parse_line("200 result=49 endpos=1").result_int == 49
    assert parse_line("200 result=-1").result_int == -1
    assert parse_line("200 result= (timeout)").result_int is None
    assert parse_line("510 Invalid or unknown command").result_int is None


def test_line_endings_are_stripped() -> None:
    assert parse_line("200 result=1 (x)\n").data == "x"
    assert parse_line("200 result=1 (x)\r\n").raw == "200 result=1 (x)"


def test_parse_5xx() -> None:
    r = parse_line("510 Invalid or unknown command")
    assert (r.code, r.result, r.data, r.endpos) == (510, "", "Invalid or unknown command", None)
    assert not r.ok
    r = parse_line("511 Command Not Permitted on a dead channel or intercept routine")
    assert r.code == 511
    assert r.data == "Command Not Permitted on a dead channel or intercept routine"
    r = parse_line("520 Invalid command syntax.  Proper usage not available.")
    assert r.code == 520
    assert r.data == "Invalid command syntax.  Proper usage not available."


def test_parse_100() -> None:
    r = parse_line("100 result=0 Trying...")
    assert (r.code, r.result, r.data) == (100, "0", "Trying...")


@pytest.mark.parametrize(
    "line",
    [
        "",
        "hello",
        "HTTP/1.1 200 OK",
        "200",
        "200 ",
        "200 endpos=5",
        "200result=1",
        "20 result=1",
        "2000 result=1",
        "abc result=1",
        "600 result=1",
        "520-Invalid command syntax.  Proper usage follows:",
        "\x00\x01\x02",
        "x" * 5000,
    ],
)
def test_malformed_lines_raise(line: str) -> None:
    with pytest.raises(AgiProtocolError) as err:
        parse_line(line)
    assert isinstance(err.value, AgiError)
    # the offending line is in the message, truncated
    assert len(str(err.value)) < 200
    assert repr(line[:10])[1:-1] in str(err.value)


# -- whole replies --------------------------------------------------------------------------


def test_parse_reply_single() -> None:
    r = parse_reply(["200 result=49 endpos=12345"])
    assert (r.code, r.result, r.endpos, r.hangup) == (200, "49", 12345, False)


def test_parse_reply_multiline_520() -> None:
    r = parse_reply(USAGE_520)
    assert r.code == 520
    assert r.data is not None
    assert r.data.startswith(" Usage: STREAM FILE <filename>")
    assert "channel was disconnected." in r.data
    assert "\n\n" in r.data  # the blank line inside the usage text is kept
    assert "520" not in r.data
    assert r.raw == "\n".join(USAGE_520)


def test_520_final_line_glued_to_usage_text() -> None:
    # Usage text without a trailing newline: Asterisk glues the final line to it.
    lines = [
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: WAIT FOR DIGIT <timeout>520 End of proper usage.",
    ]
    r = parse_reply(lines)
    assert r.code == 520
    assert r.data == " Usage: WAIT FOR DIGIT <timeout>"


def test_hangup_then_reply() -> None:
    r = parse_reply(["HANGUP", "200 result=-1"])
    assert (r.code, r.result, r.hangup) == (200, "-1", True)
    r = parse_reply(["HANGUP", "511 Command Not Permitted on a dead channel or intercept routine"])
    assert (r.code, r.hangup) == (511, True)
    r = parse_reply(["HANGUP", "HANGUP", "200 result=1"])
    assert r.hangup


def test_gosub_trying_is_skipped() -> None:
    r = parse_reply(["100 result=0 Trying...", "200 result=0 Gosub complete"])
    assert (r.code, r.result, r.data) == (200, "0", "Gosub complete")
    r = parse_reply(["100 result=0 Trying...", "HANGUP", "200 result=-1"])
    assert r.hangup and r.result == "-1"


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["HANGUP"],
        ["100 result=0 Trying..."],
        USAGE_520[:-1],
        ["200 result=1", "200 result=1"],
        ["200 result=1", "HANGUP"],
    ],
)
def test_parse_reply_incomplete_or_extra(lines: list[str]) -> None:
    with pytest.raises(AgiProtocolError):
        parse_reply(lines)


def test_assembler_incremental() -> None:
    asm = ReplyAssembler()
    assert asm.feed("HANGUP\n") is None
    assert asm.hangup_seen
    for line in USAGE_520[:-1]:
        assert asm.feed(line + "\n") is None
        assert asm.in_progress
    r = asm.feed(USAGE_520[-1] + "\n")
    assert r is not None and r.code == 520 and r.hangup
    assert not asm.in_progress
    asm.reset()
    r = asm.feed("200 result=0")
    assert r is not None and not r.hangup


def test_assembler_bounds_a_runaway_reply() -> None:
    asm = ReplyAssembler()
    asm.feed(USAGE_520[0])
    with pytest.raises(AgiProtocolError, match="too long"):
        for _ in range(MAX_REPLY_LINES + 1):
            asm.feed("more usage text")


async def test_read_reply_from_line_reader() -> None:
    lines = iter([b"HANGUP\n", b"100 result=0 Trying...\n", b"200 result=-1 endpos=0\n"])

    async def readline() -> bytes:
        return next(lines)

    r = await read_reply(readline)
    assert (r.code, r.result, r.endpos, r.hangup) == (200, "-1", 0, True)


async def test_read_reply_eof() -> None:
    async def empty() -> bytes:
        return b""

    with pytest.raises(EOFError):
        await read_reply(empty)

    async def partial() -> str:
        return "200 resu"

    with pytest.raises(EOFError):
        await read_reply(partial)


# -- environment block ----------------------------------------------------------------------

ENV = (
    b"agi_network: yes\n"
    b"agi_network_script: hotline\n"
    b"agi_request: agi://127.0.0.1/hotline\n"
    b"agi_channel: PJSIP/caller-00000001\n"
    b"agi_language: th\n"
    b"agi_type: PJSIP\n"
    b"agi_uniqueid: 1715000000.42\n"
    b"agi_version: 22.1.0\n"
    b"agi_callerid: 0812345678\n"
    b"agi_calleridname: \xe0\xb8\xaa\xe0\xb8\xa1\xe0\xb8\x8a\xe0\xb8\xb2\xe0\xb8\xa2\n"
    b"agi_dnid: 1111\n"
    b"agi_rdnis: unknown\n"
    b"agi_context: hotline-in\n"
    b"agi_extension: 1111\n"
    b"agi_priority: 2\n"
    b"agi_enhanced: 0.0\n"
    b"agi_accountcode: \n"
    b"agi_threadid: 140000000000000\n"
    b"agi_arg_1: 1111\n"
    b"agi_arg_2: a b: c\n"
    b"\n"
)


def test_parse_headers() -> None:
    h = parse_headers(ENV)
    assert h["agi_network_script"] == "hotline"
    assert h["agi_request"] == "agi://127.0.0.1/hotline"
    assert h["agi_calleridname"] == "สมชาย"
    assert h["agi_accountcode"] == ""
    assert h["agi_arg_2"] == "a b: c"
    assert next(iter(h)) == "agi_network"
    assert len(h) == 20


def test_parse_headers_crlf_and_no_space() -> None:
    assert parse_headers(b"agi_a: 1\r\nagi_b:2\r\n\r\n") == {"agi_a": "1", "agi_b": "2"}


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\nHost: x\n\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n",
        b"agi_network: yes\nagi_x\n\n",
        b"agi_a: 1\x00\n\n",
        b"bad key: 1\n\n",
    ],
)
def test_parse_headers_rejects_garbage(raw: bytes) -> None:
    with pytest.raises(AgiProtocolError):
        parse_headers(raw)


# -- argument quoting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("", '""'),
        ("abc", '"abc"'),
        ("a b", '"a b"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("C:\\path", '"C:\\\\path"'),
        ('\\"', '"\\\\\\""'),
        ("ภาษาไทย", '"ภาษาไทย"'),
    ],
)
def test_quote_arg(value: str, quoted: str) -> None:
    assert quote_arg(value) == quoted


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "\n", "a\x00b"])
def test_quote_arg_rejects_newlines(value: str) -> None:
    with pytest.raises(ValueError):
        quote_arg(value)


def _asterisk_parse_args(s: str) -> list[str]:
    """A port of res_agi.c parse_args(): how Asterisk splits a command line."""
    args: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    for ch in s:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and cur is None:
                cur = []
                args.append("")
            continue
        if ch in " \t" and not quoted and not escaped:
            if cur is not None:
                args[-1] = "".join(cur)
            cur = None
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if cur is None:
            cur = []
            args.append("")
        cur.append(ch)
        escaped = False
    if cur is not None:
        args[-1] = "".join(cur)
    return args


@pytest.mark.parametrize(
    "value", ["", "x", "a b", 'say "hi"', "back\\slash", '\\"', "tab\there", "ไทย (1)"]
)
def test_quote_arg_round_trips_through_asterisk_parser(value: str) -> None:
    line = f"SET VARIABLE NAME {quote_arg(value)}"
    assert _asterisk_parse_args(line) == ["SET", "VARIABLE", "NAME", value]
