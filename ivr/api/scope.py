"""What a token may see and touch: its hotlines and queues.

Every handler that reads or acts on a queue or a hotline asks here first;
outside the token's scope the answer is 403 ``out-of-scope`` naming the queue or
hotline. A token that lists no hotline and no queue reaches everything. One that
lists some reaches:

* the queues its hotlines hand calls to (each hotline file's ``queues:``), plus
  the queues it lists;
* the hotlines it lists, plus each hotline all of whose queues it reaches (acting
  on such a hotline touches only queues it reaches anyway).

A queue reached is reached on every Asterisk node (``complaint@a``, ``complaint@b``).

:func:`scope_of` is the pure rule; the request functions read the token from the
request and the hotlines' queues from the API's :data:`HOTLINE_QUEUES` provider.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ivr.api.auth import TOKEN_INFO
from ivr.api.errors import Forbidden
from ivr.queues.nodes import base_queue
from ivr.store.tokens import TokenInfo

__all__ = [
    "HOTLINE_QUEUES",
    "HotlineQueues",
    "Scope",
    "check_hotline",
    "check_queue",
    "event_visible",
    "request_scope",
    "scope_of",
    "visible_hotlines",
    "visible_queues",
]

# each hotline in force -> the queues it hands calls to (the hotline file's `queues:`)
HotlineQueues = Callable[[], Mapping[str, Sequence[str]]]
HOTLINE_QUEUES: web.AppKey[HotlineQueues] = web.AppKey("hotline_queues")


@dataclass(frozen=True)
class Scope:
    """The hotlines and queues a token reaches; None: every one."""

    hotlines: frozenset[str] | None = None
    queues: frozenset[str] | None = None

    def queue(self, name: str) -> bool:
        """``name`` reached: itself, or the queue it names on a node (``complaint@a``)."""
        return self.queues is None or name in self.queues or base_queue(name) in self.queues

    def hotline(self, name: str) -> bool:
        return self.hotlines is None or name in self.hotlines


EVERYTHING = Scope()


def scope_of(info: TokenInfo, hotline_queues: Mapping[str, Sequence[str]]) -> Scope:
    """What a token reaches, given each hotline's queues (see the module docstring)."""
    if not info.limited:
        return EVERYTHING
    queues = set(info.queues)
    for h in info.hotlines:
        queues.update(hotline_queues.get(h, ()))
    hotlines = set(info.hotlines)
    hotlines.update(h for h, qs in hotline_queues.items() if qs and queues.issuperset(qs))
    return Scope(frozenset(hotlines), frozenset(queues))


def event_visible(scope: Scope, queue: str, data: Mapping[str, Any]) -> bool:
    """Whether a stream event reaches the token: a queue's event by its queue, a
    hotline-level one (no queue, ``data["hotline"]``) by its hotline."""
    if queue:
        return scope.queue(queue)
    hotline = data.get("hotline")
    return not isinstance(hotline, str) or scope.hotline(hotline)


def _describe(info: TokenInfo) -> str:
    parts = []
    if info.hotlines:
        parts.append("hotlines " + ", ".join(info.hotlines))
    if info.queues:
        parts.append("queues " + ", ".join(info.queues))
    return "; ".join(parts)


def request_scope(request: web.Request) -> Scope:
    """The scope of the request's token."""
    info = request[TOKEN_INFO]
    if not info.limited:
        return EVERYTHING
    provider = request.app.get(HOTLINE_QUEUES)
    return scope_of(info, provider() if provider is not None else {})


def _refuse(request: web.Request, what: str, name: str) -> Forbidden:
    info = request[TOKEN_INFO]
    return Forbidden(
        f"this token (`{info.id}`) may not reach {what} `{name}`: it is limited to "
        f"{_describe(info)}; ask an admin for a token that covers it",
        error_id="out-of-scope",
    )


def check_queue(request: web.Request, queue: str) -> None:
    """403 when the request's token may not reach ``queue``."""
    if not request_scope(request).queue(queue):
        raise _refuse(request, "queue", queue)


def check_hotline(request: web.Request, hotline: str) -> None:
    """403 when the request's token may not reach ``hotline``."""
    if not request_scope(request).hotline(hotline):
        raise _refuse(request, "hotline", hotline)


def visible_queues(request: web.Request, names: Iterable[str]) -> list[str]:
    """The queues among ``names`` that the request's token may see, sorted."""
    scope = request_scope(request)
    return sorted(n for n in names if scope.queue(n))


def visible_hotlines(request: web.Request, names: Iterable[str]) -> list[str]:
    """The hotlines among ``names`` that the request's token may see, sorted."""
    scope = request_scope(request)
    return sorted(n for n in names if scope.hotline(n))
