"""``GET /api/queues/{name}`` and the stream's snapshot on a crowded queue, beside json alone.

One queue holds 2,000 live callers and 200 agents (built as
:class:`~ivr.queues.state.QueueState` directly) and 200 pending callbacks (an
in-memory provider in place of Redis); no Asterisk, no Redis.

    .venv/bin/python -m bench.api_snapshot [--callers 2000] [--agents 200] [--runs 30]

What is timed, median of ``--runs`` after one warm-up each:

* **GET /api/queues/{name}**: a whole HTTP request on loopback (aiohttp client and
  server in this process, the real API application with its token check);
* **HTTP floor**: the same bytes served by a handler that only returns them (what
  HTTP on loopback costs by itself);
* **stream snapshot**: :func:`ivr.api.queues.queues_snapshot` and its JSON text,
  as a stream client's first event is made;
* the snapshot again with each place asked of :func:`ivr.lineup.places.place_of`
  alone, a scan of the whole line per caller (what
  :func:`ivr.lineup.places.places` saves; 5 runs);
* **baseline, json alone**: ``json.dumps`` of the plain dict the API answered
  (the same content, already built), with the same options as each path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from ivr.api.app import API_PREFIX, build_api
from ivr.api.queues import QueueDeps, queues_snapshot
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.lineup.places import place_of
from ivr.lineup.view import new_caller_estimate
from ivr.privacy import mask_phone
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenInfo, TokenStore

QUEUE = "complaint"
TOKEN = "bench-token"


class MemoryCallbacks(CallbackStore):
    """Pending callbacks kept in memory (only :meth:`pending` is asked by these paths)."""

    def __init__(self, requests: list[CallbackRequest]) -> None:
        super().__init__(Redis())  # never connected: no method that talks to it is called
        self.requests = requests

    async def pending(self, queue: str) -> list[CallbackRequest]:
        return [r for r in self.requests if r.queue == queue]


class OneToken(TokenStore):
    """Every request carries the one supervisor token of the bench."""

    def __init__(self) -> None:
        super().__init__(Redis())

    async def verify(self, token: str) -> TokenInfo | None:
        if token != TOKEN:
            return None
        return TokenInfo(id="bench", role="supervisor", name="bench", created_at=0.0)


def _number(rng: random.Random) -> str:
    return "08" + "".join(rng.choice("0123456789") for _ in range(8))


def build_model(
    callers: int, agents: int, callbacks: int, now: float, seed: int = 1
) -> tuple[QueueState, list[CallbackRequest]]:
    """A queue with ``callers`` live callers, ``agents`` agents and ``callbacks`` pending."""
    rng = random.Random(seed)
    st = QueueState(QUEUE, updated_at=now)
    caller_states = [CallerState.WAITING] * 8 + [CallerState.ANNOUNCING, CallerState.RINGING]
    for i in range(callers):
        arrived = now - rng.uniform(0, 3600)
        uid = f"{int(now)}.{i}"
        st.callers[uid] = Caller(
            uniqueid=uid,
            channel=f"PJSIP/trunk-{i:08x}",
            arrived_at=arrived,
            joined_at=arrived + rng.uniform(0, 60),
            position=i + 1,
            caller_id=_number(rng),
            topic=rng.choice(["", "ร้องเรียน", "สอบถาม", "แจ้งเหตุ"]),
            state=rng.choice(caller_states),
            last_seen=now,
        )
    agent_states = list(AgentState)
    for i in range(agents):
        iface = f"PJSIP/agent{i}"
        state = rng.choice(agent_states)
        st.agents[iface] = Agent(
            interface=iface,
            name=f"เจ้าหน้าที่ {i}",
            state=state,
            since=now - rng.uniform(0, 3600),
            paused_reason="lunch" if state is AgentState.PAUSED else "",
            calls_taken=rng.randrange(60),
        )
    st.handle_times = [rng.uniform(60, 600) for _ in range(50)]
    reqs = [
        CallbackRequest(
            id=f"cb{i}",
            queue=QUEUE,
            hotline="1111",
            number=_number(rng),
            arrived_at=now - rng.uniform(0, 3600),
            requested_at=now - rng.uniform(0, 600),
            topic="ร้องเรียน",
            status=rng.choice([CallbackStatus.PENDING] * 9 + [CallbackStatus.DIALING]),
            call_uniqueid=f"{int(now) - 1}.{i}",
        )
        for i in range(callbacks)
    ]
    return st, reqs


def _deps(state: QueueState, reqs: list[CallbackRequest], *, scan: bool = False) -> QueueDeps:
    """The API's dependencies as the server gives them; ``scan``: each caller's place
    asked of ``place_of`` alone (one scan of the line per caller, which
    :func:`ivr.lineup.places.places` saves)."""

    async def queues() -> dict[str, QueueState]:
        return {state.name: state}

    def one_by_one(st: QueueState, uid: str, cbs: Sequence[CallbackRequest]) -> int:
        return place_of(st, uid, cbs)

    return QueueDeps(
        callbacks=MemoryCallbacks(reqs),
        queues=queues,
        estimator=lambda st, cbs: new_caller_estimate(st, cbs, 180.0),
        place_of=one_by_one if scan else place_of,
    )


async def _median_s(runs: int, once: Callable[[], Awaitable[object]]) -> float:
    await once()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await once()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _sync_median(runs: int, once: Callable[[], object]) -> float:
    once()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _row(name: str, seconds: float, size: int, base: float | None = None) -> str:
    ratio = f"  x{seconds / base:6.1f} baseline" if base else ""
    return f"{name:<40} median {seconds * 1000:8.2f} ms  {size:>9,d} bytes{ratio}"


async def _serve(deps: QueueDeps, static: bytes) -> tuple[web.AppRunner, str]:
    app = web.Application()

    async def floor(_request: web.Request) -> web.Response:
        return web.Response(body=static, content_type="application/json")

    app.router.add_get("/floor", floor)
    api = build_api(tokens=OneToken(), callbacks=deps.callbacks, queues=deps.queues,
                    estimator=deps.estimator, place_of=deps.place_of)  # fmt: skip
    app.add_subapp(API_PREFIX, api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def main(callers: int, agents: int, callbacks: int, runs: int) -> None:
    state, reqs = build_model(callers, agents, callbacks, time.time())
    deps = _deps(state, reqs)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as http:
        runner, base = await _serve(deps, b"")
        try:
            async with http.get(f"{base}/api/queues/{QUEUE}", headers=auth) as r:
                assert r.status == 200, await r.text()
                detail: dict[str, Any] = await r.json()
        finally:
            await runner.cleanup()
        static = json.dumps(detail).encode()  # web.json_response's own options
        runner, base = await _serve(deps, static)
        try:

            async def get(path: str) -> bytes:
                async with http.get(base + path, headers=auth) as r:
                    return await r.read()

            api_s = await _median_s(runs, lambda: get(f"/api/queues/{QUEUE}"))
            floor_s = await _median_s(runs, lambda: get("/floor"))
        finally:
            await runner.cleanup()

    async def snapshot_text(d: QueueDeps = deps) -> str:
        return json.dumps(await queues_snapshot(d, mask_phone), ensure_ascii=False)

    snap_text = await snapshot_text()
    snap_s = await _median_s(runs, snapshot_text)
    scanning = _deps(state, reqs, scan=True)
    scan_s = await _median_s(min(runs, 5), lambda: snapshot_text(scanning))
    snap_plain = json.loads(snap_text)
    base_detail = _sync_median(runs, lambda: json.dumps(detail))
    base_snap = _sync_median(runs, lambda: json.dumps(snap_plain, ensure_ascii=False))
    n_detail = len(static)
    n_snap = len(snap_text.encode())
    print(f"{callers} callers, {agents} agents, {len(reqs)} pending callbacks in one queue; "
          f"median of {runs} runs")  # fmt: skip
    print(_row("baseline: json.dumps of the detail", base_detail, n_detail))
    print(_row("HTTP floor: the same bytes, no work", floor_s, n_detail, base_detail))
    print(_row("GET /api/queues/{name}", api_s, n_detail, base_detail))
    print(_row("baseline: json.dumps of the snapshot", base_snap, n_snap))
    print(_row("stream snapshot (built + JSON text)", snap_s, n_snap, base_snap))
    print(_row("  the same, a scan of the line per caller", scan_s, n_snap, base_snap))
    print(
        f"API over HTTP floor: +{(api_s - floor_s) * 1000:.2f} ms; "
        f"snapshot over json alone: +{(snap_s - base_snap) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--callers", type=int, default=2000)
    p.add_argument("--agents", type=int, default=200)
    p.add_argument("--callbacks", type=int, default=200)
    p.add_argument("--runs", type=int, default=30)
    a = p.parse_args()
    asyncio.run(main(a.callers, a.agents, a.callbacks, a.runs))
