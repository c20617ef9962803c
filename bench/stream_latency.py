"""Time from an Asterisk event to the change arriving on ``GET /api/stream`` clients.

The server runs as its own process (``ivr serve``, sandbox settings); the stream
clients (1, then 200) run in another (:mod:`bench.stream_clients`), so neither
the clients nor the bench slow the server's event loop. Each sample pauses a
simulated agent with ``QueuePause`` through a plain panoramisk AMI client and
unpauses it after, at a random moment (up to 0.25 s later, so that pauses keep
no time with anything periodic in the server); the pause's ``QueueMemberPause`` carries Asterisk's
``Timestamp`` (``timestampevents = yes``), a wall-clock time like the
``time.time()`` each client notes when the ``agent.state`` event's last line
arrives. Baseline, the same run: when that same AMI event reached the plain
panoramisk client (the floor of any AMI application), so the figure reads as
"the stream adds X ms over the AMI itself".

    .venv/bin/python -m bench.stream_latency [--samples 100]

Needs the sandbox up (``ivr sandbox up``); the server under test is started by
the bench on free ports. The path measured: AMI event -> the server's model ->
the queue written to Redis and the change published on the Redis stream -> the
server's stream reader -> every client. The SSE id of each event is its Redis stream id, which holds
Redis's clock (ms) when the change was published: two more rows split the time
there (to 1 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from bench.stream_rig import PlainAmi, clients, plain_ami, server, token
from ivr.config import load_settings


def _p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def _row(name: str, seconds: list[float]) -> str:
    ms = [x * 1000 for x in seconds]
    return (
        f"{name:<46} n={len(ms):6d}  median {statistics.median(ms):7.1f} ms  p95 {_p95(ms):7.1f} ms"
    )


async def _run(ami: PlainAmi, url: str, tok: str, n: int, samples: int) -> None:
    rng = random.Random(n)
    async with clients(url, tok, n) as c:
        for i in range(samples + 1):  # the first one is a warm-up, not counted
            reason = f"bench{n}-{i}"
            # a random moment: a sample never keeps time with the server's periodic
            # work (the model's refresh tick, heartbeats)
            await asyncio.sleep(rng.uniform(0, 0.25))
            await ami.pause(reason)
            await c.wait_got(reason)
            await ami.pause(reason, paused=False)
        per_client = await c.stop()
    reasons = [f"bench{n}-{i}" for i in range(1, samples + 1)]
    ts = {r: ami.seen[r][1] for r in reasons}
    floor = [ami.seen[r][0] - ts[r] for r in reasons]
    stream = [seen[r][0] - ts[r] for seen in per_client for r in reasons]
    slowest = [max(seen[r][0] for seen in per_client) - ts[r] for r in reasons]
    published = [per_client[0][r][1] - ts[r] for r in reasons]
    fan_out = [seen[r][0] - seen[r][1] for seen in per_client for r in reasons]
    print(f"-- {n} stream client{'s' if n > 1 else ''} connected")
    print(_row("baseline: AMI event -> plain panoramisk client", floor))
    print(_row("AMI event -> stream client (every client)", stream))
    if n > 1:
        print(_row("AMI event -> the last of the clients", slowest))
    print(_row("  of which AMI event -> in the Redis stream", published))
    print(_row("  and Redis stream -> client (every client)", fan_out))
    extra = statistics.median(stream) - statistics.median(floor)
    print(f"the stream adds {extra * 1000:.1f} ms (median) over the AMI itself")


async def main(samples: int, counts: list[int]) -> None:
    settings = load_settings()
    t0 = time.monotonic()
    async with server() as srv, token(settings) as tok, plain_ami() as ami, ami.member():
        for n in counts:
            await _run(ami, srv.url, tok, n, samples)
    print(f"({time.monotonic() - t0:.0f} s; {samples} pauses per row)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--clients", type=int, nargs="+", default=[1, 200])
    a = p.parse_args()
    asyncio.run(main(a.samples, a.clients))
