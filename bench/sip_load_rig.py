"""The processes and connections of ``bench.sip_load``: the server under test, the
AMI session that records Asterisk's timestamped events, SIPp, and CPU readings.

- The server is ``python -m ivr serve`` with the sandbox settings, on the FastAGI
  port the sandbox's dialplan calls (``[agi] port``; it must be free) and a free
  HTTP port; its log goes to a temporary file, shown when it fails to come up.
- The AMI session is panoramisk's ``Manager`` alone, logged in for the event classes
  the bench needs and filtered (``Filter`` action) to the events of
  :data:`bench.sip_load_figures.EVENTS`, so that recording costs Asterisk and the
  machine as little as possible.
- The queue's member for the bench: ``Local/benchsip@sim-agent/n``, paused: the
  queue counts as staffed (agents on a break, within ``paused_grace_s``) so that
  callers wait in it, and nobody is rung.
- SIPp runs :file:`bench/sipp/citizen_walk.xml`, ``-trace_stat`` every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from panoramisk import Manager

from bench.sip_load_figures import EVENTS, SippCounts, sipp_counts
from ivr.config import PROJECT_ROOT, Settings
from ivr.sandbox.pbx import Sandbox

SANDBOX_CONFIG = PROJECT_ROOT / "deploy" / "sandbox" / "ivr.toml"
SCENARIO = PROJECT_ROOT / "bench" / "sipp" / "citizen_walk.xml"
QUEUE = "complaint"
MEMBER = "Local/benchsip@sim-agent/n"
TIMEOUT_S = 30.0
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
# what the event's dict keeps (the rest of each event is dropped at once)
_KEEP = ("Event", "Channel", "Timestamp", "Direction", "Command", "Application", "AppData",
         "Context", "Exten", "Priority", "Queue")  # fmt: skip


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_stat(pid: int) -> str:
    """The text of ``/proc/<pid>/stat`` now."""
    return Path(f"/proc/{pid}/stat").read_text()


def asterisk_pid(settings: Settings) -> int:
    pid = Sandbox(settings).asterisk_pid()
    if pid is None:
        raise SystemExit("the sandbox's Asterisk is not running: start it with `ivr sandbox up`")
    return pid


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


@dataclass
class Served:
    """The server under test: its process, and where its profiles go (``--profile``)."""

    proc: asyncio.subprocess.Process
    profile: Path | None = None
    _profiles: int = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def profile_start(self) -> None:
        if self.profile is not None:
            self.proc.send_signal(signal.SIGUSR1)

    async def profile_stop(self, name: str) -> Path | None:
        """Stop the profile of a run and keep it as ``<name>.prof``."""
        if self.profile is None:
            return None
        self._profiles += 1
        self.proc.send_signal(signal.SIGUSR2)
        done = self.profile / f"{self._profiles}.done"
        deadline = time.monotonic() + TIMEOUT_S
        while not done.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server wrote no profile ({done})")
            await asyncio.sleep(0.2)
        kept = self.profile / f"{name}.prof"
        (self.profile / f"{self._profiles}.prof").replace(kept)
        done.unlink()
        return kept


def serve_argv(tree: Path | None, profile: Path | None) -> tuple[list[str], Path]:
    """The command line of the server and the folder it runs in: this checkout's
    ``ivr serve``, under cProfile with ``profile`` (:mod:`bench.serve_profiled`), or
    another checkout's (``tree``: its own ``ivr`` package, found first in its folder)."""
    if tree is not None and not (tree / "ivr" / "__init__.py").exists():
        raise SystemExit(f"--tree {tree}: no ivr package there")
    if profile is not None:
        if tree is not None and not (tree / "bench" / "serve_profiled.py").exists():
            raise SystemExit(f"--tree {tree} has no bench/serve_profiled.py to profile with")
        argv = [sys.executable, "-m", "bench.serve_profiled", str(profile)]
        return argv, tree or PROJECT_ROOT
    return [sys.executable, "-m", "ivr", "serve"], tree or PROJECT_ROOT


@contextlib.asynccontextmanager
async def server(
    settings: Settings, tree: Path | None = None, profile: Path | None = None
) -> AsyncIterator[Served]:
    """``ivr serve`` in a child process on the sandbox's FastAGI port, up
    (``/healthz`` answers) until the block ends; stopped with SIGTERM."""
    argv, cwd = serve_argv(tree, profile)
    if _port_taken(settings.agi_port):
        raise SystemExit(
            f"the FastAGI port {settings.agi_port} ([agi] port) is in use: stop the server "
            "listening there, the bench starts its own"
        )
    http_port = free_port()
    run = Path(tempfile.mkdtemp(prefix="bench-sip-"))
    env = dict(os.environ, IVR_HTTP_PORT=str(http_port), IVR_RUN_DIR=str(run))
    env.setdefault("IVR_CONFIG", str(SANDBOX_CONFIG))
    log = run / "server.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*argv, env=env, stdout=out, stderr=out, cwd=cwd)
    try:
        await _wait_healthy(proc, f"http://127.0.0.1:{http_port}/healthz", log)
        yield Served(proc, profile)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _wait_healthy(proc: asyncio.subprocess.Process, url: str, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline and proc.returncode is None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
    tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-3000:]
    raise RuntimeError(f"the server did not come up (its log: {log}):\n{tail}")


@dataclass
class Recorder:
    """An AMI session that keeps the bench's events (:data:`EVENTS`) as dicts."""

    settings: Settings
    events: list[dict[str, str]] = field(default_factory=list)
    _manager: Any = None

    def _on_event(self, _manager: Any, msg: Any) -> None:
        if msg.get("Event") in EVENTS:
            self.events.append({k: str(msg[k]) for k in _KEEP if k in msg})

    async def start(self) -> None:
        s = self.settings
        self._manager = Manager(host=s.ami_host, port=s.ami_port, username=s.ami_username,
                                secret=s.ami_secret, ping_delay=0,
                                events="dtmf,agi,dialplan,agent")  # fmt: skip
        self._manager.register_event("*", self._on_event)
        await self._manager.connect()
        for name in EVENTS:
            await self.action(Action="Filter", Operation="Add", Filter=f"Event: {name}")

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()

    async def action(self, **headers: str) -> Any:
        # as_list given: panoramisk's guess waits for ever on QueueAdd's reply
        sent = self._manager.send_action(headers, as_list=False)
        reply = await asyncio.wait_for(sent, TIMEOUT_S)
        if reply.get("Response") != "Success":
            raise RuntimeError(f"AMI {headers['Action']} failed: {reply.get('Message')}")
        return reply

    async def command(self, line: str) -> str:
        reply = await asyncio.wait_for(self._manager.send_command(line), TIMEOUT_S)
        out = reply.get("Output", "")
        return "\n".join(out) if isinstance(out, list) else str(out)

    async def check_twin(self, context: str) -> None:
        out = await self.command(f"dialplan show {context}")
        if f"'{context}'" not in out:
            raise SystemExit(
                f"the sandbox's dialplan has no [{context}]: run `ivr sandbox up` from "
                "this checkout (it writes deploy/sandbox/asterisk/ into Asterisk)"
            )

    async def paused_member(self) -> None:
        """The bench's member in the queue, paused from now (see the module docstring)."""
        with contextlib.suppress(RuntimeError):
            await self.action(Action="QueueRemove", Queue=QUEUE, Interface=MEMBER)
        await self.action(Action="QueueAdd", Queue=QUEUE, Interface=MEMBER,
                          MemberName="benchsip", Paused="true", Reason="bench")  # fmt: skip

    async def remove_member(self) -> None:
        with contextlib.suppress(RuntimeError):
            await self.action(Action="QueueRemove", Queue=QUEUE, Interface=MEMBER)

    async def wait_no_citizen(self, within: float = 60.0) -> None:
        """Until Asterisk holds no SIP citizen's channel (the run's calls are over)."""
        deadline = time.monotonic() + within
        while "PJSIP/anonymous" in await self.command("core show channels concise"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"SIP citizens' channels still up after {within:.0f} s")
            await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def recorder(settings: Settings) -> AsyncIterator[Recorder]:
    rec = Recorder(settings)
    await rec.start()
    try:
        yield rec
    finally:
        await rec.remove_member()
        rec.close()


@dataclass(frozen=True)
class SippRun:
    counts: SippCounts
    returncode: int
    errors: str  # the end of SIPp's error log, when there is one


async def run_sipp(settings: Settings, number: str, calls: int, rate: float,
                   hold_ms: int, limit_s: float) -> SippRun:  # fmt: skip
    """``calls`` citizens calling ``number``, ``rate`` new calls a second, at most
    ``calls`` at once, each ``hold_ms`` in the queue."""
    work = Path(tempfile.mkdtemp(prefix="bench-sipp-"))
    stat, err = work / "stat.csv", work / "errors.log"
    args = [
        f"127.0.0.1:{settings.sip_port}", "-sf", str(SCENARIO), "-s", number,
        "-i", "127.0.0.1", "-p", str(free_port(socket.SOCK_DGRAM)),
        "-mp", str(free_port(socket.SOCK_DGRAM)),
        "-m", str(calls), "-l", str(calls), "-r", f"{rate:g}", "-d", str(hold_ms),
        "-nostdin", "-trace_stat", "-stf", str(stat), "-fd", "1",
        "-trace_err", "-error_file", str(err), "-max_socket", str(max(1024, 4 * calls)),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=work,
    )
    try:
        await asyncio.wait_for(proc.wait(), limit_s)
    except TimeoutError:
        proc.send_signal(signal.SIGINT)  # SIPp writes its last statistics and ends
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    errors = err.read_text(errors="replace")[-2000:] if err.exists() else ""
    counts = sipp_counts(stat.read_text()) if stat.exists() else SippCounts(0, 0, calls, 0)
    return SippRun(counts, proc.returncode or 0, errors)
