"""Stopping background tasks without ever hanging a shutdown, the two kinds of
step a server's life is made of (:func:`resource`, :func:`background`), and the
garbage collector set for a server that runs for months (:func:`settle_collector`).

A task that swallows its cancellation (redis-py has done so when the cancel
lands inside a command) would make a plain ``gather`` after ``cancel`` wait
forever. :func:`cancel_and_wait` cancels again while it waits, gives up after
``within_s`` seconds and says which tasks are still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from typing import Any

from ivr.log import fields, server_log

CANCEL_TIMEOUT_S = 5.0


async def cancel_and_wait(
    tasks: Iterable[asyncio.Future[Any]],
    *,
    log: logging.Logger,
    what: str,
    within_s: float = CANCEL_TIMEOUT_S,
) -> set[asyncio.Future[Any]]:
    """Cancel ``tasks`` and wait for them; returns those still running after ``within_s``."""
    pending = {t for t in tasks if not t.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while pending:
        for t in pending:
            t.cancel()
        left = deadline - loop.time()
        if left <= 0:
            break
        _done, pending = await asyncio.wait(pending, timeout=min(left, 0.5))
    if pending:
        log.error(
            "tasks did not stop when cancelled",
            extra=fields(what=what, still_running=len(pending), timeout_s=within_s),
        )
    return pending


def stop_if_cancelling() -> None:
    """Raise CancelledError if this task was asked to stop.

    For loops that call libraries which may swallow a cancellation: called after
    such a call, it makes sure the loop still ends.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


Step = Callable[[], Awaitable[object]]


@contextlib.asynccontextmanager
async def resource(start: Step | None = None, stop: Step | None = None) -> AsyncIterator[None]:
    """One resource of the server: ``start`` on the way up, ``stop`` on the way down."""
    if start is not None:
        await start()
    try:
        yield
    finally:
        if stop is not None:
            await stop()


@contextlib.asynccontextmanager
async def background(
    run: Callable[[], Coroutine[Any, Any, None]], what: str, log: logging.Logger = server_log
) -> AsyncIterator[None]:
    """A task running for the server's life, cancelled (and awaited) on the way down."""
    task: asyncio.Task[None] = asyncio.create_task(run())
    try:
        yield
    finally:
        await cancel_and_wait([task], log=log, what=what)


GC_THRESHOLDS = (7_000, 10, 10)
"""The collector's thresholds once a server has started (Python's own: 700, 10, 10).

With 2,000 FastAGI sessions held (``bench.agi_cost``), Python's own thresholds made
a collection of every generation several times in 20 s, each walking the sessions'
objects (collections of the oldest generation took up to 160 ms); a first threshold
ten times larger makes every collection rarer: none of the oldest generation in
those 20 s, a third as many of the others, each as long as before or longer (up to
about 90 ms: the first threshold counts objects made less objects freed, so it does
not bound what a young collection walks when many calls come and go)."""


def settle_collector(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Set the garbage collector for the server's life, once it has started.

    Everything made while starting (the modules, the settings, the hotline files
    loaded) lives as long as the process: it is collected once, then frozen
    (:func:`gc.freeze`), so that no later collection walks it again. A hotline
    file reloaded later is collected as usual.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
