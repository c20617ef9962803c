"""An Asterisk-like AGI client: the load generator of ``bench.agi_cost``.

It speaks AGI as Asterisk does, with no PBX in the loop: the ``agi_`` environment,
then one ``200 result=…`` reply per command (``STREAM FILE`` -> ``200 result=0
endpos=…``, ``WAIT FOR DIGIT`` and ``GET DATA`` -> the next digit to press). Over TCP
(FastAGI) or over a child process's stdin and stdout (classic AGI, a process per call).

For every command it records the server's think time: from the previous reply written
(or the environment, for the first command) to the command read.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["CallRun", "answer", "env_block", "fastagi_call", "stdio_call"]

_TIMED = ("STREAM FILE", "CONTROL STREAM FILE", "WAIT FOR DIGIT", "GET DATA")
_QUOTED = re.compile(r'"([^"]*)"|(\S+)')


def env_block(script: str, args: Sequence[str], uniqueid: str, caller: str) -> bytes:
    """The ``agi_`` environment Asterisk 22 sends, ending in an empty line."""
    lines = [
        "agi_network: yes",
        f"agi_network_script: {script}",
        f"agi_request: agi://127.0.0.1/{script}",
        f"agi_channel: PJSIP/trunk-{uniqueid.replace('.', '')}",
        "agi_language: th",
        "agi_type: PJSIP",
        f"agi_uniqueid: {uniqueid}",
        "agi_version: 22.1.0",
        f"agi_callerid: {caller}",
        "agi_calleridname: unknown",
        "agi_callingpres: 0",
        "agi_dnid: 1111",
        "agi_rdnis: unknown",
        "agi_context: hotline-in",
        "agi_extension: 1111",
        "agi_priority: 2",
        "agi_enhanced: 0.0",
        "agi_accountcode: ",
        "agi_threadid: 140000000000000",
    ]
    lines += [f"agi_arg_{i}: {a}" for i, a in enumerate(args, 1)]
    return ("\n".join(lines) + "\n\n").encode()


def _args(command: str) -> list[str]:
    return [a if a else b for a, b in _QUOTED.findall(command)]


def answer(command: str, digits: list[str]) -> str:
    """Asterisk's reply line to one command; a digit pressed is taken from ``digits``.

    ``-`` in ``digits`` lets one prompt that takes keys play to its end (or one
    ``WAIT FOR DIGIT`` time out): no key pressed there."""
    verb = command.upper()
    words = _args(command)
    if verb.startswith(("STREAM FILE", "CONTROL STREAM FILE")):
        escapes = words[3] if verb.startswith("STREAM") and len(words) > 3 else ""
        if digits and digits[0] == "-" and escapes:  # heard to the end, no key
            digits.pop(0)
        elif digits and digits[0] in escapes:
            return f"200 result={ord(digits.pop(0))} endpos=8000"
        return "200 result=0 endpos=16000"
    if verb.startswith("WAIT FOR DIGIT"):
        key = digits.pop(0) if digits else "-"
        return f"200 result={0 if key == '-' else ord(key)}"
    if verb.startswith("GET DATA"):
        pressed = "".join(digits)
        digits.clear()
        return f"200 result={pressed}" if pressed else "200 result= (timeout)"
    if verb.startswith(("SET VARIABLE", "VERBOSE")):
        return "200 result=1"
    if verb.startswith(("GET VARIABLE", "GET FULL VARIABLE")):
        return "200 result=0"
    if verb.startswith("CHANNEL STATUS"):
        return "200 result=6"
    return "200 result=0"


@dataclass
class CallRun:
    """What one call saw: the commands and the server's think time before each."""

    commands: list[str] = field(default_factory=list)
    think: list[float] = field(default_factory=list)


async def _converse(
    reader: asyncio.StreamReader,
    write: Callable[[bytes], Awaitable[None]],
    press: str,
    pace: tuple[float, float],
) -> CallRun:
    run = CallRun()
    digits = list(press)
    sent = time.perf_counter()
    while True:
        line = await reader.readline()
        got = time.perf_counter()
        if not line.endswith(b"\n"):
            return run
        command = line.decode().rstrip("\r\n")
        run.commands.append(command)
        run.think.append(got - sent)
        reply = answer(command, digits)
        if pace[1] > 0 and command.upper().startswith(_TIMED):
            await asyncio.sleep(random.uniform(*pace))  # a prompt playing, a key awaited
        await write((reply + "\n").encode())
        sent = time.perf_counter()


async def fastagi_call(
    port: int,
    script: str,
    args: Sequence[str],
    press: str,
    *,
    uniqueid: str,
    caller: str = "0812345678",
    pace: tuple[float, float] = (0.0, 0.0),
) -> CallRun:
    """One call to a FastAGI server on ``port``, until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def write(data: bytes) -> None:
        writer.write(data)
        await writer.drain()

    try:
        await write(env_block(script, args, uniqueid, caller))
        return await _converse(reader, write, press, pace)
    finally:
        writer.close()


async def stdio_call(
    argv: Sequence[str], args: Sequence[str], press: str, *, uniqueid: str, cpu: int = 0
) -> CallRun:
    """One classic AGI call: a process started for the call, over its stdin and stdout."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    async def write(data: bytes) -> None:
        stdin.write(data)
        await stdin.drain()

    await write(env_block("hotline", args, uniqueid, "0812345678"))
    run = await _converse(proc.stdout, write, press, (0.0, 0.0))
    stdin.close()
    await proc.wait()
    return run
