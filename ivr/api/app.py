"""The API as one aiohttp sub-application, mounted under ``/api`` by the server:

    app.add_subapp(API_PREFIX, build_api(tokens=..., callbacks=..., queues=...))

Its middlewares (errors as JSON, bearer tokens) cover every path under the
prefix, unknown ones included, and nothing outside it; only ``GET /api/openapi.json``
(the API's description) needs no token. Without an ``ami`` the agent actions
answer 503 (listening to a call: without a ``spy_ami``); the audit log and the
overrides and the probes' results default to the tokens' Redis; without ``reports``
the reports answer 503 (history off); without ``hotlines``
no hotline is known (the probes' hotlines: ``probe_hotlines``, else those).
Overrides changed are published
on the stream's events when there is a stream. ``hotline_queues`` (each hotline's
queues, from the hotline registry) is what a token limited to some hotlines
reaches (:mod:`ivr.api.scope`); without it such a token reaches only the queues
it lists. With several Asterisk nodes, ``nodes`` (each node's AMI logged in or not)
names queues on their nodes and adds the totals (:mod:`ivr.api.queues`); ``ami`` then
routes each action to its queue's node, and ``node_ami`` gives listening the AMI of
the node the agent's call is on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from aiohttp import web

from ivr.api.actions import ACTION_DEPS, ActionDeps, AmiActions
from ivr.api.actions import routes as action_routes
from ivr.api.audit import AUDIT_LOG
from ivr.api.audit import routes as audit_routes
from ivr.api.auth import auth_middleware
from ivr.api.callback_actions import routes as callback_action_routes
from ivr.api.errors import error_middleware
from ivr.api.hotlines import HOTLINE_DEPS, HotlineDeps, queue_status
from ivr.api.hotlines import routes as hotline_routes
from ivr.api.me import routes as me_routes
from ivr.api.openapi import OPENAPI_ROUTE
from ivr.api.openapi import routes as openapi_routes
from ivr.api.probes import PROBE_DEPS, ProbeDeps
from ivr.api.probes import routes as probe_routes
from ivr.api.queues import (
    QUEUE_DEPS,
    Estimator,
    NodesProvider,
    PlaceOf,
    QueueDeps,
    QueuesProvider,
    TodayProvider,
)
from ivr.api.queues import routes as queue_routes
from ivr.api.reports import REPORT_DEPS, ReportDeps
from ivr.api.reports import routes as report_routes
from ivr.api.scope import HOTLINE_QUEUES, HotlineQueues
from ivr.api.spy import SPY_DEPS, SpyAmi, SpyDeps
from ivr.api.spy import routes as spy_routes
from ivr.api.stream import StreamHub, add_stream
from ivr.config import DEFAULT_PAUSE_REASONS
from ivr.lineup.publish import change_publisher
from ivr.menus.model import Hotline
from ivr.speech.catalogue import Catalogue
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.members import MemberStore
from ivr.store.overrides import OverrideStore
from ivr.store.probes import ProbeStore
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
    hotline_queues: HotlineQueues | None = None,
    hotlines: Callable[[], Mapping[str, Hotline]] | None = None,
    catalogue: Callable[[], Catalogue | None] | None = None,
    overrides: OverrideStore | None = None,
    probes: ProbeStore | None = None,
    probe_hotlines: Callable[[], Sequence[str]] | None = None,
    reports: ReportDeps | None = None,
    node_ami: Callable[[str], SpyAmi] | None = None,
    nodes: NodesProvider | None = None,
) -> web.Application:
    """The API over the server's parts (see the module's docstring for the optional
    ones); one piece: each part handed to the routes that use it, in one list."""
    auth = auth_middleware(tokens, public=(OPENAPI_ROUTE,))
    api = web.Application(middlewares=[error_middleware, auth])
    hotline_deps = _hotline_deps(tokens, hotlines, catalogue, overrides, stream)
    api[HOTLINE_DEPS] = hotline_deps
    api[QUEUE_DEPS] = QueueDeps(
        callbacks=callbacks,
        queues=queues,
        estimator=estimator,
        place_of=place_of,
        today=today,
        status=queue_status(hotline_deps),
        nodes=nodes,
    )
    api[ACTION_DEPS] = ActionDeps(ami, queues, tuple(pause_reasons), settle_s, members)
    api[SPY_DEPS] = SpyDeps(spy_ami, queues, tuple(supervisor_phones), node_ami=node_ami)
    api[AUDIT_LOG] = audit if audit is not None else AuditLog(tokens.redis)
    api[HOTLINE_QUEUES] = hotline_queues if hotline_queues is not None else dict
    api[PROBE_DEPS] = ProbeDeps(
        probes if probes is not None else ProbeStore(tokens.redis),
        probe_hotlines or (lambda: sorted(hotline_deps.hotlines())),
    )
    api[REPORT_DEPS] = reports if reports is not None else ReportDeps()
    api.add_routes(queue_routes)
    api.add_routes(action_routes)
    api.add_routes(callback_action_routes)
    api.add_routes(spy_routes)
    api.add_routes(audit_routes)
    api.add_routes(me_routes)
    api.add_routes(hotline_routes)
    api.add_routes(probe_routes)
    api.add_routes(report_routes)
    api.add_routes(openapi_routes)
    if stream is not None:
        add_stream(api, stream, tokens)
    return api


def _hotline_deps(
    tokens: TokenStore,
    hotlines: Callable[[], Mapping[str, Hotline]] | None,
    catalogue: Callable[[], Catalogue | None] | None,
    overrides: OverrideStore | None,
    stream: StreamHub | None,
) -> HotlineDeps:
    deps = HotlineDeps(
        overrides=overrides if overrides is not None else OverrideStore(tokens.redis),
        publish=change_publisher(stream.events) if stream is not None else None,
    )
    if hotlines is not None:
        deps = replace(deps, hotlines=hotlines)
    if catalogue is not None:
        deps = replace(deps, catalogue=catalogue)
    return deps
