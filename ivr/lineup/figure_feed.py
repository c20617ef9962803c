"""Today's figures pushed on the stream: a ``figures`` change (``queue``, ``data`` =
the ``today`` object of ``GET /api/queues/{name}``) each time a queue's figures change.

:class:`FigureFeed` is told which queues may have changed (:meth:`FigureFeed.touch`,
called by :class:`ivr.lineup.figures.FigureRecorder` once an event is in Redis,
whichever instance counted it) and, on each flush of the live queues, reads those
queues' figures and returns a change for each one that differs from the last one
seen. Every instance keeps the last figures seen, so that the instance that takes
the ``queue-events`` lease over neither repeats nor misses one; only the lease
holder publishes (:class:`ivr.lineup.live.LiveQueues`). At midnight Bangkok time
every queue known is read again (its figures start from zero).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from redis.exceptions import RedisError

from ivr.lineup.changes import Change
from ivr.log import ami_log, fields
from ivr.queues.figures import day_of

__all__ = ["FIGURES", "FigureFeed", "TodayReader"]

#: The kind of the stream event.
FIGURES = "figures"

# each named queue's today object (ivr.lineup.figures.FigureRecorder.today)
TodayReader = Callable[[Iterable[str]], Awaitable[dict[str, dict[str, Any]]]]


class FigureFeed:
    def __init__(self, today: TodayReader, clock: Callable[[], float] = time.time) -> None:
        self.today = today
        self.clock = clock
        self._touched: set[str] = set()
        self._last: dict[str, dict[str, Any]] = {}
        self._day = day_of(clock())

    def touch(self, queue: str) -> None:
        """``queue``'s figures may have changed (an event of it was counted)."""
        if queue:
            self._touched.add(queue)

    async def baseline(self, queues: Iterable[str]) -> None:
        """Remember the figures of queues not seen yet, without announcing them
        (a start is not news)."""
        new = [q for q in queues if q not in self._last]
        if not new:
            return
        try:
            found = await self.today(new)
        except (RedisError, OSError) as e:
            ami_log.warning("queue figures not read", extra=fields(error=str(e)))
            return
        for queue, data in found.items():
            self._last.setdefault(queue, data)

    async def changes(self) -> list[Change]:
        """A ``figures`` change for each touched queue whose figures differ from the
        last seen (nothing when Redis is away: they are read again next time)."""
        day = day_of(self.clock())
        if day != self._day:
            self._day = day
            self._touched |= set(self._last)
        if not self._touched:
            return []
        touched, self._touched = self._touched, set()
        try:
            found = await self.today(sorted(touched))
        except (RedisError, OSError) as e:
            self._touched |= touched
            ami_log.warning("queue figures not read", extra=fields(error=str(e)))
            return []
        out: list[Change] = []
        for queue, data in sorted(found.items()):
            if self._last.get(queue) != data:
                self._last[queue] = data
                out.append(Change(FIGURES, queue, data))
        return out
