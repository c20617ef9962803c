"""The processes of ``bench.agi_cost``: a private Redis, the servers under test pinned
to core 0, their CPU seconds, and the classic AGI (pyst2) runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from bench.agi_load import stdio_call

SERVER_CPU = 0
_TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(cpus: set[int]) -> None:
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, cpus)


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / _TICK


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A throwaway ``redis-server`` on a free port, no persistence; yields its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server not found: install it (apt-get install redis-server)")
    port = free_port()
    args = [exe, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


class Server:
    """``python -m bench.agi_serve <kind>`` pinned to core 0, until the block ends."""

    def __init__(
        self,
        kind: str,
        port: int,
        *,
        redis_url: str = "",
        commands: Path | None = None,
        profile: Path | None = None,
        gc: str = "",
        name: str = "",
    ) -> None:
        self.kind = name or kind
        self.gc_line = ""  # the collector's pauses over the server's life (at the end)
        self.port = port
        self.argv = [sys.executable, "-m", "bench.agi_serve", kind]
        if commands is not None:
            self.argv.append(str(commands))
        self.argv += ["--port", str(port)]
        if redis_url:
            self.argv += ["--redis", redis_url]
        if profile is not None:
            self.argv += ["--profile", str(profile)]
        if gc:
            self.argv += ["--gc", gc]
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def __aenter__(self) -> Server:
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,  # the JSON logs, written as in production
            preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CPU}),
        )
        assert self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), 30)
        if line.strip() != b"ready":
            raise SystemExit(f"the {self.kind} server did not start: {line!r}")
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            assert self._proc.stdout is not None
            line = await asyncio.wait_for(self._proc.stdout.readline(), 15)
            self.gc_line = line.decode().strip()
            await asyncio.wait_for(self._proc.wait(), 15)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()


async def pyst2_cost(
    commands: Path, calls: int, args: tuple[str, ...], press: str
) -> dict[str, float]:
    """Classic AGI: one pyst2 process per call, one call at a time, pinned to core 0."""
    script = Path(__file__).with_name("agi_serve.py")
    argv = [sys.executable, str(script), "pyst2", str(commands)]
    await stdio_call(argv, args, press, uniqueid="py.warm")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for i in range(calls):
        await stdio_call(argv, args, press, uniqueid=f"py.{i}", cpu=SERVER_CPU)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"call_ms": cpu / calls * 1000, "cps": calls / cpu, "wall_cps": calls / wall}
