"""``GET /healthz``: is this instance fit to serve (no token; for load balancers).

200 with Redis reachable, 503 without it; the JSON body says what the instance
sees: its FastAGI counters, the AMI connection, Redis, traces kept in memory
while Redis was away, the version of each hotline loaded, and history records
waiting for PostgreSQL (``history``: waiting, dropped, written; PostgreSQL being
away never makes the instance unfit).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

__all__ = ["HEALTH", "HEALTH_PATH", "Health", "add_health", "healthz"]

HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class Health:
    """Where the health report reads each figure from."""

    redis: Redis
    agi_stats: Callable[[], Mapping[str, int]]
    ami_connected: Callable[[], bool]
    traces_pending: Callable[[], int]
    hotline_versions: Callable[[], Mapping[str, str]]  # hotline id -> menu version
    # history records waiting for PostgreSQL, dropped and written (None: history off)
    history: Callable[[], Awaitable[Mapping[str, Any]]] | None = None
    # several Asterisk nodes: each one's AMI logged in or not (None: one node)
    ami_nodes: Callable[[], Mapping[str, bool]] | None = None


HEALTH = web.AppKey("health", Health)


async def healthz(request: web.Request) -> web.Response:
    health = request.app[HEALTH]
    redis_ok = True
    try:
        await health.redis.ping()
    except Exception:
        redis_ok = False
    body: dict[str, Any] = {
        "agi": dict(health.agi_stats()),
        "ami_connected": health.ami_connected(),
        "redis": redis_ok,
        "traces_waiting_for_redis": health.traces_pending(),
        "hotlines": dict(sorted(health.hotline_versions().items())),
        "history": dict(await health.history()) if health.history else {"enabled": False},
    }
    if health.ami_nodes is not None:
        body["ami_nodes"] = dict(health.ami_nodes())
    status = 200 if redis_ok else 503
    return web.json_response(body, status=status)


def add_health(app: web.Application, health: Health) -> None:
    """Serve ``GET /healthz`` on ``app`` (the server's root application)."""
    app[HEALTH] = health
    app.router.add_get(HEALTH_PATH, healthz)
