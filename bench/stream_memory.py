"""Memory of the server process with 200 ``GET /api/stream`` clients connected.

The server runs as its own process (``ivr serve``, sandbox settings); its
resident memory (``VmRSS``) is read from ``/proc`` with no stream client
(the baseline: after one client came and went, so the stream's code paths are
warm), with ``--clients`` clients connected in another process after changes
have flowed to them (``--events`` agent pauses, each one ``agent.state`` event to
every client), and after they left; ``--rounds`` times (5), so that the later
rounds show whether clients that came and went leave memory behind (a leak grows
by the same amount each round; the allocator's high-water mark levels off).
Each figure is the median of 5 readings 0.2 s apart.

    .venv/bin/python -m bench.stream_memory [--clients 200] [--rounds 5]

Needs the sandbox up (``ivr sandbox up``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from bench.stream_rig import Clients, PlainAmi, Server, clients, plain_ami, server, token
from ivr.config import load_settings


async def _rss_mib(srv: Server) -> float:
    readings = []
    for _ in range(5):
        await asyncio.sleep(0.2)
        readings.append(srv.rss_kib())
    return statistics.median(readings) / 1024


async def _changes(ami: PlainAmi, c: Clients, tag: str, events: int) -> None:
    for i in range(events):
        reason = f"{tag}-{i}"
        await ami.pause(reason)
        await c.wait_got(reason)
        await ami.pause(reason, paused=False)


async def main(n: int, events: int, rounds_n: int) -> None:
    settings = load_settings()
    async with server() as srv, token(settings) as tok, plain_ami() as ami, ami.member():
        async with clients(srv.url, tok, 1) as c:
            await _changes(ami, c, "warm", 3)
            await c.stop()
        base = await _rss_mib(srv)
        rounds = []
        for r in range(rounds_n):  # more rounds show whether clients leave anything behind
            async with clients(srv.url, tok, n) as c:
                await _changes(ami, c, f"mem{n}-{r}", events)
                loaded = await _rss_mib(srv)
                await c.stop()
            rounds.append((loaded, await _rss_mib(srv)))
    print(f"server RSS (median of 5 readings), {events} changes sent to each client")
    print(f"baseline: 0 stream clients            {base:8.1f} MiB")
    for r, (loaded, after) in enumerate(rounds, start=1):
        print(f"round {r}: {n} stream clients connected {loaded:8.1f} MiB  "
              f"(+{loaded - base:.1f} MiB, x{loaded / base:.2f}, "
              f"{(loaded - base) * 1024 / n:.1f} KiB per client)")  # fmt: skip
        print(f"round {r}: after they left            {after:8.1f} MiB")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--events", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    asyncio.run(main(a.clients, a.events, a.rounds))
