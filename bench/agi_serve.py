"""The servers under test of ``bench.agi_cost``, each in a process of its own.

    python -m bench.agi_serve ours --port P --redis redis://127.0.0.1:R/0 [--profile F]
    python -m bench.agi_serve bare --port P --commands FILE
    python bench/agi_serve.py pyst2 FILE      # classic AGI: one process per call

``ours`` is this server's FastAGI server with the ``hotline`` route (the real hotline
files, traces and overrides in Redis, JSON logs written as ``ivr serve`` writes them);
``bare`` is a bare panoramisk FastAGI handler sending the command lines of FILE one
after the other; ``pyst2`` is the same with pyst2 over stdin and stdout. The FastAGI
servers print ``ready`` once listening and serve until stdin closes. ``--profile F``
runs ``ours`` under cProfile and writes its statistics to F when it stops
(``bench.agi_profile``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
from pathlib import Path
from typing import Any


def _commands(path: str) -> list[str]:
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line]


async def _until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


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


async def serve_bare(port: int, commands: list[str]) -> None:
    from panoramisk.fast_agi import Application

    async def handler(request: Any) -> None:
        for line in commands:
            await request.send_command(line)

    app = Application(loop=asyncio.get_running_loop())
    app.add_route("hotline", handler)
    server = await asyncio.start_server(app.handler, "127.0.0.1", port, backlog=4096)
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
    a = p.parse_args()
    if a.kind == "pyst2":
        run_pyst2(_commands(a.commands))
    elif a.kind == "bare":
        asyncio.run(serve_bare(a.port, _commands(a.commands)))
    else:
        asyncio.run(serve_ours(a.port, a.redis, a.profile))


if __name__ == "__main__":
    main()
