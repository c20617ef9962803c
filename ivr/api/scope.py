"""What a token may see and touch: its hotlines and queues.

Every handler that reads or acts on a queue or a hotline asks here first;
outside the token's scope the answer is 403 naming the queue or hotline.
This first version lets every token reach everything (tokens are not limited
yet); the checks are already called where they belong.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

__all__ = ["check_hotline", "check_queue", "visible_queues"]


def check_queue(request: web.Request, queue: str) -> None:
    """403 when the request's token may not reach ``queue``."""
    del request, queue


def check_hotline(request: web.Request, hotline: str) -> None:
    """403 when the request's token may not reach ``hotline``."""
    del request, hotline


def visible_queues(request: web.Request, names: Iterable[str]) -> list[str]:
    """The queues among ``names`` that the request's token may see, sorted."""
    del request
    return sorted(names)
