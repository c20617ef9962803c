"""Where the ``hotline`` route's CPU goes: cProfile of the server under the load of
``bench.agi_cost`` (the same calls, 20 at a time, traces and overrides in a private
Redis).

    .venv/bin/python -m bench.agi_profile [--calls 2000] [--top 40] [--out agi.prof]

Prints the functions by their own time and by their cumulative time; the statistics
stay in ``--out`` for ``python -m pstats``. cProfile slows the server several times
over: read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
from pathlib import Path

from bench.agi_cost import _calls
from bench.agi_rig import Server, free_port, pin, private_redis


async def main_async(a: argparse.Namespace, out: Path) -> None:
    pin({1} if (os.cpu_count() or 1) > 1 else {0})
    with private_redis() as redis_url:
        async with Server("ours", free_port(), redis_url=redis_url, profile=out) as ours:
            await _calls(ours.port, a.calls, 20, "prof")
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(a.top)
    stats.sort_stats("cumulative").print_stats(a.top)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--out", default="agi.prof")
    a = p.parse_args()
    asyncio.run(main_async(a, Path(a.out).resolve()))


if __name__ == "__main__":
    main()
