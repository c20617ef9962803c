"""Memory per concurrent call and per waiting caller, each beside a baseline.

* **Per concurrent call**: a server process (pinned to core 0) holds ``--calls``
  FastAGI sessions open, each stopped at its first command (the greeting playing:
  the load generator of ``bench.agi_load``'s protocol has not answered it yet).
  This server's ``hotline`` route (traces and overrides in a private Redis)
  against a bare panoramisk FastAGI handler sending the same first command; each
  process's idle footprint is printed beside.
* **Per waiting caller**: the queue model and the live lineup (the live queues,
  today's figures, the history feed, as ``ivr serve`` wires them on the AMI;
  :mod:`bench.ami_replay`) fed ``--callers`` ``QueueCallerJoin`` events, against the
  same process before them (idle).

Both with ``tracemalloc`` (Python objects traced, after ``gc.collect()``) and RSS
(``/proc/self/statm``: what the kernel gives the process, allocator slack included).

    .venv/bin/python -m bench.memory [--calls 1000] [--callers 2000]

Needs ``redis-server`` on the PATH (a private one is started); no sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import tracemalloc
from pathlib import Path

from bench.agi_load import env_block
from bench.agi_rig import Server, free_port, pin, private_redis
from bench.ami_replay import FakeAsterisk, connected, server_parts
from ivr.config import Settings

_PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def footprint() -> tuple[int, int]:
    """(bytes traced by tracemalloc, RSS bytes) of this process, after a collection."""
    gc.collect()
    rss = int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE
    return tracemalloc.get_traced_memory()[0], rss


def _more_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


# -------------------------------------------------------------- the server processes


async def _answer_measures() -> None:
    """Print ``traced rss`` for each line read on stdin, until it closes."""
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(*footprint(), flush=True)


async def serve(kind: str, port: int, redis_url: str) -> None:
    _more_files()
    tracemalloc.start()
    if kind == "bare":
        from panoramisk.fast_agi import Application

        async def handler(request: object) -> None:
            await request.send_command('STREAM FILE "ivr/greeting-1111" "0123456789*#"')  # type: ignore[attr-defined]

        app = Application(loop=asyncio.get_running_loop())
        app.add_route("hotline", handler)
        server = await asyncio.start_server(app.handler, "127.0.0.1", port, backlog=4096)
        print("ready", flush=True)
        await _answer_measures()
        server.close()
        return
    from ivr.agi.server import AgiServer
    from ivr.calls.base import TraceSaver
    from ivr.calls.hotline import HotlineRoute
    from ivr.config import PROJECT_ROOT
    from ivr.hotlines import HotlineRegistry
    from ivr.log import setup_logging
    from ivr.store.client import redis_client
    from ivr.store.overrides import OverrideStore
    from ivr.store.traces import TraceStore

    setup_logging("INFO")
    registry = HotlineRegistry(PROJECT_ROOT / "dialplans" / "hotlines", PROJECT_ROOT / "prompts")
    registry.reload()
    redis = redis_client(redis_url)
    route = HotlineRoute(registry, TraceSaver(TraceStore(redis, 86400)), OverrideStore(redis))
    agi = AgiServer({"hotline": route}, port=port, max_calls=100_000, backlog=4096)
    await agi.start()
    print("ready", flush=True)
    await _answer_measures()
    await agi.close(grace=0.5)


# -------------------------------------------------------------- per concurrent call


async def _measure(srv: Server) -> tuple[int, int]:
    proc = srv._proc
    assert proc is not None and proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"measure\n")
    await proc.stdin.drain()
    traced, rss = (await proc.stdout.readline()).split()
    return int(traced), int(rss)


class _Held:
    """Calls that read their first command, then answer nothing until released."""

    def __init__(self, port: int, calls: int) -> None:
        self.port = port
        self.calls = calls
        self.started = 0
        self.all_started = asyncio.Event()
        self.release = asyncio.Event()

    async def call(self, uid: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(env_block("hotline", ("1111",), uid, "0000000000"))
        await writer.drain()
        await reader.readline()
        self.started += 1
        if self.started >= self.calls:
            self.all_started.set()
        await self.release.wait()
        writer.close()


async def per_call(kind: str, calls: int, redis_url: str) -> tuple[tuple[int, int], float, float]:
    """(idle footprint, traced and RSS bytes per held call) of one server kind."""
    srv = Server(kind, free_port())
    srv.argv = [sys.executable, "-m", "bench.memory", "--serve", kind, str(srv.port), redis_url]
    async with srv:
        warm = _Held(srv.port, 20)  # imports, first-call caches
        warm.release.set()
        await asyncio.gather(*(warm.call(f"warm.{i}") for i in range(20)))
        idle = await _measure(srv)
        held = _Held(srv.port, calls)
        tasks = [asyncio.ensure_future(held.call(f"m.{i}")) for i in range(calls)]
        await held.all_started.wait()
        full = await _measure(srv)
        held.release.set()
        await asyncio.gather(*tasks)
    return idle, (full[0] - idle[0]) / calls, (full[1] - idle[1]) / calls


# -------------------------------------------------------------- per waiting caller


def _join(i: int) -> bytes:
    return (
        "Event: QueueCallerJoin\r\nPrivilege: agent,all\r\n"
        f"Timestamp: 1796000000.{i:06d}\r\nChannel: PJSIP/anonymous-{i:08x}\r\n"
        "ChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: sipp\r\n"
        "CallerIDName: sipp\r\nConnectedLineNum: <unknown>\r\n"
        "ConnectedLineName: <unknown>\r\nLanguage: th\r\nAccountCode: \r\n"
        "Context: ivr-queue\r\nExten: s\r\nPriority: 3\r\n"
        f"Uniqueid: 1796000000.{i}\r\nLinkedid: 1796000000.{i}\r\nQueue: complaint\r\n"
        f"Position: {i + 1}\r\nCount: {i + 1}\r\n\r\n"
    ).encode()


async def per_caller(callers: int) -> tuple[tuple[int, int], float, float]:
    """(idle footprint, traced and RSS bytes per waiting caller) of the live lineup."""
    data = b"".join(_join(i) for i in range(callers))  # the bytes fed, kept throughout
    tracemalloc.start()
    fake = FakeAsterisk()
    async with connected(fake, events="auto") as ami, server_parts(ami, Settings()) as live:
        await ami.start()
        for _ in range(20):
            await asyncio.sleep(0.01)
        idle = footprint()
        for at in range(0, len(data), 65536):
            fake.feed(data[at : at + 65536])
            await asyncio.sleep(0)
        await asyncio.sleep(1.0)  # arrivals looked up, the queue shared (flushed) once
        assert len(live.states["complaint"].callers) == callers
        full = footprint()
    tracemalloc.stop()
    return idle, (full[0] - idle[0]) / callers, (full[1] - idle[1]) / callers


async def main(a: argparse.Namespace) -> None:
    _more_files()
    pin({1} if (os.cpu_count() or 1) > 1 else {0})
    with private_redis() as redis_url:
        ours = await per_call("ours", a.calls, redis_url)
        bare = await per_call("bare", a.calls, redis_url)
    lineup = await per_caller(a.callers)
    print(f"per concurrent FastAGI call ({a.calls} held, each at its first prompt):")
    for label, (idle, traced, rss) in (("this server (hotline)", ours), ("bare panoramisk", bare)):
        print(
            f"  {label:22} {traced / 1024:6.1f} KiB traced  {rss / 1024:6.1f} KiB RSS a call"
            f"   (idle process: {idle[0] / MB:5.1f} MiB traced, {idle[1] / MB:5.1f} MiB RSS)"
        )
    traced_x, rss_x = ours[1] / bare[1], ours[2] / bare[2]
    print(f"  ours / bare:           {traced_x:6.2f}x traced  {rss_x:6.2f}x RSS")
    idle, traced, rss = lineup
    print(f"per waiting caller (queue model + live lineup, {a.callers} callers in one queue):")
    print(
        f"  {traced / 1024:6.2f} KiB traced  {rss / 1024:6.2f} KiB RSS a caller"
        f"   (the idle process: {idle[1] / MB:5.1f} MiB RSS)"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--calls", type=int, default=1000, help="FastAGI sessions held")
    p.add_argument("--callers", type=int, default=2000, help="callers waiting in a queue")
    p.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "REDIS"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.serve:
        asyncio.run(serve(a.serve[0], int(a.serve[1]), a.serve[2]))
    else:
        asyncio.run(main(a))
