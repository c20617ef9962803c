"""The servers under test of ``bench.agi_cost``, each in a process of its own.

    python -m bench.agi_serve ours --port P --redis redis://127.0.0.1:R/0 [--profile F]
    python -m bench.agi_serve bare FILE --port P [--gc tuned]
    python bench/agi_serve.py pyst2 FILE      # classic AGI: one process per call

``ours`` is this server's FastAGI server with the ``hotline`` route (the real hotline
files, traces and overrides in Redis, JSON logs written as ``ivr serve`` writes them);
``bare`` is a bare panoramisk FastAGI handler sending the command lines of FILE one
after the other; ``pyst2`` is the same with pyst2 over stdin and stdout. The FastAGI
servers print ``ready`` once listening and serve until stdin closes. ``--profile F``
runs ``ours`` under cProfile and writes its statistics to F when it stops
(``bench.agi_profile``).

The garbage collector: ``ours`` sets it as ``ivr serve`` does once started
(:func:`ivr.tasks.settle_collector`); ``bare`` leaves Python's own settings, as
panoramisk ships, unless ``--gc tuned`` (the same call, once listening). When stdin
closes each server prints one line, ``gc <gen>:<collections>:<total ms>:<longest ms>/<its CPU ms>``
for the three generations, its collections over its life.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import sys
import time
from pathlib import Path
from typing import Any


def _commands(path: str) -> list[str]:
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line]


class _Pauses:
    """The collector's pauses, by generation (``gc.callbacks``): wall time, and the
    process's CPU time during the longest (far less than its wall time: the process
    was waiting for the core, not collecting)."""

    def __init__(self) -> None:
        self.pauses: list[list[tuple[float, float]]] = [[], [], []]
        self._start = self._cpu = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start, self._cpu = time.perf_counter(), time.process_time()
        else:
            wall, cpu = time.perf_counter() - self._start, time.process_time() - self._cpu
            self.pauses[info["generation"]].append((wall, cpu))

    def line(self) -> str:
        out = []
        for g, p in enumerate(self.pauses):
            wall, cpu = max(p, default=(0.0, 0.0))
            total = sum(w for w, _ in p)
            out.append(f"{g}:{len(p)}:{total * 1000:.0f}:{wall * 1000:.1f}/{cpu * 1000:.1f}")
        return "gc " + " ".join(out)


_PAUSES = _Pauses()


async def _until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    print(_PAUSES.line(), flush=True)


async def serve_ours(port: int, redis_url: str, profile: str = "") -> None:
    from ivr.agi.server import AgiServer
    from ivr.calls.base import TraceSaver
    from ivr.calls.hotline import HotlineRoute
    from ivr.config import PROJECT_ROOT
    from ivr.hotlines import HotlineRegistry
    from ivr.log import setup_logging
    from ivr.store.client import redis_client
    from ivr.store.overrides import OverrideStore
    from ivr.store.traces import TraceStore
    from ivr.tasks import settle_collector

    setup_logging("INFO")
    registry = HotlineRegistry(PROJECT_ROOT / "dialplans" / "hotlines", PROJECT_ROOT / "prompts")
    registry.reload()
    redis = redis_client(redis_url)
    saver = TraceSaver(TraceStore(redis, 86400))
    overrides = OverrideStore(redis)
    watch = asyncio.create_task(overrides.watch_forever())  # as `ivr serve` does
    route = HotlineRoute(registry, saver, overrides)
    server = AgiServer({"hotline": route}, port=port, max_calls=100_000, backlog=4096)
    await server.start()
    settle_collector()  # as `ivr serve` does once started
    prof = cProfile.Profile() if profile else None
    if prof is not None:
        prof.enable()  # the calls only, not the start
    print("ready", flush=True)
    await _until_stdin_closes()
    await server.close(grace=1.0)
    watch.cancel()
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)


async def serve_bare(port: int, commands: list[str], tuned: bool) -> None:
    from panoramisk.fast_agi import Application

    async def handler(request: Any) -> None:
        for line in commands:
            await request.send_command(line)

    app = Application(loop=asyncio.get_running_loop())
    app.add_route("hotline", handler)
    server = await asyncio.start_server(app.handler, "127.0.0.1", port, backlog=4096)
    if tuned:
        from ivr.tasks import settle_collector

        settle_collector()
    print("ready", flush=True)
    await _until_stdin_closes()
    server.close()


def run_pyst2(commands: list[str]) -> None:
    from asterisk.agi import AGI

    agi = AGI()
    for line in commands:
        agi.execute(line)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("kind", choices=["ours", "bare", "pyst2"])
    p.add_argument("commands", nargs="?", default="")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--profile", default="", help="ours: write cProfile statistics here")
    p.add_argument("--gc", choices=["shipped", "tuned"], default="shipped", help="bare only")
    a = p.parse_args()
    if a.kind == "pyst2":
        run_pyst2(_commands(a.commands))
    elif a.kind == "bare":
        asyncio.run(serve_bare(a.port, _commands(a.commands), a.gc == "tuned"))
    else:
        asyncio.run(serve_ours(a.port, a.redis, a.profile))


if __name__ == "__main__":
    main()
