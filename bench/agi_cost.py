"""FastAGI cost per call and per command, and sessions held on one core.

The load generator (``bench.agi_load``) speaks AGI as Asterisk does, no PBX in the
loop, and walks the real 1111 hotline file (the greeting heard to its end, then 3,
``*`` back, 2: into the complaint queue):

* this server: the ``hotline`` route (traces and overrides in a private Redis);
* baseline: a bare panoramisk FastAGI handler sending the same command lines, with
  Python's garbage collector as panoramisk ships it, and the same handler with the
  collector set as ``ivr serve`` sets it (``bare-gc``: what the setting alone gives);
* baseline: classic AGI with pyst2, a process per call over stdin and stdout.

    .venv/bin/python -m bench.agi_cost [--calls 1000] [--runs 5] [--steps 250,500,1000]

The servers run pinned to core 0 (the load generator to core 1); CPU seconds are the
server process's own (``/proc/<pid>/stat``), the pyst2 children's from ``getrusage``.
This server and the bare handlers take turns, run by run, so that all meet the same
load from the rest of a shared machine. Each server's collections (count, total and
longest pause by generation) are printed at the end.
Needs ``redis-server`` on the PATH (started on a free port, nothing else is touched).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import tempfile
from pathlib import Path

from bench.agi_load import CallRun, fastagi_call
from bench.agi_rig import Server, cpu_seconds, free_port, pin, private_redis, pyst2_cost

PRESS = "-3*2"
ARGS = ("1111",)


async def _calls(port: int, n: int, concurrency: int, tag: str) -> list[CallRun]:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> CallRun:
        async with sem:
            return await fastagi_call(port, "hotline", ARGS, PRESS, uniqueid=f"{tag}.{i}")

    return await asyncio.gather(*(one(i) for i in range(n)))


async def _cost_run(server: Server, calls: int, tag: str) -> tuple[float, int]:
    """CPU seconds of ``server`` over ``calls`` calls (20 at a time), and their commands."""
    before = cpu_seconds(server.pid)
    done = await _calls(server.port, calls, 20, tag)
    return cpu_seconds(server.pid) - before, sum(len(c.commands) for c in done)


async def _think(server: Server) -> list[float]:
    """The server's think times of 300 calls, one call at a time."""
    think: list[float] = []
    for c in await _calls(server.port, 300, 1, f"idle{server.kind}"):
        think += c.think[1:]
    return sorted(think)


async def cost_runs(servers: list[Server], calls: int, runs: int) -> list[dict[str, float]]:
    """Median over ``runs`` of CPU per call and per command, and calls per CPU-second, for
    each server; the servers take turns, run by run, so that they meet the same load
    from the rest of the machine. ``ratio_lo``/``ratio_hi``: the range of the first
    server's CPU per call over each other's, run by run."""
    for server in servers:
        await _calls(server.port, min(200, calls), 20, f"warm{server.kind}")
    cpu: dict[str, list[float]] = {s.kind: [] for s in servers}
    commands: dict[str, int] = {}
    for r in range(runs):
        for server in servers:
            seconds, commands[server.kind] = await _cost_run(server, calls, f"{server.kind}{r}")
            cpu[server.kind].append(seconds / calls)
    out = []
    for server in servers:
        per_call = cpu[server.kind]
        think = await _think(server)
        ratios = [o / b for o, b in zip(cpu[servers[0].kind], per_call, strict=True)]
        out.append(
            {
                "call_ms": statistics.median(per_call) * 1000,
                "cmd_us": statistics.median(per_call) * calls / commands[server.kind] * 1e6,
                "cps": 1 / statistics.median(per_call),
                "commands": commands[server.kind] / calls,
                "think_p50_ms": think[len(think) // 2] * 1000,
                "think_p99_ms": think[int(len(think) * 0.99)] * 1000,
                "ratio_lo": min(ratios),
                "ratio_hi": max(ratios),
            }
        )
    return out


async def held(server: Server, sessions: int, seconds: float) -> float:
    """p99 think time (ms) with ``sessions`` calls held at once: each prompt lasts 1-3 s
    (a key pressed at a random moment of it), other commands are answered at once.

    The load generator's own garbage collector is off during the step (and run after
    it): its pauses would be counted as the server's think time."""
    gc.collect()
    gc.disable()
    try:
        return await _held(server, sessions, seconds)
    finally:
        gc.enable()
        gc.collect()


async def _held(server: Server, sessions: int, seconds: float) -> float:
    stop = asyncio.get_running_loop().time() + seconds
    think: list[float] = []

    async def caller(k: int) -> None:
        i = 0
        await asyncio.sleep(random.uniform(0.0, 3.0))  # callers arrive over 3 s, not at once
        while asyncio.get_running_loop().time() < stop:
            run = await fastagi_call(
                server.port, "hotline", ARGS, PRESS, uniqueid=f"h{k}.{i}", pace=(1.0, 3.0)
            )
            think.extend(run.think[1:])
            i += 1

    await asyncio.gather(*(caller(k) for k in range(sessions)))
    think.sort()
    return think[int(len(think) * 0.99)] * 1000


async def concurrency(server: Server, steps: list[int], seconds: float) -> list[tuple[int, float]]:
    """(sessions, p99 ms) for each step, stopping after the first at or over 5 ms."""
    rows: list[tuple[int, float]] = []
    for n in steps:
        p99 = await held(server, n, seconds)
        rows.append((n, p99))
        print(f"  {server.kind}: {n} sessions held, p99 think {p99:.2f} ms", flush=True)
        if p99 >= 5.0:
            break
    return rows


def _reached(rows: list[tuple[int, float]]) -> int:
    return max((n for n, p in rows if p < 5.0), default=0)


def report(
    ours: dict[str, float], bare: dict[str, float], tuned: dict[str, float], py: dict[str, float]
) -> None:
    print(f"\nhotline 1111, press {PRESS}: {ours['commands']:.0f} AGI commands a call")
    print(f"{'figure':34} {'this server':>12} {'bare panoramisk':>16} {'ratio':>7}")
    for label, key, fmt in (
        ("CPU ms per call (server process)", "call_ms", ".3f"),
        ("CPU us per command", "cmd_us", ".1f"),
        ("calls per CPU-second (one core)", "cps", ".0f"),
        ("reply -> next command, p50 ms", "think_p50_ms", ".3f"),
        ("reply -> next command, p99 ms", "think_p99_ms", ".3f"),
    ):
        o, b = ours[key], bare[key]
        print(f"{label:34} {o:>12{fmt}} {b:>16{fmt}} {o / b:>6.2f}x")
    print(
        f"CPU per call, this server over bare, run by run: "
        f"x{bare['ratio_lo']:.2f} to x{bare['ratio_hi']:.2f}"
    )
    print(
        f"bare panoramisk, collector set as ivr serve sets it: {tuned['call_ms']:.3f} CPU ms "
        f"a call; this server over it x{ours['call_ms'] / tuned['call_ms']:.2f} "
        f"(run by run x{tuned['ratio_lo']:.2f} to x{tuned['ratio_hi']:.2f})"
    )
    print(
        f"classic AGI, pyst2: {py['call_ms']:.1f} CPU ms a call, {py['cps']:.1f} calls per "
        f"CPU-second, {py['wall_cps']:.1f} calls/s measured on one core; this server: "
        f"x{ours['cps'] / py['cps']:.0f} per CPU-second"
    )


async def main_async(a: argparse.Namespace) -> None:
    pin({1} if (os.cpu_count() or 1) > 1 else {0})
    steps = [int(s) for s in a.steps.split(",")]
    with tempfile.TemporaryDirectory() as tmp, private_redis() as redis_url:
        commands_file = Path(tmp) / "commands.txt"
        async with Server("ours", free_port(), redis_url=redis_url) as ours:
            first = await fastagi_call(ours.port, "hotline", ARGS, PRESS, uniqueid="rec.1")
            commands_file.write_text("\n".join(first.commands) + "\n", encoding="utf-8")
            print("commands of one call:", *first.commands, sep="\n  ", flush=True)
            async with (
                Server("bare", free_port(), commands=commands_file) as bare,
                Server(
                    "bare", free_port(), commands=commands_file, gc="tuned", name="bare-gc"
                ) as tuned,
            ):
                servers = [ours, bare, tuned]
                ours_cost, bare_cost, tuned_cost = await cost_runs(servers, a.calls, a.runs)
                rows = [await concurrency(s, steps, a.seconds) for s in servers]
        py = await pyst2_cost(commands_file, a.pyst2_calls, ARGS, PRESS)
    report(ours_cost, bare_cost, tuned_cost, py)
    o, b, t = (_reached(r) for r in rows)
    print(
        f"sessions held on one core with p99 think < 5 ms: this server {o}, bare {b}, "
        f"bare with the collector set {t}"
    )
    print("collections (generation:count:total ms:longest ms/its CPU ms):")
    for server in servers:
        print(f"  {server.kind}: {server.gc_line}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=1000, help="calls per run")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--pyst2-calls", type=int, default=100)
    p.add_argument("--steps", default="250,500,1000,1500,2000,3000,4000")
    p.add_argument("--seconds", type=float, default=20.0, help="per concurrency step")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
