"""The API's routes as the server mounts them, read without a socket or a server."""

from __future__ import annotations

from aiohttp import hdrs, web
from redis.asyncio import Redis

from ivr.api.app import API_PREFIX, build_api
from ivr.api.stream import StreamHub
from ivr.queues.state import QueueState
from ivr.store.callbacks import CallbackStore
from ivr.store.events import EventStore
from ivr.store.tokens import TokenStore


async def _no_queues() -> dict[str, QueueState]:
    return {}


def routes_of(api: web.Application) -> frozenset[tuple[str, str]]:
    """(METHOD, /api/path/{param}) of every route of a mounted API (HEAD left out:
    aiohttp adds one beside each GET)."""
    return frozenset(
        (r.method, r.resource.canonical)
        for r in api.router.routes()
        if r.resource is not None and r.method != hdrs.METH_HEAD
    )


def served_routes() -> frozenset[tuple[str, str]]:
    """The routes of the API that ``ivr serve`` mounts (with the live stream)."""
    redis = Redis()  # never connected: building the application sends nothing
    api = build_api(
        tokens=TokenStore(redis),
        callbacks=CallbackStore(redis),
        queues=_no_queues,
        stream=StreamHub(EventStore(redis)),
    )
    web.Application().add_subapp(API_PREFIX, api)
    return routes_of(api)
