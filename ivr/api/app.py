"""The API as one aiohttp sub-application, mounted under ``/api`` by the server:

    app.add_subapp(API_PREFIX, build_api(tokens=..., callbacks=..., queues=...))

Its middlewares (errors as JSON, bearer tokens) cover every path under the
prefix, unknown ones included, and nothing outside it.
"""

from __future__ import annotations

from aiohttp import web

from ..callbacks.store import CallbackStore
from ..store.tokens import TokenStore
from .auth import auth_middleware
from .errors import error_middleware
from .queues import QUEUE_DEPS, Estimator, PlaceOf, QueueDeps, QueuesProvider
from .queues import routes as queue_routes

API_PREFIX = "/api"


def build_api(
    *,
    tokens: TokenStore,
    callbacks: CallbackStore,
    queues: QueuesProvider,
    estimator: Estimator | None = None,
    place_of: PlaceOf | None = None,
) -> web.Application:
    api = web.Application(middlewares=[error_middleware, auth_middleware(tokens)])
    api[QUEUE_DEPS] = QueueDeps(
        callbacks=callbacks, queues=queues, estimator=estimator, place_of=place_of
    )
    api.add_routes(queue_routes)
    return api
