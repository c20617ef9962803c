"""``GET /metrics``: the Prometheus text format, on the server's HTTP port.

Who may scrape: a peer in ``[metrics] allow`` (addresses or CIDR; loopback only by
default; ``[]``: nobody) without a token, or anyone sending ``Authorization: Bearer
<[metrics] token>`` when a token is set. Behind a reverse proxy on the same machine
every peer is the proxy: set ``allow = []`` and a token, or keep ``/metrics`` out of
what the proxy forwards. Anyone else gets 403 with the fix. The API's own
tokens are not used: a Prometheus server holds one secret for every target, and a
scrape must not depend on Redis (where the API tokens live) to report Redis away.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ivr.agi.allow import IpNetwork, parse_allow, peer_allowed
from ivr.metrics.collector import LiveCollector

__all__ = ["METRICS_PATH", "MetricsAccess", "add_metrics", "may_scrape"]

METRICS_PATH = "/metrics"


@dataclass(frozen=True)
class MetricsAccess:
    """Who may scrape: the networks answered without a token, and the token (or "")."""

    allow: tuple[IpNetwork, ...]
    token: str = ""

    @classmethod
    def of(cls, allow: Sequence[str], token: str) -> MetricsAccess:
        return cls(parse_allow(allow) if allow else (), token)  # []: the token only


def may_scrape(access: MetricsAccess, peer: str | None, authorization: str) -> bool:
    """Whether a scrape from ``peer`` with this ``Authorization`` header is answered."""
    if access.token and hmac.compare_digest(
        authorization.encode(), f"Bearer {access.token}".encode()
    ):
        return True
    return peer is not None and peer_allowed((peer, 0), access.allow)


@dataclass(frozen=True)
class _Metrics:
    registry: CollectorRegistry  # the server's counters and histogram
    live: LiveCollector
    scraped: CollectorRegistry  # holding ``live`` alone
    access: MetricsAccess


_METRICS = web.AppKey("metrics", _Metrics)


async def metrics(request: web.Request) -> web.Response:
    m = request.app[_METRICS]
    if not may_scrape(m.access, request.remote, request.headers.get("Authorization", "")):
        fix = (
            "scrape from an address in [metrics] allow, or send "
            "'Authorization: Bearer <token>' with the [metrics] token"
        )
        return web.Response(status=403, text=f"metrics not allowed from here: {fix}\n")
    await m.live.refresh()
    body = generate_latest(m.registry) + generate_latest(m.scraped)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_metrics(
    app: web.Application,
    registry: CollectorRegistry,
    live: LiveCollector,
    access: MetricsAccess,
) -> None:
    """Serve ``GET /metrics`` on ``app``: ``registry`` and then ``live``."""
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(live)
    app[_METRICS] = _Metrics(registry, live, scraped, access)
    app.router.add_get(METRICS_PATH, metrics)
