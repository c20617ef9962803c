"""The live stream and today's figures against the real sandbox: a simulated citizen
joins the complaint queue and leaves it; a supervisor's stream sees both as they
happen, and the call is counted once in today's figures (offered, then abandoned),
which are pushed on the stream as ``figures`` events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.privacy import mask_phone
from ivr.store.tokens import TokenStore
from tests.integration.conftest import SimCaller
from tests.integration.test_queue_waiting import (
    api_get,
    quiet_queue,  # noqa: F401  (fixture)
)
from tests.sse import sse_events
from tests.until import until

pytestmark = pytest.mark.sandbox

QUEUE = "complaint"


@dataclass
class Reader:
    """The events a stream client received: (name, data) in order."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def figures(self, queue: str, name: str, value: int) -> list[dict[str, Any]]:
        """The ``figures`` events of ``queue`` whose figure ``name`` is ``value``."""
        return [
            d
            for kind, d in self.events
            if kind == "figures" and d.get("queue") == queue and d["data"].get(name) == value
        ]

    def of(self, kind: str, uniqueid: str) -> list[dict[str, Any]]:
        return [
            d
            for name, d in self.events
            if name == kind and d.get("data", {}).get("uniqueid") == uniqueid
        ]


async def _read(resp: aiohttp.ClientResponse, into: Reader) -> None:
    async for event in sse_events(resp.content):
        into.events.append(event)


@contextlib.asynccontextmanager
async def stream(app: HotlineApp) -> AsyncIterator[Reader]:
    token, _ = await TokenStore(app.redis).create("supervisor", "wallboard")
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    reader = Reader()
    async with aiohttp.ClientSession() as http:
        resp = await http.get(
            f"http://{host}:{port}/api/stream", headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status == 200, await resp.text()
        task = asyncio.create_task(_read(resp, reader))
        try:
            yield reader
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await task
            resp.close()


@pytest.mark.usefixtures("quiet_queue")
async def test_a_caller_joining_and_leaving_shows_on_the_stream(
    app: HotlineApp, ami: AmiClient, call: SimCaller
) -> None:
    before = (await api_get(app, f"/api/queues/{QUEUE}"))["today"]
    async with stream(app) as seen:
        await until(lambda: "snapshot" in seen.names(), within=10, what="the first snapshot")
        c = await call("1111", "2", keep=True, until=lambda c: bool(c.queue))
        try:
            assert c.queue == QUEUE
            await until(
                lambda: seen.of("caller.joined", c.uniqueid),
                within=10,
                what="caller.joined on the stream",
            )
            [joined] = seen.of("caller.joined", c.uniqueid)
            assert joined["queue"] == QUEUE
            assert joined["data"]["number"] == mask_phone(c.caller) != c.caller  # PDPA
            # today's figures pushed: the call offered (once, whatever the loop does)
            offered = before["offered"] + 1
            await until(
                lambda: seen.figures(QUEUE, "offered", offered),
                within=10,
                what="a figures event counting the call offered",
            )
        finally:
            await ami.action("Hangup", Channel=c.channel)
        await until(
            lambda: seen.of("caller.left", c.uniqueid), within=10, what="caller.left on the stream"
        )
        [left] = seen.of("caller.left", c.uniqueid)
        assert left["queue"] == QUEUE and left["data"]["reason"] in ("abandoned", "left")

    # today's figures count the call once: offered, then abandoned (short or not)
    async def counted() -> bool:
        today = (await api_get(app, f"/api/queues/{QUEUE}"))["today"]
        gone = today["abandoned"] + today["short_abandoned"]
        return bool(
            today["offered"] == before["offered"] + 1
            and gone == before["abandoned"] + before["short_abandoned"] + 1
            and today["answered"] == before["answered"]
        )

    await until(counted, within=10, what="the call counted in today's figures")
