"""FastAGI reply latency while an AMI event storm is handled in the same event loop.

One server process, pinned to core 0, runs what ``ivr serve`` runs in one event
loop: the FastAGI server with the ``hotline`` route (traces and overrides in a
private Redis) and the AMI client with the live queues, today's figures, the
history feed and the members (:mod:`bench.ami_replay`; the live queues and
figures in the same Redis). The AMI client is logged in to a stand-in Asterisk
that replays the recorded SIP stream (:mod:`bench.record_stream`) over and over at
``--storm`` events a second, sending the session what Asterisk would under its
event mask; each turn of the loop reads what arrived since the last (reads of at
most 64 KiB), as from a socket.

The load generator (core 1) holds ``--sessions`` FastAGI calls walking hotline
1111 (each prompt 1-3 s, as in ``bench.agi_cost``) and times each reply to the
next command (the server's think time). Runs: no storm (baseline), then the
storm with every event sent (``Events: on``, what Asterisk sent the server
before), then with the server's own mask (``auto``).

    .venv/bin/python -m bench.ami_storm [--sessions 200] [--seconds 30] [--storm 2000]
        [--runs 3] [--tree OTHER_CHECKOUT]

Needs ``redis-server`` on the PATH (a private one is started); no sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shlex
import sys
from dataclasses import dataclass

from bench.agi_load import fastagi_call
from bench.agi_rig import Server, cpu_seconds, free_port, pin, private_redis
from bench.ami_replay import Block, FakeAsterisk, blocks, connected, load, server_parts

ARGS = ("1111",)
PRESS = "-3*2"
READ_MAX = 65536


class _Replay:
    """The recorded events as one byte string per event mask, with the offset after
    each event, so that a turn of the storm slices the bytes due at once."""

    def __init__(self, events: list[Block]) -> None:
        self.events = events
        self._cache: dict[frozenset[str], tuple[bytes, list[int]]] = {}

    def due(self, mask: frozenset[str], start: int, end: int) -> bytes:
        """The bytes of events ``start`` to ``end`` (counted round and round) that
        ``mask`` lets through."""
        if mask not in self._cache:
            offsets, total = [0], 0
            for block in self.events:
                total += len(block.data) if block.classes <= mask else 0
                offsets.append(total)
            data = b"".join(b.data for b in self.events if b.classes <= mask)
            self._cache[mask] = (data, offsets)
        data, offsets = self._cache[mask]
        n = len(self.events)
        laps, first, last = (end // n) - (start // n), offsets[start % n], offsets[end % n]
        if laps == 0:
            return data[first:last]
        return data[first:] + data * (laps - 1) + data[:last]


async def _storm(fake: FakeAsterisk, events: list[Block], rate: float) -> None:
    """Replay ``events`` at ``rate`` a second (round and round), what the session's
    mask lets through, as reads of what arrived since the last turn of the loop."""
    loop = asyncio.get_running_loop()
    replay = _Replay(events)
    start, done = loop.time(), 0
    while True:
        due = int((loop.time() - start) * rate)
        pending = replay.due(fake.mask, done, due)
        done = due
        for at in range(0, len(pending), READ_MAX):
            fake.feed(pending[at : at + READ_MAX])
            await asyncio.sleep(0)  # one read per turn of the loop
        await asyncio.sleep(0.005)


async def serve(port: int, redis_url: str, rate: float, mode: str) -> None:
    from ivr.agi.server import AgiServer
    from ivr.calls.base import TraceSaver
    from ivr.calls.hotline import HotlineRoute
    from ivr.config import PROJECT_ROOT, Settings
    from ivr.hotlines import HotlineRegistry
    from ivr.log import setup_logging
    from ivr.store.client import redis_client
    from ivr.store.overrides import OverrideStore
    from ivr.store.traces import TraceStore

    setup_logging("INFO")
    failed = _Failures()
    logging.getLogger("ivr.store").addHandler(failed)
    registry = HotlineRegistry(PROJECT_ROOT / "dialplans" / "hotlines", PROJECT_ROOT / "prompts")
    registry.reload()
    redis = redis_client(redis_url)
    route = HotlineRoute(registry, TraceSaver(TraceStore(redis, 86400)), OverrideStore(redis))
    server = AgiServer({"hotline": route}, port=port, max_calls=100_000, backlog=4096)
    events = blocks(load())
    fake = FakeAsterisk()
    async with connected(fake, events=mode) as ami, server_parts(ami, Settings(), redis):
        await ami.start()
        await server.start()
        storm = asyncio.ensure_future(_storm(fake, events, rate)) if rate > 0 else None
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        if storm is not None:
            storm.cancel()
        await server.close(grace=1.0)
        print(f"redis-failures {failed.count}", flush=True)


class _Failures(logging.Handler):
    """Counts the server's Redis writes that failed (a trace kept in memory)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class Row:
    label: str
    think: list[float]
    cpu: float
    seconds: float
    failures: int  # Redis writes of the server that failed (its Redis timed out)

    def pct(self, q: float) -> float:
        if not self.think:
            return float("nan")
        return self.think[min(len(self.think) - 1, int(len(self.think) * q))] * 1000

    def line(self) -> str:
        return (
            f"{self.label:36} p50 {self.pct(0.5):6.2f}  p95 {self.pct(0.95):7.2f}  "
            f"p99 {self.pct(0.99):7.2f} ms  ({len(self.think)} replies; "
            f"server CPU {self.cpu / self.seconds:.0%})"
            + (f" {self.failures} Redis writes failed!" if self.failures else "")
        )

    @staticmethod
    def median(rows: list[Row]) -> Row:
        """The run whose p99 is the median one."""
        return sorted(rows, key=lambda r: r.pct(0.99))[len(rows) // 2]


async def held(port: int, sessions: int, seconds: float) -> list[float]:
    """Think times (s) with ``sessions`` calls held at once, each prompt 1-3 s."""
    loop = asyncio.get_running_loop()
    stop = loop.time() + seconds
    think: list[float] = []

    async def caller(k: int) -> None:
        i = 0
        await asyncio.sleep(random.uniform(0.0, 3.0))  # callers arrive over 3 s
        while loop.time() < stop:
            run = await fastagi_call(
                port, "hotline", ARGS, PRESS, uniqueid=f"s{k}.{i}", pace=(1.0, 3.0)
            )
            think.extend(run.think[1:])
            i += 1

    await asyncio.gather(*(caller(k) for k in range(sessions)))
    return sorted(think)


async def run(
    label: str, a: argparse.Namespace, redis_url: str, rate: float, mode: str, tree: str = ""
) -> Row:
    srv = Server("ours", free_port())
    serve = [sys.executable, "-m", "bench.ami_storm", "--serve", str(srv.port), redis_url]
    serve += ["--storm", str(rate), "--events", mode]
    # another checkout's server (--tree): its own code, this bench's load
    other = f"cd {shlex.quote(tree)} && exec {shlex.join(serve)}"
    srv.argv = ["sh", "-c", other] if tree else serve
    async with srv:
        await asyncio.sleep(2.0)  # the storm under way
        before = cpu_seconds(srv.pid)
        think = await held(srv.port, a.sessions, a.seconds)
        cpu = cpu_seconds(srv.pid) - before
        proc = srv._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        tail = (await proc.stdout.read()).decode().split()
    failures = int(tail[-1]) if tail[-2:-1] == ["redis-failures"] else -1
    row = Row(label, think, cpu, a.seconds, failures)
    print(f"    {row.line()}", flush=True)
    return row


async def main(a: argparse.Namespace) -> None:
    pin({1} if (os.cpu_count() or 1) > 1 else {0})
    print(
        f"{a.sessions} FastAGI sessions held on core 0 for {a.seconds:g} s a run; "
        "reply -> next command (the server's think time); runs alternate:"
    )
    plan = [("no AMI events (baseline)", 0.0, "auto", "")]
    plan += [(f"storm {a.storm:g} ev/s, Events: {m}", a.storm, m, "") for m in a.modes.split(",")]
    if a.tree:
        plan.append((f"storm {a.storm:g} ev/s, {a.tree}", a.storm, a.tree_events, a.tree))
    rows: dict[str, list[Row]] = {label: [] for label, *_ in plan}
    with private_redis() as redis_url:
        for _ in range(a.runs):
            for label, rate, mode, tree in plan:
                rows[label].append(await run(label, a, redis_url, rate, mode, tree))
    print(f"median of {a.runs} runs (2-core shared VM: the p99 is the noisiest figure):")
    for got in rows.values():
        print(f"  {Row.median(got).line()}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--storm", type=float, default=2000.0, help="AMI events a second")
    p.add_argument("--modes", default="on,auto", help="the AMI client's events= per run")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--tree", default="", help="also a run of another checkout's server")
    p.add_argument("--tree-events", default="on", help="its AMI client's events=")
    p.add_argument("--serve", nargs=2, metavar=("PORT", "REDIS"), help=argparse.SUPPRESS)
    p.add_argument("--events", default="auto", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.serve:
        asyncio.run(serve(int(a.serve[0]), a.serve[1], a.storm, a.events))
    else:
        asyncio.run(main(a))
