"""The AGI environment cut from what has arrived reads as the line-by-line reading
it replaces: the same block, the same errors, and the same bytes left for the call,
whatever the pieces the bytes arrive in."""

from __future__ import annotations

import asyncio
import random

import pytest

from ivr.agi.environment import BadEnvironment, read_environment

LIMIT = 64
MAX = 200
ENV = b"agi_network: yes\nagi_network_script: hotline\nagi_uniqueid: 1.2\nagi_arg_1: 1111\n\n"


async def line_by_line(reader: asyncio.StreamReader) -> bytes:
    """The reading it replaces (``readline`` until the blank line)."""
    buf = bytearray()
    while True:
        line = await reader.readline()
        if not line:
            raise BadEnvironment("connection closed before the AGI environment")
        if not line.endswith(b"\n"):
            raise BadEnvironment("connection closed inside the AGI environment")
        buf += line
        if len(buf) > MAX:
            raise BadEnvironment(f"AGI environment larger than {MAX} bytes")
        if line in (b"\n", b"\r\n"):
            if len(buf) == len(line):
                raise BadEnvironment("empty AGI environment")
            return bytes(buf)


async def outcome(data: bytes, cuts: list[int], new: bool) -> tuple[str, bytes]:
    """What reading ``data`` (arriving in pieces at ``cuts``, then the end) gives:
    the block or the error, then the bytes the call would read."""
    reader = asyncio.StreamReader(limit=LIMIT)

    async def feed() -> None:
        last = 0
        for cut in [*cuts, len(data)]:
            reader.feed_data(data[last:cut])
            last = cut
            await asyncio.sleep(0)
        reader.feed_eof()

    feeding = asyncio.create_task(feed())
    try:
        if new:
            block, reader = await read_environment(reader, line_limit=LIMIT, max_bytes=MAX)
        else:
            block = await line_by_line(reader)
        got = f"block {block!r}"
    except (BadEnvironment, ValueError) as e:
        got = f"{type(e).__name__} {e}"
    await feeding
    rest = b""
    if got.startswith("block"):
        while chunk := await reader.read(1000):
            rest += chunk
    return got, rest


PIECES = [
    ENV,
    b"agi_long: " + b"y" * 50 + b"\n",
    b"x" * 70,
    b"agi_a: b\r\n",
    b"\r\n",
    b"\n",
    b"HANGUP\n",
    b"200 result=0\n",
    b"junk",
]


@pytest.mark.parametrize("seed", range(300))
async def test_reads_as_line_by_line(seed: int) -> None:
    rnd = random.Random(seed)
    data = b"".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 6)))
    if rnd.random() < 0.3:
        data = ENV + data
    cuts = sorted(rnd.sample(range(len(data) + 1), min(len(data), rnd.randint(0, 5))))
    assert await outcome(data, cuts, True) == await outcome(data, cuts, False)


async def test_what_follows_the_block_is_read_by_the_call() -> None:
    got, rest = await outcome(ENV + b"HANGUP\n", [], True)
    assert got == f"block {ENV!r}" and rest == b"HANGUP\n"
