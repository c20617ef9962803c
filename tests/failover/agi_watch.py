"""What the FastAGI fail-over proof watches: every citizen's call as Asterisk reports
it over the AMI (who reached a queue, who an agent answered, who was cut off, which
AGI each call is in), and a supervisor's live stream."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ivr.ami.client import AmiClient
from ivr.ami.events import AnyEvent
from tests.sse import sse_events

_ROUTE = re.compile(r"agi://[^/,]+/([^,]+)")
_NUMBER = re.compile(r"^Local/(\d+)@sim-citizen-")


def _digits(value: str) -> str:
    """A caller id's number, or "" (``<unknown>`` and the like)."""
    return value if value.isdigit() else ""


@dataclass
class Citizen:
    """One citizen's call: a caller of the hotline or a citizen called back (the ;1
    half of each Local channel, the one running the hotline's dialplan), or a SIP
    caller (``PJSIP/anonymous-...``, its phone hangs up by itself)."""

    channel: str
    kind: str  # "caller", "callback" or "sip"
    number: str
    uniqueid: str
    started: float  # times are Asterisk's event timestamps (wall clock)
    queue: str = ""  # the first queue it joined
    joined_at: float | None = None
    answered: bool = False  # an agent took it (AgentConnect)
    ended: float | None = None
    fallback: bool = False  # the dialplan's fallback: the application did not answer
    asked_again: bool = False  # a callback dialog asked again after its instance went away
    first_prompt: float | None = None  # the first STREAM FILE Asterisk started

    def cut_off(self) -> bool:
        """Hung up by the system before an agent took it (the test ends only the rest)."""
        return self.ended is not None and not self.answered


class Watch:
    """Everything Asterisk says about the citizens' calls, from one AMI client."""

    def __init__(self, ami: AmiClient) -> None:
        self.citizens: dict[str, Citizen] = {}
        self.in_agi: dict[str, tuple[str, float]] = {}  # channel -> (route, since) in AGI()
        self.prompt: dict[str, tuple[str, float]] = {}  # channel -> (STREAM FILE, since)
        self.dialled: Counter[str] = Counter()  # callback numbers rung, each time
        self.by_caller: dict[str, str] = {}  # a caller's number -> its channel
        self.closing = False  # from now on the test hangs up the calls left
        self._unsubscribe = ami.subscribe("*", self._on)

    def close(self) -> None:
        self._unsubscribe()

    def of_kind(self, kind: str) -> list[Citizen]:
        return [c for c in self.citizens.values() if c.kind == kind]

    def busy(self) -> Counter[str]:
        """How many calls are in an AGI() now, by route."""
        return Counter(route for route, _ in self.in_agi.values())

    def hearing(self, channel: str, prompt: str, within_s: float) -> bool:
        """``channel`` is in an AGI() playing ``prompt``, started less than ``within_s`` ago."""
        command, since = self.prompt.get(channel, ("", 0.0))
        return channel in self.in_agi and prompt in command and time.time() - since < within_s

    def _on(self, e: AnyEvent) -> None:
        channel = e.get("Channel")
        name = e.name.lower()
        at = e.timestamp or time.time()
        if name == "newchannel":
            self._new(channel, e.get("CallerIDNum"), e.get("Uniqueid"), at)
            return
        c = self.citizens.get(channel)
        if c is not None and not c.number:  # Newchannel comes before the caller id
            c.number = _digits(e.get("CallerIDNum"))
            self.by_caller[c.number] = channel
        if name == "newexten":
            self._exten(channel, c, e, at)
        elif c is None:
            return
        elif name == "queuecallerjoin" and not c.queue:
            c.queue, c.joined_at = e.get("Queue"), at
        elif name == "agentconnect":
            c.answered = True
        elif name == "agiexecstart" and e.get("Command").upper().startswith("STREAM FILE"):
            self.prompt[channel] = (e.get("Command"), at)
            if c.first_prompt is None:
                c.first_prompt = at
        elif name == "hangup":
            self.in_agi.pop(channel, None)
            if not self.closing and c.ended is None:
                c.ended = at

    def _new(self, channel: str, caller: str, uniqueid: str, at: float) -> None:
        if channel.startswith("Local/s@sim-caller-") and channel.endswith(";1"):
            self.citizens[channel] = Citizen(channel, "caller", _digits(caller), uniqueid, at)
            self.by_caller[_digits(caller)] = channel
        elif channel.startswith("PJSIP/anonymous-"):
            self.citizens[channel] = Citizen(channel, "sip", _digits(caller), uniqueid, at)
        elif (m := _NUMBER.match(channel)) is not None and channel.endswith(";1"):
            # an Originate of Local/<number>@sim-citizen: ;2 plays the citizen's phone,
            # ;1 runs the callback dialplan once it answers
            self.dialled[m[1]] += 1
            self.citizens[channel] = Citizen(channel, "callback", m[1], uniqueid, at)

    def _exten(self, channel: str, c: Citizen | None, e: AnyEvent, at: float) -> None:
        app, data = e.get("Application"), e.get("AppData")
        if app == "AGI" and (m := _ROUTE.search(data)) is not None:
            self.in_agi[channel] = (m[1], at)
        else:
            self.in_agi.pop(channel, None)
        if c is None:
            return
        if e.get("Context") == "ivr-hotline" and e.get("Extension") == "fallback":
            c.fallback = True
        if app == "Verbose" and "asking again" in data:
            c.asked_again = True


def callbacks_at_their_question(watches: Iterable[Watch]) -> bool:
    """Citizens called back are being asked for 1 (slow ones, a second into the
    question, their press at 12 s still to come), and none is past its 1 ("connecting
    you": :func:`callbacks_hearing_connecting`): a moment to kill an instance."""
    now = time.time()
    dialogs = [
        (w, ch, since)
        for w in watches
        for ch, (route, since) in w.in_agi.items()
        if route.rsplit("/", 1)[-1] == "callback"  # "callback", or "a/callback" on node a
    ]
    asking = [
        ch
        for w, ch, since in dialogs
        if (c := w.citizens.get(ch)) is not None and c.number.endswith("7") and 1 < now - since < 10
    ]
    return bool(asking) and len(asking) == len(dialogs)


def callbacks_hearing_connecting(watches: Iterable[Watch], at_least: int = 2) -> bool:
    """At least ``at_least`` citizens called back pressed 1 and hear "connecting you"
    (started less than 3 s ago, about 7 s long), and no dialog is at its question: the
    other moment to kill an instance."""
    dialogs = [
        (w, ch)
        for w in watches
        for ch, (route, _) in w.in_agi.items()
        if route.rsplit("/", 1)[-1] == "callback"
    ]
    hearing = [ch for w, ch in dialogs if w.hearing(ch, "callback-connecting", 3.0)]
    return len(hearing) >= at_least and len(hearing) == len(dialogs)


@dataclass
class Stream:
    """A supervisor's live stream: (arrival, event name, data) in order."""

    events: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)

    def after(
        self, t: float, kinds: tuple[str, ...] = ()
    ) -> list[tuple[float, str, dict[str, Any]]]:
        """The events received from ``t`` on (whose kind starts with one given, if any)."""
        return [ev for ev in self.events if ev[0] >= t and (not kinds or ev[1].startswith(kinds))]

    def uniqueids(self, kind: str) -> set[str]:
        return {str(d.get("data", {}).get("uniqueid")) for _, k, d in self.events if k == kind}


async def _read(resp: aiohttp.ClientResponse, into: Stream) -> None:
    async for name, data in sse_events(resp.content):
        into.events.append((time.time(), name, data))


@contextlib.asynccontextmanager
async def stream(base: str, token: str) -> AsyncIterator[Stream]:
    """``GET /api/stream`` of the server at ``base`` (``http://host:port``), read in the
    background while the block runs."""
    seen = Stream()
    forever = aiohttp.ClientTimeout(total=None, sock_read=None)  # a stream has no end
    async with aiohttp.ClientSession(timeout=forever) as http:
        resp = await http.get(f"{base}/api/stream", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 200, await resp.text()
        task = asyncio.create_task(_read(resp, seen))
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await task
            resp.close()


async def get_json(base: str, path: str, token: str = "") -> tuple[int, Any]:
    """``GET base+path``: the status and the JSON body (None when it is not JSON)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(base + path, headers=headers) as resp:
        try:
            body = await resp.json()
        except (aiohttp.ContentTypeError, ValueError):
            body = None
        return resp.status, body
