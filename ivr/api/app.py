"""The API as one aiohttp sub-application, mounted under ``/api`` by the server:

    app.add_subapp(API_PREFIX, build_api(tokens=..., callbacks=..., queues=...))

Its middlewares (errors as JSON, bearer tokens) cover every path under the
prefix, unknown ones included, and nothing outside it.
"""

from __future__ import annotations

from aiohttp import web

from ivr.api.auth import auth_middleware
from ivr.api.errors import error_middleware
from ivr.api.queues import QUEUE_DEPS, Estimator, PlaceOf, QueueDeps, QueuesProvider
from ivr.api.queues import routes as queue_routes
from ivr.api.stream import StreamHub, add_stream
from ivr.store.callbacks import CallbackStore
from ivr.store.tokens import TokenStore

API_PREFIX = "/api"


def build_api(
    *,
    tokens: TokenStore,
    callbacks: CallbackStore,
    queues: QueuesProvider,
    estimator: Estimator | None = None,
    place_of: PlaceOf | None = None,
    stream: StreamHub | None = None,
) -> web.Application:
    api = web.Application(middlewares=[error_middleware, auth_middleware(tokens)])
    api[QUEUE_DEPS] = QueueDeps(
        callbacks=callbacks, queues=queues, estimator=estimator, place_of=place_of
    )
    api.add_routes(queue_routes)
    if stream is not None:
        add_stream(api, stream)
    return api
