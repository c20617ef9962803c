"""The API as one aiohttp sub-application, mounted under ``/api`` by the server:

    app.add_subapp(API_PREFIX, build_api(tokens=..., callbacks=..., queues=...))

Its middlewares (errors as JSON, bearer tokens) cover every path under the
prefix, unknown ones included, and nothing outside it. Without an ``ami`` the
agent actions answer 503 (listening to a call: without a ``spy_ami``); the audit
log defaults to the tokens' Redis.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from ivr.api.actions import ACTION_DEPS, ActionDeps, AmiActions
from ivr.api.actions import routes as action_routes
from ivr.api.audit import AUDIT_LOG
from ivr.api.audit import routes as audit_routes
from ivr.api.auth import auth_middleware
from ivr.api.callback_actions import routes as callback_action_routes
from ivr.api.errors import error_middleware
from ivr.api.queues import (
    QUEUE_DEPS,
    Estimator,
    PlaceOf,
    QueueDeps,
    QueuesProvider,
    TodayProvider,
)
from ivr.api.queues import routes as queue_routes
from ivr.api.spy import SPY_DEPS, SpyAmi, SpyDeps
from ivr.api.spy import routes as spy_routes
from ivr.api.stream import StreamHub, add_stream
from ivr.config import DEFAULT_PAUSE_REASONS
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.members import MemberStore
from ivr.store.tokens import TokenStore

API_PREFIX = "/api"


def build_api(
    *,
    tokens: TokenStore,
    callbacks: CallbackStore,
    queues: QueuesProvider,
    estimator: Estimator | None = None,
    place_of: PlaceOf | None = None,
    ami: AmiActions | None = None,
    pause_reasons: Sequence[str] = DEFAULT_PAUSE_REASONS,
    audit: AuditLog | None = None,
    settle_s: float = 3.0,
    stream: StreamHub | None = None,
    today: TodayProvider | None = None,
    spy_ami: SpyAmi | None = None,
    members: MemberStore | None = None,
    supervisor_phones: Sequence[str] = (),
) -> web.Application:
    api = web.Application(middlewares=[error_middleware, auth_middleware(tokens)])
    api[QUEUE_DEPS] = QueueDeps(
        callbacks=callbacks, queues=queues, estimator=estimator, place_of=place_of, today=today
    )
    api[ACTION_DEPS] = ActionDeps(ami, queues, tuple(pause_reasons), settle_s, members)
    api[SPY_DEPS] = SpyDeps(spy_ami, queues, tuple(supervisor_phones))
    api[AUDIT_LOG] = audit if audit is not None else AuditLog(tokens.redis)
    api.add_routes(queue_routes)
    api.add_routes(action_routes)
    api.add_routes(callback_action_routes)
    api.add_routes(spy_routes)
    api.add_routes(audit_routes)
    if stream is not None:
        add_stream(api, stream)
    return api
