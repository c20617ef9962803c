"""Replay a recorded AMI byte stream into the server's AMI path, with no Asterisk.

:class:`FakeAsterisk` stands in for Asterisk's manager: the ``AmiClient`` (with
its panoramisk-based protocol, exactly as the server builds it) connects to it
through the event loop's ``create_connection`` (patched; no socket), logs in and
sends actions, which are answered the way Asterisk answers them; the session's
event mask (``Events:`` on login, the ``Events`` action) is applied to the
recorded events as Asterisk applies it: an event goes out when each of its
classes (its ``Privilege`` header) is in the mask. :func:`server_parts` starts
the server's AMI consumers (the live queues, today's figures, the history feed
and the members kept across restarts) on a client, their Redis and PostgreSQL
replaced by stubs that accept everything.

Used by :mod:`bench.ami_events` and :mod:`bench.memory`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from ivr.ami.client import AmiClient
from ivr.config import PROJECT_ROOT, Settings
from ivr.history.feed import HistoryFeed
from ivr.history.sink import HistorySink
from ivr.lineup.figures import FigureRecorder
from ivr.lineup.live import LiveQueues
from ivr.lineup.members import MemberKeeper
from ivr.queues.figures import Targets
from ivr.store.events import EventStore
from ivr.store.figures import FigureStore
from ivr.store.lease import LeaderLease
from ivr.store.members import MemberStore
from ivr.store.waiting import WaitingStore

STREAM: Final = PROJECT_ROOT / "tests" / "fixtures" / "ami" / "stream-1111.ami.gz"
#: the calls the recording holds (bench.record_stream --calls)
STREAM_CALLS: Final = 60
BANNER: Final = b"Asterisk Call Manager/11.0.0\r\n"
ALL: Final[frozenset[str]] = frozenset(
    "system call log verbose command agent user config dtmf reporting cdr dialplan "
    "originate agi cc aoc test security message".split()
)
_HEADER = re.compile(rb"^([A-Za-z0-9_-]+): ?(.*?)\r?$", re.M)


@dataclass(frozen=True)
class Block:
    """One event of the stream: its name, classes and bytes (blank line included)."""

    name: str
    classes: frozenset[str]
    data: bytes


def load(path: Path = STREAM) -> bytes:
    return gzip.decompress(path.read_bytes())


def blocks(stream: bytes) -> list[Block]:
    """The events of a recorded stream (the banner and replies left out)."""
    out: list[Block] = []
    for raw in stream.split(b"\r\n\r\n"):
        fields = dict(_HEADER.findall(raw))
        name = fields.get(b"Event")
        if name is None or b"ActionID" in fields:
            continue
        privilege = fields.get(b"Privilege", b"").decode()
        classes = frozenset(c.strip() for c in privilege.split(",")) - {"all", ""}
        out.append(Block(name.decode(), classes, raw + b"\r\n\r\n"))
    return out


def mask_of(events: str) -> frozenset[str]:
    """Asterisk's reading of an ``Events:`` value: on/yes (all), off/no, or classes."""
    text = events.strip().lower()
    if text in ("", "on", "yes", "true", "y", "t", "1"):
        return ALL
    if text in ("off", "no", "false", "n", "f", "0"):
        return frozenset()
    return frozenset(c.strip() for c in text.split(",")) & ALL


def visible(events: Iterable[Block], mask: frozenset[str]) -> list[Block]:
    """The events Asterisk sends to a session with this event mask."""
    return [b for b in events if b.classes <= mask]


def chunked(events: Sequence[Block], size: int) -> list[bytes]:
    """The events' bytes cut into reads of ``size`` bytes (cuts fall inside events)."""
    data = b"".join(b.data for b in events)
    return [data[i : i + size] for i in range(0, len(data), size)]


class FakeAsterisk(asyncio.Transport):
    """Asterisk's manager for one session: answers actions, keeps the event mask."""

    def __init__(self) -> None:
        super().__init__()
        self.protocol: Any = None
        self.mask: frozenset[str] = ALL
        self.masks: list[str] = []  # every Events value the client sent
        self.actions: list[str] = []
        self._pending = b""
        self._closed = False

    async def create_connection(self, factory: Callable[[], Any], *_a: Any, **_k: Any) -> Any:
        self.protocol = factory()
        self.protocol.connection_made(self)
        return self, self.protocol

    def feed(self, data: bytes) -> None:
        self.protocol.data_received(data)

    # -- asyncio.Transport --------------------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._pending += bytes(data)
        *actions, self._pending = self._pending.split(b"\r\n\r\n")
        for raw in actions:
            fields = {k.decode().lower(): v.decode() for k, v in _HEADER.findall(raw)}
            reply = self._answer(fields)
            asyncio.get_running_loop().call_soon(self._reply, reply)

    def _reply(self, data: bytes) -> None:
        if not self._closed:
            self.feed(data)

    def close(self) -> None:
        self._closed = True

    def is_closing(self) -> bool:
        return self._closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def _answer(self, f: dict[str, str]) -> bytes:
        action, aid = f.get("action", "").lower(), f.get("actionid", "")
        self.actions.append(action)
        head = f"Response: Success\r\nActionID: {aid}\r\n"
        if action == "login":
            self.mask = mask_of(f.get("events", ""))
            self.masks.append(f.get("events", ""))
            return BANNER + (head + "Message: Authentication accepted\r\n\r\n").encode()
        if action == "events":
            self.mask = mask_of(f.get("eventmask", ""))
            self.masks.append(f.get("eventmask", ""))
            return (head + f"Events: {'On' if self.mask else 'Off'}\r\n\r\n").encode()
        if action == "queuestatus":
            return (
                head + "EventList: start\r\nMessage: Queue status will follow\r\n\r\n"
                f"Event: QueueStatusComplete\r\nActionID: {aid}\r\nEventList: Complete\r\n"
                "ListItems: 0\r\n\r\n"
            ).encode()
        return (head + "Message: ok\r\n\r\n").encode()


class NullRedis:
    """Accepts every Redis command the AMI consumers send; reads find nothing."""

    def register_script(self, _script: str) -> Callable[..., Any]:
        async def run(*_a: Any, **_k: Any) -> int:
            return 1

        return run

    def pipeline(self, **_k: Any) -> NullRedis:
        return self

    async def __aenter__(self) -> NullRedis:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def mget(self, keys: Sequence[str]) -> list[None]:
        return [None] * len(keys)

    async def hgetall(self, _key: str) -> dict[str, str]:
        return {}

    async def execute(self) -> list[object]:
        return []

    def __getattr__(self, _name: str) -> Callable[..., Any]:
        def command(*_a: Any, **_k: Any) -> Any:
            return _Done()

        return command


class _Done:
    """What a pipelined command returns; awaitable for a direct command."""

    def __await__(self) -> Any:
        yield from ()
        return None


#: the address the client is given: connections to it reach the stand-in
AMI_HOST, AMI_PORT = "127.0.0.1", 5038


@contextlib.asynccontextmanager
async def connected(fake: FakeAsterisk, **client_kw: Any) -> AsyncIterator[AmiClient]:
    """An ``AmiClient`` logged in to ``fake``, as the server builds it. Only its
    connections go to ``fake``: any other (Redis) goes where it asks."""
    loop = asyncio.get_running_loop()
    real = loop.create_connection

    async def create_connection(factory: Callable[[], Any], *args: Any, **kw: Any) -> Any:
        if args[:2] == (AMI_HOST, AMI_PORT):
            return await fake.create_connection(factory)
        return await real(factory, *args, **kw)

    loop.create_connection = create_connection  # type: ignore[method-assign,assignment]
    client = AmiClient(AMI_HOST, AMI_PORT, "ivr", "bench", ping_interval=3600, **client_kw)
    try:
        yield client
    finally:
        await client.close()
        del loop.create_connection  # the class's own again


@contextlib.asynccontextmanager
async def server_parts(
    client: AmiClient, settings: Settings, redis: Any = None
) -> AsyncIterator[LiveQueues]:
    """The server's AMI consumers on ``client``, started; ``redis`` (default: a stub)
    for the live queues and figures, PostgreSQL stubbed."""
    redis = NullRedis() if redis is None else redis
    live = LiveQueues(client, redis, wrapup_s=settings.queue_wrapup_s, events=EventStore(redis))
    figures = FigureRecorder(client, FigureStore(redis), WaitingStore(redis), lambda _q: Targets())
    stub: Any = NullRedis()  # the history's outbox is never written: nothing runs its writer
    lease = LeaderLease(stub, "history", "bench", ttl_s=10.0)
    history = HistoryFeed(HistorySink(stub, "bench", lease), replace(settings, history_dsn="x"))
    members = MemberKeeper(client, MemberStore(redis))
    await live.start()
    await figures.start()
    await members.start()
    async with contextlib.AsyncExitStack() as stack:
        for part in history.parts(client)[2:3]:  # the AMI subscription alone
            await stack.enter_async_context(part)
        try:
            yield live
        finally:
            await members.close()
            await figures.close()
            await live.close()
