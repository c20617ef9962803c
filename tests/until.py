"""Wait for a condition instead of sleeping a fixed time (sleeps may last twice as long)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

__all__ = ["until"]


async def until(
    cond: Callable[[], bool | Awaitable[bool]], within_s: float = 10.0, every: float = 0.01
) -> None:
    """Return once ``cond()`` is true; fail the test if it is not within ``within_s`` s."""
    deadline = time.monotonic() + within_s
    while True:
        got = cond()
        if inspect.isawaitable(got):
            got = await got
        if got:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {within_s} s: {cond!r}")
        await asyncio.sleep(every)
