"""History against the sandbox's PostgreSQL (``ivr sandbox up``) and Redis.

Each test has a database of its own, made empty. PostgreSQL going away is a
loopback relay between the writer and the server that the test cuts and puts back
(the shared server itself stays up for everyone else).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from ivr.api.health import Health, add_health
from ivr.app import HotlineApp
from ivr.config import Settings, load_settings
from ivr.history import retention, schema
from ivr.history.sink import OUTBOX, HistorySink
from ivr.sandbox.pbx import Sandbox
from ivr.store.lease import LeaderLease
from tests.integration.conftest import SimCaller
from tests.until import until

pytestmark = pytest.mark.postgres

TEST_DB = "ivr_test_history"


def _with(dsn: str, db: str | None = None, port: int | None = None) -> str:
    u = urlparse(dsn)
    netloc = u.netloc if port is None else f"{u.username or 'ivr'}@{u.hostname}:{port}"
    return urlunparse(u._replace(netloc=netloc, path=f"/{db}" if db else u.path))


async def fresh_database(name: str) -> str:
    """A fresh, empty database ``name`` on the sandbox's PostgreSQL; its DSN."""
    base = load_settings().history_dsn or "postgresql://ivr@127.0.0.1:5433/ivr"
    try:
        admin = await asyncpg.connect(_with(base, "postgres"), timeout=5)
    except (OSError, asyncpg.PostgresError) as e:  # pragma: no cover - said clearly
        pytest.fail(f"no PostgreSQL for {base} ({e}) — run `ivr sandbox up`")
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return _with(base, name)


@pytest.fixture
async def dsn() -> str:
    return await fresh_database(TEST_DB)


@pytest.fixture
async def db(dsn: str) -> AsyncIterator[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def writing(sink: HistorySink) -> AsyncIterator[None]:
    task = asyncio.create_task(sink.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sink.close()


def new_sink(redis: Redis, dsn: str, name: str = "test-1") -> HistorySink:
    return HistorySink(redis, dsn, LeaderLease(redis, "history", name, ttl_s=10.0))


async def test_two_instances_apply_the_migrations_once(dsn: str, db: Any) -> None:
    other = await asyncpg.connect(dsn)
    try:
        applied = await asyncio.gather(schema.apply(db), schema.apply(other))
    finally:
        await other.close()
    names = [m.name for m in schema.shipped()]
    assert sorted(applied, key=len) == [[], names]
    assert await db.fetchval("SELECT count(*) FROM schema_migrations") == len(names)
    assert await schema.apply(db) == []


async def test_records_are_written_once_and_meet_in_one_row(
    redis_clean: Redis, dsn: str, db: Any
) -> None:
    sink = new_sink(redis_clean, dsn)
    trace_part = {"hotline": "1111", "menu_path": ["main", "2"], "queue": "complaint",
                  "arrived_at": 1000.0, "outcome": "queue", "number": "0812345678"}  # fmt: skip
    answer = {"queue": "complaint", "answered_at": 1012.0, "agent": "a1", "wait_s": 12.0,
              "outcome": "answered"}  # fmt: skip
    async with writing(sink):
        sink.record("call", "1.1", answer)  # the AMI event may come first
        sink.record("call", "1.1", trace_part)
        sink.record("call", "1.1", trace_part)  # sent twice: written once
        attempt = {"attempt": 1, "at": 1100.0, "result": "no-answer"}
        sink.record("callback", "cb1", {"queue": "q", "attempts": 1, "attempt_rows": [attempt]})
        sink.record("weather", "x", {})  # refused, never in the way of the others
        sink.record("call", "1.2", {"wait_s": "long"})  # refused by PostgreSQL's types
        await until(lambda: sink.written == 6, what="six records written")
    assert await redis_clean.llen(OUTBOX) == 0
    rows = await db.fetch("SELECT * FROM calls")
    assert len(rows) == 1
    call = rows[0]
    assert (call["hotline"], call["menu_path"], call["agent"], call["outcome"]) == (
        "1111",
        ["main", "2"],
        "a1",
        "answered",  # the queue's answer stays the outcome
    )
    assert call["wait_s"] == 12.0 and call["number"] == "0812345678"
    assert await db.fetchval("SELECT count(*) FROM callback_attempts") == 1
    assert sink.refused == 2


async def relay(port: int, target: tuple[str, int]) -> asyncio.Server:
    """A loopback relay to PostgreSQL, on ``port`` (0: any)."""
    links: set[asyncio.StreamWriter] = set()

    async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        w.close()

    async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        tr, tw = await asyncio.open_connection(*target)
        links.update((w, tw))
        await asyncio.gather(pipe(r, tw), pipe(tr, w))

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    server.links = links  # type: ignore[attr-defined]
    return server


async def cut(server: asyncio.Server) -> None:
    server.close()
    for w in server.links:  # type: ignore[attr-defined]
        w.transport.abort()
    await server.wait_closed()


async def test_records_wait_while_postgres_is_away_and_are_written_when_back(
    redis_clean: Redis, dsn: str, db: Any
) -> None:
    u = urlparse(dsn)
    target = (u.hostname or "127.0.0.1", u.port or 5432)
    link = await relay(0, target)
    port = link.sockets[0].getsockname()[1]
    sink = new_sink(redis_clean, _with(dsn, port=port))
    app = web.Application()
    add_health(app, Health(redis_clean, dict, lambda: True, lambda: 0, dict, sink.status))
    async with TestClient(TestServer(app)) as client, writing(sink):
        sink.record("call", "1.1", {"hotline": "1111"})
        await until(lambda: sink.written == 1, what="the first record written")
        await cut(link)  # PostgreSQL away
        for i in range(2, 5):
            sink.record("call", f"1.{i}", {"hotline": "1111"})

        async def waiting() -> Any:
            body = await (await client.get("/healthz")).json()
            return body["history"]["waiting"] == 3 and not body["history"]["database"] and body

        body = await until(waiting, what="/healthz counting three records waiting")
        assert body["redis"] is True  # history away never makes the instance unfit
        link = await relay(port, target)  # back
        try:
            await until(lambda: sink.written == 4, within=20, what="records written once back")
        finally:
            await cut(link)
    assert await db.fetchval("SELECT count(*) FROM calls") == 4
    assert await redis_clean.llen(OUTBOX) == 0


async def test_purge_replaces_old_numbers_by_keyed_hashes(dsn: str, db: Any) -> None:
    await schema.apply(db)
    now = time.time()
    day = 24 * 3600.0
    rows = [("old", now - 100 * day, "0811111111"), ("new", now - 10 * day, "0822222222")]
    for uid, at, number in rows:
        await db.execute(
            "INSERT INTO calls (uniqueid, arrived_at, number) VALUES ($1, to_timestamp($2), $3)",
            uid,
            at,
            number,
        )
    await db.execute(
        "INSERT INTO callbacks (id, requested_at, number) VALUES ('cb', to_timestamp($1), $2)",
        now - 91 * day,
        "0833333333",
    )
    counts = await retention.purge(db, "k", 90, now)
    assert counts == {"calls": 1, "callbacks": 1}
    got = {r["uniqueid"]: r for r in await db.fetch("SELECT * FROM calls")}
    assert got["old"]["number"] is None
    assert got["old"]["number_hash"] == retention.number_hash("k", "0811111111")
    assert got["new"]["number"] == "0822222222" and got["new"]["number_hash"] is None
    assert await db.fetchval("SELECT number FROM callbacks") is None
    assert await retention.purge(db, "k", 90, now) == {"calls": 0, "callbacks": 0}


@pytest.fixture
async def history_app(sandbox: Sandbox, settings: Settings, dsn: str) -> AsyncIterator[HotlineApp]:
    a = HotlineApp(replace(settings, history_dsn=dsn))
    await a.start()
    try:
        yield a
    finally:
        await a.stop()


@pytest.mark.sandbox
async def test_a_call_through_the_server_is_in_history(
    history_app: HotlineApp, call: SimCaller, db: Any
) -> None:
    c = await call("1111", "2", caller="0812345678")
    assert c.trace is not None and c.uniqueid

    async def row() -> Any:
        return await db.fetchrow("SELECT * FROM calls WHERE uniqueid = $1", c.uniqueid)

    found = await until(row, within=20, what="the call's row in history")
    assert (found["hotline"], found["menu_path"], found["queue"]) == (
        "1111",
        ["main", "2"],
        "complaint",
    )
    assert found["number"] == "0812345678" and found["arrived_at"] is not None

    async def left() -> Any:
        r = await row()
        return r["outcome"] == "abandoned" and r["ended_at"] is not None and r

    gone = await until(left, within=20, what="the queue's abandon in the call's row")
    assert gone["wait_s"] is not None
