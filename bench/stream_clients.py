"""Many ``GET /api/stream`` clients in one process, apart from the server (bench helper).

    python -m bench.stream_clients URL TOKEN --clients 200 --interface Local/x@sim-agent/n

Opens the streams, prints ``ready`` once every client has its snapshot, then for
each ``agent.state`` event pausing ``--interface`` prints ``got <reason>`` when
all clients have received it, and on a line ``stop`` on stdin (or its end) prints
one JSON line: per client, ``{reason: [time.time(), published]}`` of each such
event: when its last line arrived, and when it was published (epoch s, from its
SSE id, the Redis stream id: Redis's clock in ms at ``XADD``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field

import aiohttp

Seen = dict[str, tuple[float, float]]  # pause reason -> (arrived, published), epoch s


@dataclass
class Counter:
    """How many clients have received each event, to say when all have."""

    clients: int
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str) -> None:
        self.counts[reason] = n = self.counts.get(reason, 0) + 1
        if n == self.clients:
            print(f"got {reason}", flush=True)


async def _client(
    http: aiohttp.ClientSession,
    url: str,
    token: str,
    interface: str,
    ready: asyncio.Queue[int],
    counter: Counter,
    seen: Seen,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=None)) as r:
        if r.status != 200:
            raise RuntimeError(f"stream answered {r.status}: {await r.text()}")
        name, data, event_id = "", "", ""
        async for raw in r.content:
            line = raw.decode()
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif line in ("\n", "\r\n") and data:
                now = time.time()
                if name == "snapshot":
                    ready.put_nowait(1)
                elif name == "agent.state":
                    d = json.loads(data)["data"]
                    reason = d["paused_reason"]
                    mine = d["interface"] == interface and d["state"] == "paused"
                    if mine and reason and reason not in seen:
                        seen[reason] = (now, int(event_id.partition("-")[0]) / 1000)
                        counter.add(reason)
                name, data = "", ""


async def main(url: str, token: str, clients: int, interface: str) -> None:
    ready: asyncio.Queue[int] = asyncio.Queue()
    counter = Counter(clients)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        seen: list[Seen] = [{} for _ in range(clients)]
        tasks = [
            asyncio.create_task(_client(http, url, token, interface, ready, counter, s))
            for s in seen
        ]
        for _ in range(clients):
            got = asyncio.ensure_future(ready.get())
            await asyncio.wait([got, *tasks], return_when=asyncio.FIRST_COMPLETED)
            failed = [t for t in tasks if t.done()]
            if failed:
                got.cancel()
                failed[0].result()  # raises what stopped the client
                raise RuntimeError("a stream ended before its snapshot")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # "stop", or the end of stdin
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("token")
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--interface", required=True)
    a = p.parse_args()
    asyncio.run(main(a.url, a.token, a.clients, a.interface))
