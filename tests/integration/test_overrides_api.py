"""Overrides over HTTP with a real Redis: a hotline closed and opened now, an emergency
announcement set and cleared, a queue closed, a pending callback moved; every answer
the new state, each change published once on the stream, audited, kept across a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.api.app import API_PREFIX, build_api
from ivr.api.stream import StreamHub
from ivr.callbacks.model import CallbackRequest
from ivr.lineup.publish import callback_publisher
from ivr.menus.loader import load_hotline
from ivr.menus.model import Hotline
from ivr.queues.state import QueueState
from ivr.speech.catalogue import load_catalogue
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackStore
from ivr.store.events import EventStore, StoredEvent
from ivr.store.overrides import OverrideStore
from ivr.store.tokens import TokenStore
from tests.integration.test_stream import Sse, read_sse
from tests.unit.shipped import HOTLINES, PROMPTS
from tests.until import until

pytestmark = pytest.mark.redis

PROMPTS_ROOT = HOTLINES.parents[1] / "prompts"
EMERGENCY = "emergency-flood"


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    redis: Redis
    callbacks: CallbackStore
    events: EventStore
    tokens: dict[str, str] = field(default_factory=dict)

    async def call(
        self, method: str, path: str, json: Any = None, role: str = "supervisor"
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        r = await self.client.request(method, path, headers=headers, json=json)
        body: dict[str, Any] = await r.json()
        return r.status, body

    async def changes(self) -> list[StoredEvent]:
        return await self.events.since("0-0")


def hotlines() -> dict[str, Hotline]:
    return {i: load_hotline(HOTLINES / f"{i}.yaml", PROMPTS) for i in ("1111", "1555")}


@pytest.fixture
async def api(redis_clean: Redis) -> AsyncIterator[Api]:
    states = {q: QueueState(q) for q in ("complaint", "operator")}
    lines, catalogue = hotlines(), load_catalogue(PROMPTS_ROOT)
    tokens, events = TokenStore(redis_clean), EventStore(redis_clean)
    callbacks = CallbackStore(redis_clean, on_change=callback_publisher(events))

    async def provider() -> dict[str, QueueState]:
        return states

    hub = StreamHub(events)
    await hub.start()
    root = web.Application()
    sub = build_api(
        tokens=tokens,
        callbacks=callbacks,
        queues=provider,
        audit=AuditLog(redis_clean),
        stream=hub,
        hotlines=lambda: lines,
        catalogue=lambda: catalogue,
    )
    root.add_subapp(API_PREFIX, sub)
    client = TestClient(TestServer(root))
    await client.start_server()
    a = Api(client, redis_clean, callbacks, events)
    a.tokens["supervisor"], _ = await tokens.create("supervisor", "duty supervisor")
    a.tokens["admin"], _ = await tokens.create("admin", "telephony admin")
    try:
        yield a
    finally:
        await client.close()
        await hub.close()


async def test_hotlines_are_listed_with_their_state(api: Api) -> None:
    status, body = await api.call("GET", "/api/hotlines")
    assert status == 200, body
    by_id = {h["id"]: h for h in body["hotlines"]}
    assert sorted(by_id) == ["1111", "1555"]
    h = by_id["1111"]
    assert h["name"] == "ศูนย์บริการประชาชน"
    assert (h["open"], h["override"], h["emergency"]) == (True, "none", None)
    assert h["queues"] == ["complaint", "operator"]
    prompts = {p["prompt"]: p["text"] for p in h["emergency_prompts"]}
    assert {EMERGENCY, "emergency-system-outage", "emergency-high-call-volume"} <= set(prompts)
    assert prompts[EMERGENCY].startswith("ประกาศเตือนภัยค่ะ")
    status, one = await api.call("GET", "/api/hotlines/1111")
    assert status == 200 and one == h


async def test_close_and_reopen_a_hotline(api: Api) -> None:
    status, body = await api.call("PUT", "/api/hotlines/1111/override", {"mode": "closed"})
    assert status == 200, body
    assert (body["override"], body["open"]) == ("closed", False)
    assert (await api.call("GET", "/api/hotlines/1111"))[1]["open"] is False
    status, body = await api.call("PUT", "/api/hotlines/1111/override", {"mode": "none"})
    assert (body["override"], body["open"]) == ("none", True)
    await api.call("PUT", "/api/hotlines/1111/override", {"mode": "none"})  # no change
    changes = await api.changes()
    assert [(c.kind, c.queue, c.data["hotline"]) for c in changes] == [
        ("hotline.closed", "", "1111"),
        ("hotline.opened", "", "1111"),
    ]


async def test_open_now_outside_office_hours(api: Api) -> None:
    status, body = await api.call("PUT", "/api/hotlines/1555/override", {"mode": "open"})
    assert status == 200 and body["override"] == "open" and body["open"] is True


async def test_overrides_survive_a_restart(api: Api) -> None:
    await api.call("PUT", "/api/hotlines/1111/override", {"mode": "closed"})
    await api.call("PUT", "/api/hotlines/1111/emergency", {"prompt": EMERGENCY})
    await api.call("PUT", "/api/queues/complaint/override", {"mode": "closed"})
    fresh = await OverrideStore(api.redis).for_call("1111")  # another instance, or after a restart
    assert fresh.hotline.mode == "closed" and fresh.hotline.emergency == EMERGENCY
    assert fresh.queue_closed("complaint") and not fresh.queue_closed("operator")


async def test_set_and_clear_the_emergency_announcement(api: Api) -> None:
    before = time.time()
    status, body = await api.call("PUT", "/api/hotlines/1111/emergency", {"prompt": EMERGENCY})
    assert status == 200, body
    e = body["emergency"]
    assert e["prompt"] == EMERGENCY and e["text"].startswith("ประกาศเตือนภัยค่ะ")
    assert e["set_by"].startswith("token:") and e["set_at"] >= before
    status, body = await api.call("DELETE", "/api/hotlines/1111/emergency")
    assert status == 200 and body["emergency"] is None
    changes = await api.changes()
    assert [c.kind for c in changes] == ["emergency.set", "emergency.cleared"]
    assert changes[0].data["prompt"] == EMERGENCY and changes[0].data["text"]


async def test_bad_input_names_what_is_allowed(api: Api) -> None:
    status, body = await api.call("PUT", "/api/hotlines/1111/override", {"mode": "shut"})
    assert status == 400 and "none, closed, open" in body["error"]["message"]
    status, body = await api.call("PUT", "/api/hotlines/1111/emergency", {"prompt": "goodbye"})
    assert status == 400 and EMERGENCY in body["error"]["message"]
    status, body = await api.call("PUT", "/api/hotlines/9999/override", {"mode": "closed"})
    assert status == 404 and "9999" in body["error"]["message"]
    status, body = await api.call("GET", "/api/hotlines/9999")
    assert status == 404 and body["error"]["id"] == "unknown-hotline"
    status, body = await api.call("PUT", "/api/queues/nosuch/override", {"mode": "closed"})
    assert status == 404 and "nosuch" in body["error"]["message"]
    assert await api.changes() == []


async def test_close_a_queue(api: Api) -> None:
    status, body = await api.call("PUT", "/api/queues/complaint/override", {"mode": "closed"})
    assert status == 200, body
    assert (body["name"], body["override"], body["open"]) == ("complaint", "closed", False)
    assert "callers" in body and "callbacks" in body  # the queue as GET shows it
    _, listed = await api.call("GET", "/api/queues")
    summary = {q["name"]: (q["override"], q["open"]) for q in listed["queues"]}
    assert summary == {"complaint": ("closed", False), "operator": ("none", True)}
    await api.call("PUT", "/api/queues/complaint/override", {"mode": "none"})
    await api.call("PUT", "/api/hotlines/1111/override", {"mode": "closed"})
    _, listed = await api.call("GET", "/api/queues")  # closed with their hotline
    assert [(q["override"], q["open"]) for q in listed["queues"]] == [("none", False)] * 2
    status, body = await api.call("PUT", "/api/queues/operator/override", {"mode": "open"})
    assert (body["override"], body["open"]) == ("open", False)  # reached only through 1111
    changes = (await api.changes())[:2]
    assert [(c.kind, c.queue, c.data["hotline"]) for c in changes] == [
        ("queue.closed", "complaint", "1111"),
        ("queue.opened", "complaint", "1111"),
    ]


async def test_actions_are_audited(api: Api) -> None:
    await api.call("PUT", "/api/hotlines/1111/override", {"mode": "closed"})
    await api.call("PUT", "/api/hotlines/1111/emergency", {"prompt": "nope"})
    await api.call("PUT", "/api/queues/complaint/override", {"mode": "open"})
    _, body = await api.call("GET", "/api/audit", role="admin")
    got = [(e["action"], e["result"], e["queue"], e["detail"]) for e in body["entries"]]
    assert got[0] == ("queue-override", "ok", "complaint", "open")
    assert got[1][:2] == ("set-emergency", "unknown-prompt") and "1111" in got[1][3]
    assert got[2] == ("hotline-override", "ok", "", "hotline 1111: closed")


async def test_the_stream_shows_hotlines_and_their_changes(api: Api) -> None:
    await api.call("PUT", "/api/hotlines/1111/emergency", {"prompt": EMERGENCY})
    headers = {"Authorization": f"Bearer {api.tokens['supervisor']}"}
    resp = await api.client.get("/api/stream", headers=headers)
    sse = Sse()
    reader = asyncio.create_task(read_sse(resp, sse))
    try:
        await until(lambda: sse.events, what="the snapshot")
        snapshot = sse.events[0]["json"]
        by_id = {h["id"]: h for h in snapshot["hotlines"]}
        assert by_id["1111"]["emergency"]["prompt"] == EMERGENCY
        assert {q["name"]: q["override"] for q in snapshot["queues"]}["complaint"] == "none"
        await api.call("PUT", "/api/hotlines/1111/override", {"mode": "closed"})
        await until(lambda: len(sse.events) > 1, what="the change")
        change = sse.events[1]
        assert change["event"] == "hotline.closed"
        assert change["json"]["data"]["hotline"] == "1111" and change["json"]["queue"] == ""
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


# -- moving a callback ----------------------------------------------------------------


async def book(api: Api, rid: str = "cb1") -> None:
    req = CallbackRequest(
        id=rid,
        queue="complaint",
        hotline="1111",
        number="0899999999",
        arrived_at=1.0,
        requested_at=2.0,
    )
    assert (await api.callbacks.create(req)).created


async def test_move_a_pending_callback(api: Api) -> None:
    await book(api)
    at = time.time() + 600
    status, body = await api.call("PATCH", "/api/callbacks/cb1", {"not_before": at})
    assert status == 200, body
    assert body["id"] == "cb1" and body["status"] == "pending" and body["queue"] == "complaint"
    assert body["next_attempt_at"] == pytest.approx(at)
    assert body["number"] == "089*****99"
    # the dispatcher's claim honours the new time
    assert await api.callbacks.claim("cb1", "i1", at + 60, now=at - 1) is None
    assert await api.callbacks.claim("cb1", "i1", at + 60, now=at + 1) is not None
    kinds = [c.kind for c in await api.changes()]
    assert kinds == ["callback.requested", "callback.moved", "callback.dialling"]


async def test_only_a_pending_callback_moves(api: Api) -> None:
    await book(api)
    assert await api.callbacks.claim("cb1", "i1", time.time() + 60) is not None
    status, body = await api.call("PATCH", "/api/callbacks/cb1", {"not_before": time.time()})
    assert status == 409 and "dialing" in body["error"]["message"]
    status, body = await api.call("PATCH", "/api/callbacks/zzz", {"not_before": time.time()})
    assert status == 404 and "zzz" in body["error"]["message"]


async def test_a_time_too_far_is_refused(api: Api) -> None:
    await book(api)
    for at in (time.time() - 3600, time.time() + 8 * 86400, "tomorrow"):
        status, body = await api.call("PATCH", "/api/callbacks/cb1", {"not_before": at})
        assert status == 400, body


async def test_callbacks_wait_while_their_queue_is_closed(api: Api) -> None:
    store = OverrideStore(api.redis)
    feeds = {"1111": ["complaint", "operator"], "1555": ["operator"]}
    assert await store.closed_queues(feeds) == set()
    await api.call("PUT", "/api/queues/complaint/override", {"mode": "closed"})
    assert await store.closed_queues(feeds) == {"complaint"}
    await api.call("PUT", "/api/queues/complaint/override", {"mode": "none"})
    await api.call("PUT", "/api/hotlines/1111/override", {"mode": "closed"})
    # operator still takes calls from 1555: its callbacks go on
    assert await store.closed_queues(feeds) == {"complaint"}
    await api.call("PUT", "/api/hotlines/1555/override", {"mode": "closed"})
    assert await store.closed_queues(feeds) == {"complaint", "operator"}
