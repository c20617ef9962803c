"""AMI events per second into the queue model, beside panoramisk's own parsing.

The stream recorded on the sandbox under SIP calls (:mod:`bench.record_stream`:
60 citizens walking hotline 1111 into a queue; every byte Asterisk sends a
``read = all`` user) is replayed, cut into reads of ``--read`` bytes, into:

* **baseline**: panoramisk's ``AMIProtocol.data_received``, producing its
  ``Message`` objects and dispatching them to a ``Manager`` with no callback (no
  model);
* **this server**: the whole path of ``ivr serve``: the ``AmiClient`` (its
  protocol, typed events, fan-out) logged in to a stand-in Asterisk
  (:mod:`bench.ami_replay`), feeding the live queues (the queue model), today's
  figures and the history feed, their Redis and PostgreSQL stubbed.

Both get the same bytes (the whole stream: what a user that receives every event
is sent). Then the server's CPU per call for its AMI part: the stream as the
stand-in Asterisk sends it to the server's session, whose event mask (``Events``
on login) leaves out the classes nobody subscribes to, against the whole stream.
Runs alternate (baseline, server, ...); medians of ``--runs``.

    .venv/bin/python -m bench.ami_events [--runs 7] [--read 4096]

Needs no sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Sequence
from typing import Any

from panoramisk import ami_protocol, manager

from bench.ami_replay import (
    STREAM_CALLS,
    Block,
    FakeAsterisk,
    blocks,
    chunked,
    connected,
    load,
    server_parts,
    visible,
)
from ivr.config import Settings


class _Counting(manager.Manager):  # type: ignore[misc]
    """panoramisk's Manager, counting what its protocol dispatches."""

    dispatched = 0

    def dispatch(self, event: Any) -> Any:
        self.dispatched += 1
        return super().dispatch(event)


async def baseline(reads: Sequence[bytes]) -> tuple[float, int]:
    """CPU seconds for panoramisk to parse ``reads``, and the events it dispatched."""
    factory = _Counting(loop=asyncio.get_running_loop())
    proto = ami_protocol.AMIProtocol()
    proto.connection_made(FakeAsterisk())
    proto.factory, proto.encoding = factory, "utf8"
    gc.collect()
    t0 = time.process_time()
    for data in reads:
        proto.data_received(data)
        await asyncio.sleep(0)  # one read per turn of the loop, as from a socket
    return time.process_time() - t0, factory.dispatched


async def server(
    events: Sequence[Block], read: int, mode: str, *, masked: bool = False, star: bool = False
) -> tuple[float, int, str]:
    """CPU seconds for the server's path, and the events fed. The client logs in with
    ``Events: <mode>``; with ``masked``, it is fed only what Asterisk sends under the
    session's mask; with ``star``, one more subscriber takes every event."""
    fake = FakeAsterisk()
    async with connected(fake, events=mode) as client, server_parts(client, Settings()):
        await client.start()
        unsubscribe = client.subscribe("*", _noop) if star else (lambda: None)
        fed = visible(events, fake.mask) if masked else list(events)
        reads = chunked(fed, read)
        gc.collect()
        t0 = time.process_time()
        for data in reads:
            fake.feed(data)
            await asyncio.sleep(0)
        for _ in range(20):  # handler tasks the events started (arrivals, figures)
            await asyncio.sleep(0)
        spent = time.process_time() - t0
        unsubscribe()
        mask = fake.masks[-1]
    return spent, len(fed), mask


def _noop(_event: object) -> None:
    pass


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


async def main(runs: int, read: int, mode: str) -> None:
    stream = load()
    events = blocks(stream)
    reads = chunked(events, read)
    n = len(events)
    base: list[float] = []
    ours: list[float] = []
    typed: list[float] = []
    masked: list[float] = []
    for _ in range(runs):
        spent, dispatched = await baseline(reads)
        base.append(spent)
        ours.append((await server(events, read, mode))[0])
        typed.append((await server(events, read, mode, star=True))[0])
        spent, fed, mask = await server(events, read, mode, masked=True)
        masked.append(spent)
    assert dispatched == n, (dispatched, n)
    b, o, t, m = _median(base), _median(ours), _median(typed), _median(masked)
    print(f"stream: {n} events, {len(stream)} bytes, {STREAM_CALLS} calls; reads of {read} B;")
    print(f"median of {runs} runs (CPU time; 2-core shared VM: expect a few % of noise)")
    print(f"  baseline panoramisk parse:    {n / b:9.0f} events/s   ({b * 1000:7.1f} ms)")
    print(f"  this server, as ivr serve:    {n / o:9.0f} events/s   ({o * 1000:7.1f} ms)")
    print(f"  ... and a '*' subscriber:     {n / t:9.0f} events/s   ({t * 1000:7.1f} ms)")
    print(f"  server rate / baseline rate:  {b / o:9.2f} (every event typed: {b / t:.2f})")
    print("CPU per call of the server's AMI part (this stream, one process):")
    print(f"  every event sent (read=all):  {o / STREAM_CALLS * 1000:7.2f} ms/call")
    print(
        f"  Events: {mask} ({fed} of {n} events sent): {m / STREAM_CALLS * 1000:7.2f} ms/call"
        f"  (x{o / m:.1f} less)"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--read", type=int, default=4096, help="bytes per socket read")
    p.add_argument("--events", default="auto", help="the client's events= (ivr serve: auto)")
    a = p.parse_args()
    asyncio.run(main(a.runs, a.read, a.events))
