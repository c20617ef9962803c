"""Waiting for a condition in tests, never for a fixed time.

Timers on some machines of this kind last about twice as long as asked, so a test
that sleeps and then asserts counts on luck. :func:`until` polls a condition and
fails with a message naming what never happened once a generous deadline passes.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

# Any result counts by its truth. (Two callables, not one: a lambda with a default
# argument, ``lambda i=i: ...``, cannot be checked against a single callable type.)
Condition = Callable[[], object] | Callable[[], Awaitable[object]]


async def until(cond: Condition, within: float = 30.0, what: str = "", every: float = 0.05) -> Any:
    """Return ``cond()``'s result (awaited) as soon as it is true; fail after ``within`` seconds.

    The result is ``Any``: a caller that uses it annotates the variable it assigns.
    """
    deadline = time.monotonic() + within
    while True:
        result = cond()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within:.0f} s: {what or cond}")
        await asyncio.sleep(every)
