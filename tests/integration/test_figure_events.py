"""Today's figures on the stream, with a real Redis: two instances count the same AMI
events; the holder of the ``queue-events`` lease publishes one ``figures`` event per
change, whose data is the ``today`` object the queue API shows, and nothing while the
figures stay the same."""

from __future__ import annotations

import contextlib
from typing import cast

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.ami.events import AgentConnect, QueueCallerJoin
from ivr.lineup.figure_feed import FigureFeed
from ivr.lineup.figures import FigureRecorder
from ivr.lineup.live import LiveQueues
from ivr.queues.state import QueueState
from ivr.store.events import EventStore, StoredEvent
from ivr.store.lease import LeaderLease
from tests.integration.test_queue_figures import NOON, Q, recorder

pytestmark = pytest.mark.redis


def instance(redis: Redis, name: str) -> tuple[FigureRecorder, LiveQueues]:
    """One server's recorder and live queues, wired as the app wires them."""
    rec = recorder(redis)
    feed = FigureFeed(rec.today, clock=rec.clock)
    rec.on_recorded = feed.touch
    live = LiveQueues(
        cast(AmiClient, object()),
        redis,
        events=EventStore(redis),
        lease=LeaderLease(redis, "queue-events", name, ttl_s=5.0),
        figures=feed,
    )
    live.states = {Q: QueueState(Q)}
    return rec, live


async def figure_events(redis: Redis) -> list[StoredEvent]:
    return [e for e in await EventStore(redis).since("0-0") if e.kind == "figures"]


async def test_each_change_of_figures_is_published_once(redis_clean: Redis) -> None:
    servers = [instance(redis_clean, name) for name in ("A", "B")]
    try:
        for _, live in servers:
            assert live.figures is not None
            await live.figures.baseline([Q])  # as a resync does: a start is not news
            await live._flush()
        assert await figure_events(redis_clean) == []

        join = QueueCallerJoin(queue=Q, uniqueid="1.1", timestamp=NOON)
        for rec, live in servers:  # both instances see the event; one counts it
            await rec.record(join)
            await live._flush()
        [event] = await figure_events(redis_clean)
        assert event.queue == Q
        assert event.data == (await servers[1][0].today([Q]))[Q]  # what the API shows
        assert event.data["offered"] == 1

        for rec, live in servers:  # the same caller joining again (the waiting loop)
            await rec.record(QueueCallerJoin(queue=Q, uniqueid="1.1", timestamp=NOON + 30))
            await live._flush()
        assert len(await figure_events(redis_clean)) == 1  # nothing changed

        answer = AgentConnect(queue=Q, uniqueid="1.1", hold_time=12, timestamp=NOON + 12)
        for rec, live in reversed(servers):  # B counts it first this time
            await rec.record(answer)
            await live._flush()
        events = await figure_events(redis_clean)
        assert [e.data["answered"] for e in events] == [0, 1]
        assert events[-1].data["asa_s"] == 12
    finally:
        for _, live in servers:
            with contextlib.suppress(Exception):
                await live.close()
