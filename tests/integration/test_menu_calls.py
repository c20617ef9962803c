"""Simulated citizens walk the real 1111 menu on the sandbox Asterisk, with the
server running in this process and traces going to the real Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.sandbox.pbx import Sandbox
from ivr.store.traces import TraceStore
from tests.integration.conftest import SimCaller

pytestmark = pytest.mark.sandbox


def edit_hotline(dialplans: Path, hotline: str, *replacements: tuple[str, str]) -> None:
    path = dialplans / "hotlines" / f"{hotline}.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} not in {path.name}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


# Short prompts and timeouts so that waiting paths take seconds, not minutes.
QUICK = (
    ("greeting: greeting-1111", "greeting: back"),
    ("prompt: menu-main-1111", "prompt: transfer-to-queue"),
    ("  timeout: 5\n", "  timeout: 1\n"),
    ("  retries: 3\n", "  retries: 2\n"),
)


#: digits pressed -> the queue, the topic and the path the trace must show
DIGITS = [
    ("2", "complaint", "complaint", ["main", "2"]),
    ("0", "operator", "operator", ["main", "0"]),
    ("31", "complaint", "track-complaint", ["main", "3", "track", "1"]),
    ("3*2", "complaint", "complaint", ["main", "3", "track", "*", "main", "2"]),
    ("12", "complaint", "complaint", ["main", "1", "2"]),
]


async def test_digits_reach_the_expected_queue(app: HotlineApp, call: SimCaller) -> None:
    # the five callers at once (each its own channel, trace and queue entry)
    calls = await asyncio.gather(
        *(call("1111", press, caller=f"08123450{i:02d}") for i, (press, *_) in enumerate(DIGITS))
    )
    for c, (press, queue, topic, path) in zip(calls, DIGITS, strict=True):
        assert c.trace is not None, press
        assert (c.trace.outcome, c.trace.target, c.trace.topic) == ("queue", queue, topic), press
        assert c.trace.path == path, press
        assert c.queue == queue, press  # Asterisk itself put the caller in that queue
        heard = [h.removeprefix("ivr/") for h in c.prompts_started()]
        menu_part = heard[: len(c.trace.prompts)]
        assert menu_part == c.trace.prompts, press  # the trace says what the caller heard
        assert menu_part[0] == "greeting-1111", press
        assert menu_part[-1] in ("transfer-to-queue", "transfer-to-operator"), press
        assert heard[len(menu_part)] == "queue-position", press  # then the place in line


async def test_information_page_plays_then_returns_to_menu(
    hotlines_dir: Path, settings: Settings, sandbox: Sandbox, call: SimCaller
) -> None:
    edit_hotline(hotlines_dir, "1111", *QUICK, ("info: info-services-1111", "info: goodbye"))
    a = HotlineApp(settings)
    await a.start()
    try:
        # press 1, then listen: the (short) info page plays, then the menu comes back
        c = await call(
            "1111", "1", limit_s=30,
            until=lambda c: c.prompts_started().count("ivr/transfer-to-queue") >= 1
            and "ivr/goodbye" in c.prompts_started(),
        )  # fmt: skip
    finally:
        await a.stop()
    heard = c.prompts_started()
    assert heard.index("ivr/goodbye") < len(heard) - 1
    assert heard[heard.index("ivr/goodbye") + 1] == "ivr/transfer-to-queue"  # the menu again
    assert not c.queue  # still in the IVR, handed nowhere


async def test_timeouts_replay_the_menu_then_go_to_operator(
    hotlines_dir: Path, settings: Settings, sandbox: Sandbox, call: SimCaller
) -> None:
    edit_hotline(hotlines_dir, "1111", *QUICK)
    a = HotlineApp(settings)
    await a.start()
    try:
        c = await call("1111", "")
    finally:
        await a.stop()
    assert c.trace is not None
    kinds = [s.kind for s in c.trace.steps]
    assert kinds.count("timeout") == 3  # first try + 2 retries
    assert c.trace.prompts.count("no-input") == 3
    assert c.trace.prompts.count("transfer-to-queue") == 3  # the (short) menu, 3 times
    assert c.trace.outcome == "queue" and c.trace.target == "operator"
    assert c.queue == "operator"


async def test_wrong_digit_says_so_and_the_caller_can_go_on(
    app: HotlineApp, call: SimCaller
) -> None:
    c = await call("1111", "72")
    assert c.trace is not None
    assert [s.detail for s in c.trace.steps if s.kind == "invalid"] == ["main 7"]
    assert "invalid-option" in c.trace.prompts
    assert c.trace.target == "complaint"


async def test_wrong_digits_up_to_the_limit_go_to_operator(
    hotlines_dir: Path, settings: Settings, sandbox: Sandbox, call: SimCaller
) -> None:
    edit_hotline(hotlines_dir, "1111", *QUICK)
    a = HotlineApp(settings)
    await a.start()
    try:
        c = await call("1111", "777", delay=0.3)
    finally:
        await a.stop()
    assert c.trace is not None
    assert sum(1 for s in c.trace.steps if s.kind == "invalid") == 3
    assert c.trace.target == "operator" and c.queue == "operator"


async def test_repeat_key_replays_the_menu(app: HotlineApp, call: SimCaller) -> None:
    c = await call("1111", "992")
    assert c.trace is not None
    assert c.trace.prompts.count("menu-main-1111") >= 2
    assert c.trace.target == "complaint"


async def test_english_menu(app: HotlineApp, call: SimCaller) -> None:
    c = await call("1111", "82")
    assert c.trace is not None
    assert ("language", "en") in [(s.kind, s.detail) for s in c.trace.steps]
    assert c.trace.target == "complaint"


async def test_hang_up_at_any_step_still_leaves_a_trace(
    app: HotlineApp, call: SimCaller, traces: TraceStore
) -> None:
    presses = ["h", "3h", "1h", "7h", "2h"]  # at the greeting, in a submenu, an info page…
    calls = await asyncio.gather(
        *(call("1111", press, caller=f"08123451{i:02d}") for i, press in enumerate(presses))
    )
    for c, press in zip(calls, presses, strict=True):
        assert c.trace is not None, f"{press}: the trace must be saved when the caller hangs up"
        t = c.trace
        if press == "2h":
            # the hand-off was already decided; a hang-up then keeps the outcome
            assert t.outcome in ("queue", "hangup")
        else:
            assert t.outcome == "hangup", press
            assert t.steps[-1].kind == "outcome", press
        assert t.ended_at is not None, press
        saved = await traces.get(c.uniqueid)
        assert saved is not None and saved.outcome == t.outcome, press
    # the server is unharmed: the next caller gets through
    again = await call("1111", "2")
    assert again.queue == "complaint"


async def test_closed_hours_play_the_hours_and_hang_up(
    hotlines_dir: Path, settings: Settings, sandbox: Sandbox, call: SimCaller
) -> None:
    # closed every day (a window that has already ended at 00:01)
    edit_hotline(
        hotlines_dir,
        "1111",
        ("  always_open: true\n", '  always_open: false\n  weekly:\n    mon-sun: "00:00-00:01"\n'),
        ("  prompt: closed-1111", "  prompt: goodbye"),
    )
    a = HotlineApp(settings)
    await a.start()
    try:
        c = await call("1111", "")
    finally:
        await a.stop()
    assert c.trace is not None
    assert c.trace.outcome == "closed"
    assert "goodbye" in c.trace.prompts  # the closed prompt (edited to a short one)
    assert c.hung_up and not c.queue


async def test_topic_and_path_travel_to_the_agent(
    app: HotlineApp, ami: AmiClient, call: SimCaller
) -> None:
    member = "Local/topiccheck@sim-agent/n"
    sip_agents = [f"PJSIP/agent{i}" for i in range(1, 5)]  # nobody answers there
    for a in sip_agents:
        await ami.action("QueuePause", Interface=a, Queue="complaint", Paused="true")
    await ami.action("QueueAdd", Queue="complaint", Interface=member, MemberName="sim1")
    try:
        answered = asyncio.ensure_future(
            ami.wait_event(
                lambda e: e.name == "UserEvent" and e.get("UserEvent") == "SimAgentAnswered",
                timeout=60,
            )
        )
        c = await call("1111", "31", keep=True)
        ev = await answered
        assert c.queue == "complaint"
        assert ev.get("Topic") == "track-complaint"
        assert ev.get("Path") == "main>3>track>1"
    finally:
        await ami.action("QueueRemove", Queue="complaint", Interface=member)
        for a in sip_agents:
            await ami.action("QueuePause", Interface=a, Queue="complaint", Paused="false")
