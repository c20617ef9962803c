"""Reading the AGI environment a FastAGI connection starts with.

The block is read as the server always read it, line by line with the stream's
``readline`` (the same errors, at the same points: a line longer than the stream's
limit, the block over its size limit, the connection closed before or inside it, an
empty block), but the lines are cut from what has arrived, not read one await at a
time: the twenty-odd lines Asterisk sends usually come in one read, and twenty
``readline`` cost as much as the rest of reading the environment.

What came after the blank line (Asterisk sends nothing before the first command, but
a client may) is handed back to the stream, to be read as the replies it would have
been.
"""

from __future__ import annotations

import asyncio

__all__ = ["BadEnvironment", "read_environment"]

_READ_ALL = 1 << 20
"""Bytes asked of the stream at once: more than it ever holds (it takes everything)."""


class BadEnvironment(Exception):
    """The connection sent no valid AGI environment (the message says why)."""


async def read_environment(
    reader: asyncio.StreamReader, *, line_limit: int, max_bytes: int
) -> tuple[bytes, asyncio.StreamReader]:
    """The environment block, its blank line included, and the stream to read the
    call's replies from (``reader``, or a new one holding what came after the block
    when the connection has already ended).

    Raises :class:`BadEnvironment`, :class:`ValueError` (a line longer than
    ``line_limit``, as ``readline`` does) or what the stream raises."""
    data = bytearray()
    pos = 0  # where the next line starts
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            if len(data) - pos > line_limit:
                raise ValueError("Separator is not found, and chunk exceed the limit")
            chunk = await reader.read(_READ_ALL)
            if not chunk:
                where = "inside" if len(data) > pos else "before"
                raise BadEnvironment(f"connection closed {where} the AGI environment")
            data += chunk
            continue
        if nl - pos > line_limit:
            raise ValueError("Separator is found, but chunk is longer than limit")
        start, pos = pos, nl + 1
        if pos > max_bytes:
            raise BadEnvironment(f"AGI environment larger than {max_bytes} bytes")
        if nl - start == 0 or (nl - start == 1 and data[start] == 0x0D):  # b"\n", b"\r\n"
            if start == 0:
                raise BadEnvironment("empty AGI environment")
            return bytes(data[:pos]), _rest(reader, data[pos:], line_limit)


def _rest(reader: asyncio.StreamReader, rest: bytearray, limit: int) -> asyncio.StreamReader:
    """The stream for the call: what came after the block, then what comes next."""
    if not rest:
        return reader
    if not reader.at_eof():  # everything received was taken: the stream is empty
        reader.feed_data(bytes(rest))
        return reader
    ended = asyncio.StreamReader(limit=limit)
    ended.feed_data(bytes(rest))
    ended.feed_eof()
    return ended
