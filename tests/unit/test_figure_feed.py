"""The ``figures`` changes of the stream: one per queue whose figures changed, none
at start, again when Redis comes back, and every queue read again at midnight."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.lineup.figure_feed import FigureFeed

NOON = 1_795_928_400.0  # 2026-11-29 12:00 in Bangkok


class Figures:
    def __init__(self) -> None:
        self.offered = {"complaint": 0, "operator": 0}
        self.down = False
        self.asked: list[list[str]] = []

    async def today(self, queues: Iterable[str]) -> dict[str, dict[str, Any]]:
        names = list(queues)
        self.asked.append(names)
        if self.down:
            raise RedisConnectionError("Redis away")
        return {q: {"offered": self.offered[q]} for q in names}


async def test_one_change_per_queue_whose_figures_changed() -> None:
    figures, now = Figures(), [NOON]
    feed = FigureFeed(figures.today, clock=lambda: now[0])
    await feed.baseline(["complaint", "operator"])
    assert await feed.changes() == []  # nothing touched: Redis not even asked
    assert figures.asked == [["complaint", "operator"]]

    figures.offered["complaint"] = 1
    feed.touch("complaint")
    feed.touch("operator")  # counted elsewhere first: the same figures
    [change] = await feed.changes()
    assert change.to_dict() == {"kind": "figures", "queue": "complaint", "data": {"offered": 1}}
    feed.touch("complaint")
    assert await feed.changes() == []  # at most once per change

    figures.offered["operator"], figures.down = 3, True
    feed.touch("operator")
    assert await feed.changes() == []
    figures.down = False
    assert [c.queue for c in await feed.changes()] == ["operator"]  # read again later

    figures.offered = {"complaint": 0, "operator": 0}  # a new day starts from zero
    now[0] = NOON + 12 * 3600
    assert [c.queue for c in await feed.changes()] == ["complaint", "operator"]
