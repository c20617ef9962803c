"""What the stream benches share: the server in its own process, the stream
clients in another, a token, and agent pauses driven through a plain AMI client.

The server is ``python -m ivr serve`` with the sandbox settings on free HTTP and
AGI ports (it takes no calls here); its log goes to a temporary file, shown when
it fails. The pauses are ``QueuePause`` actions on a simulated agent added for the
bench (``Local/benchstream@sim-agent/n`` in the complaint queue, removed after):
each gives a ``QueueMemberPause`` event with Asterisk's ``Timestamp`` and one
``agent.state`` stream event. The AMI client is panoramisk's ``Manager`` alone,
so the time it takes an event to reach it is the floor of any AMI application.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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
from redis.asyncio import Redis

from ivr.config import PROJECT_ROOT, Settings, load_settings
from ivr.store.tokens import TokenStore

QUEUE = "complaint"
MEMBER = "Local/benchstream@sim-agent/n"
TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """The server process and where its API answers."""

    proc: asyncio.subprocess.Process
    url: str

    def rss_kib(self) -> int:
        """Resident memory of the server process now (``VmRSS``, KiB)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc/<pid>/status")


@contextlib.asynccontextmanager
async def server() -> AsyncIterator[Server]:
    """``ivr serve`` in a child process, up (``/healthz`` answers) until the block ends."""
    http_port = free_port()
    env = dict(os.environ)
    run = Path(tempfile.mkdtemp(prefix="bench-run-"))
    env.update(IVR_HTTP_PORT=str(http_port), IVR_AGI_PORT=str(free_port()), IVR_RUN_DIR=str(run))
    env.setdefault("IVR_CONFIG", str(PROJECT_ROOT / "deploy" / "sandbox" / "ivr.toml"))
    log = run / "server.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ivr", "serve", env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{http_port}"
    try:
        await _wait_healthy(proc, url, log)
        yield Server(proc, url)
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
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                break
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{url}/healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
    tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-3000:]
    raise RuntimeError(f"the server did not come up (see {log}):\n{tail}")


@contextlib.asynccontextmanager
async def token(settings: Settings) -> AsyncIterator[str]:
    """A supervisor token for the bench, revoked after."""
    redis = Redis.from_url(settings.redis_url)
    store = TokenStore(redis)
    try:
        tok, info = await store.create("supervisor", "bench")
        try:
            yield tok
        finally:
            await store.revoke(info.id)
    finally:
        await redis.aclose()


@dataclass
class Clients:
    """The stream clients' process (:mod:`bench.stream_clients`)."""

    proc: asyncio.subprocess.Process
    got: set[str] = field(default_factory=set)

    async def _line(self) -> str:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), TIMEOUT_S)
        if not raw:
            raise RuntimeError("the stream clients' process ended")
        return raw.decode().strip()

    async def wait_ready(self) -> None:
        while await self._line() != "ready":
            pass

    async def wait_got(self, reason: str) -> None:
        """Until every client has received the pause with ``reason``."""
        while reason not in self.got:
            line = await self._line()
            if line.startswith("got "):
                self.got.add(line[4:])

    async def stop(self) -> list[dict[str, list[float]]]:
        """Close the clients; per client, when each pause reached it and when it was
        published (:mod:`bench.stream_clients`)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"stop\n")
        await self.proc.stdin.drain()
        while not (line := await self._line()).startswith("["):
            pass
        await self.proc.wait()
        out: list[dict[str, list[float]]] = json.loads(line)
        return out


@contextlib.asynccontextmanager
async def clients(url: str, tok: str, n: int) -> AsyncIterator[Clients]:
    """``n`` stream clients in a child process, each past its snapshot."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.stream_clients", f"{url}/api/stream", tok,
        "--clients", str(n), "--interface", MEMBER,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=PROJECT_ROOT,
        limit=1 << 26,  # the results come as one long line
    )  # fmt: skip
    c = Clients(proc)
    try:
        await c.wait_ready()
        yield c
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@dataclass
class PlainAmi:
    """panoramisk's ``Manager`` alone: pauses the bench agent and notes each
    ``QueueMemberPause`` of it: when it arrived here and Asterisk's ``Timestamp``."""

    settings: Settings
    seen: dict[str, tuple[float, float]] = field(default_factory=dict)  # reason -> (here, ts)
    _manager: Any = None
    _waiters: dict[str, asyncio.Future[None]] = field(default_factory=dict)

    def _on_pause(self, _manager: Any, msg: Any) -> None:
        now = time.time()
        if msg.get("Interface") != MEMBER:
            return
        reason = msg.get("PausedReason") or msg.get("Reason") or ""
        key = reason if msg.get("Paused") in ("1", "true") else f"-{reason}"
        self.seen.setdefault(key, (now, float(msg["Timestamp"])))
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def start(self) -> None:
        s = self.settings
        self._manager = Manager(host=s.ami_host, port=s.ami_port, username=s.ami_username,
                                secret=s.ami_secret, ping_delay=0)  # fmt: skip
        self._manager.register_event("QueueMemberPause", self._on_pause)
        await self._manager.connect()

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()

    async def action(self, **headers: str) -> None:
        # as_list given: panoramisk's guess waits for ever on QueueAdd's reply
        sent = self._manager.send_action(headers, as_list=False)
        reply = await asyncio.wait_for(sent, TIMEOUT_S)
        if reply.get("Response") != "Success":
            raise RuntimeError(f"{headers['Action']} failed: {reply.get('Message')}")

    async def pause(self, reason: str, paused: bool = True) -> None:
        """Pause (or unpause) the bench agent and wait for Asterisk's event of it."""
        key = reason if paused else f"-{reason}"
        self.seen.pop(key, None)
        waiter = self._waiters[key] = asyncio.get_running_loop().create_future()
        await self.action(Action="QueuePause", Queue=QUEUE, Interface=MEMBER,
                          Paused="true" if paused else "false", Reason=reason)  # fmt: skip
        await asyncio.wait_for(waiter, TIMEOUT_S)

    @contextlib.asynccontextmanager
    async def member(self) -> AsyncIterator[None]:
        """The bench agent in the queue (unpaused) for the block."""
        with contextlib.suppress(RuntimeError):
            await self.action(Action="QueueRemove", Queue=QUEUE, Interface=MEMBER)
        await self.action(Action="QueueAdd", Queue=QUEUE, Interface=MEMBER,
                          MemberName="benchstream", Paused="false")  # fmt: skip
        try:
            yield
        finally:
            await self.action(Action="QueueRemove", Queue=QUEUE, Interface=MEMBER)


@contextlib.asynccontextmanager
async def plain_ami() -> AsyncIterator[PlainAmi]:
    ami = PlainAmi(load_settings())
    await ami.start()
    try:
        yield ami
    finally:
        ami.close()
