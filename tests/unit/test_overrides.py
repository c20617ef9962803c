"""Supervisors' overrides, pure: what callers get, the engine applying them, the
input the API takes for them, and the changes the stream is told."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.api.action_input import emergency_prompt, not_before, override_mode
from ivr.api.errors import BadRequest
from ivr.callbacks.model import CallbackRequest
from ivr.calls.hotline import HotlineRoute
from ivr.hotlines import HotlineRegistry
from ivr.lineup.changes import (
    callback_change,
    emergency_change,
    hotline_override_change,
    queue_override_change,
)
from ivr.menus.engine import MenuEngine, Outcome
from ivr.menus.loader import load_hotline
from ivr.menus.model import CLOSED_NOW, Hotline
from ivr.menus.overrides import (
    NO_OVERRIDES,
    CallOverrides,
    HotlineOverride,
    closed_policy,
    emergency_prompts,
    is_open,
    parse_mode,
)
from ivr.speech.catalogue import load_catalogue
from ivr.store.overrides import OverrideStore
from ivr.trace import CallTrace
from tests.unit.shipped import HOTLINES, PROMPTS
from tests.unit.test_menu_engine import MONDAY_10AM, SATURDAY_10AM, FakeCall, Step

PROMPTS_ROOT = HOTLINES.parents[1] / "prompts"


@pytest.fixture(scope="module")
def h1111() -> Hotline:
    return load_hotline(HOTLINES / "1111.yaml", PROMPTS)


@pytest.fixture(scope="module")
def h1555() -> Hotline:
    return load_hotline(HOTLINES / "1555.yaml", PROMPTS)


def overrides(mode: Any = "none", emergency: str | None = None, **queues: Any) -> CallOverrides:
    return CallOverrides(HotlineOverride(mode=mode, emergency=emergency), queues)


async def run(
    hotline: Hotline, script: list[Step], ov: CallOverrides, when: datetime = MONDAY_10AM
) -> tuple[Outcome, FakeCall, CallTrace]:
    call = FakeCall(script)
    trace = CallTrace(uniqueid=call.info.uniqueid, hotline=hotline.id)
    outcome = await MenuEngine(hotline, clock=lambda: when).run(call, trace, ov)  # type: ignore[arg-type]
    assert not call.script, f"script not used up: {call.script}"
    return outcome, call, trace


def closed_steps(trace: CallTrace) -> list[str]:
    return [s.detail for s in trace.steps if s.kind == "closed"]


# -- the pure rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours_open", "mode", "expected"),
    [
        (True, "none", True),
        (False, "none", False),
        (True, "closed", False),
        (False, "closed", False),
        (True, "open", True),
        (False, "open", True),
    ],
)
def test_the_override_wins_over_the_hours(hours_open: bool, mode: Any, expected: bool) -> None:
    assert is_open(hours_open, mode) is expected


def test_modes_are_parsed_strictly() -> None:
    assert [parse_mode(m) for m in ("none", "closed", "open")] == ["none", "closed", "open"]
    assert parse_mode("CLOSED") is None and parse_mode(None) is None and parse_mode(1) is None


def test_emergency_prompts_are_the_catalogue_entries_so_named() -> None:
    ids = ["greeting-1111", "emergency-flood", "closed-1111", "emergency-system-outage"]
    assert emergency_prompts(ids) == ["emergency-flood", "emergency-system-outage"]


def test_shipped_catalogue_has_thai_and_english_emergency_prompts() -> None:
    catalogue = load_catalogue(PROMPTS_ROOT)
    allowed = emergency_prompts(catalogue.ids)
    for pid in ("emergency-system-outage", "emergency-flood", "emergency-high-call-volume"):
        assert pid in allowed
        assert catalogue.text(pid, "th").endswith("ค่ะ") and catalogue.has(pid, "en")
    assert "หนึ่งเก้าหนึ่ง" in catalogue.text("emergency-flood")
    assert catalogue.has(CLOSED_NOW, "th") and catalogue.has(CLOSED_NOW, "en")


def test_a_file_without_closed_section_gets_the_generic_closed_prompt(h1111: Hotline) -> None:
    assert closed_policy(h1111).prompt == "closed-1111"
    assert closed_policy(dataclasses.replace(h1111, closed=None)).prompt == CLOSED_NOW


def test_the_override_announcement_replaces_the_files(h1111: Hotline) -> None:
    with_file = dataclasses.replace(h1111, emergency="emergency-1111")
    assert overrides(emergency="emergency-flood").emergency(with_file) == "emergency-flood"
    assert NO_OVERRIDES.emergency(with_file) == "emergency-1111"
    assert NO_OVERRIDES.emergency(h1111) is None


# -- the engine with overrides ---------------------------------------------------------


async def test_closed_now_plays_the_closed_prompt_in_office_hours(h1555: Hotline) -> None:
    outcome, call, trace = await run(h1555, [], overrides("closed"), MONDAY_10AM)
    assert outcome == Outcome("closed")
    assert call.played == ["closed-1555", "goodbye"]  # no holiday prompt, no menu
    assert closed_steps(trace) == ["override"]
    assert call.variables["IVR_RESULT"] == "closed"


async def test_open_now_lets_callers_in_at_the_weekend(h1555: Hotline) -> None:
    outcome, call, _ = await run(h1555, ["1"], overrides("open"), SATURDAY_10AM)
    assert outcome == Outcome("queue", "complaint", "complaint")
    assert call.played[:2] == ["greeting-1555", "menu-main-1555"]


async def test_an_always_open_hotline_can_be_closed(h1111: Hotline) -> None:
    outcome, call, _ = await run(h1111, [], overrides("closed"))
    assert outcome.kind == "closed"
    assert call.played == ["closed-1111", "goodbye"]


async def test_closed_without_closed_section_says_closed_now(h1111: Hotline) -> None:
    hotline = dataclasses.replace(h1111, closed=None)
    _, call, _ = await run(hotline, [], overrides("closed"))
    assert call.played == [CLOSED_NOW, "goodbye"]


async def test_emergency_override_first_replacing_the_files(h1111: Hotline) -> None:
    hotline = dataclasses.replace(h1111, emergency="emergency-1111")
    _, call, trace = await run(hotline, ["2"], overrides(emergency="emergency-flood"))
    assert call.commands[0] == ("play", "ivr/emergency-flood", "")  # not interruptible
    assert trace.prompts[:2] == ["emergency-flood", "greeting-1111"]
    assert "emergency-1111" not in trace.prompts


async def test_emergency_is_heard_by_callers_of_a_closed_hotline(h1555: Hotline) -> None:
    _, call, _ = await run(h1555, [], overrides("closed", "emergency-flood"))
    assert call.played == ["emergency-flood", "closed-1555", "goodbye"]


async def test_a_choice_leading_to_a_closed_queue_hears_closed(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["2"], overrides(complaint="closed"))
    assert outcome == Outcome("closed")
    assert call.played == ["greeting-1111", "menu-main-1111", "closed-1111", "goodbye"]
    assert closed_steps(trace) == ["queue complaint closed"]
    assert call.variables["IVR_QUEUE"] == ""
    assert call.variables["IVR_PATH"] == "main>2"


async def test_other_queues_stay_open(h1111: Hotline) -> None:
    outcome, _, _ = await run(h1111, ["0"], overrides(complaint="closed"))
    assert outcome == Outcome("queue", "operator", "operator")


async def test_on_fail_to_a_closed_queue_hears_closed(h1111: Hotline) -> None:
    main = dataclasses.replace(h1111.start_menu, retries=0)
    hotline = dataclasses.replace(h1111, menus={**h1111.menus, "main": main})
    outcome, call, _ = await run(hotline, [None], overrides(operator="closed"))
    assert outcome.kind == "closed"
    assert call.played[-2:] == ["closed-1111", "goodbye"]


# -- Redis away: the file alone ------------------------------------------------------


class AwayStore(OverrideStore):
    def __init__(self) -> None:
        pass

    async def for_call(self, hotline: str) -> CallOverrides:
        raise RedisConnectionError("Connection refused")


async def test_redis_away_means_the_file_alone(caplog: pytest.LogCaptureFixture) -> None:
    route = HotlineRoute(HotlineRegistry(HOTLINES, PROMPTS_ROOT), None, AwayStore())  # type: ignore[arg-type]
    assert await route.read_overrides("1111", "1.1") is NO_OVERRIDES
    assert "overrides unknown" in caplog.text


# -- the API's input -------------------------------------------------------------------


def test_override_mode_input() -> None:
    assert override_mode({"mode": "closed"}) == "closed"
    for bad in ({"mode": "shut"}, {}, {"mode": "open", "extra": 1}, [1]):
        with pytest.raises(BadRequest):
            override_mode(bad)
    with pytest.raises(BadRequest, match="none, closed, open"):
        override_mode({"mode": "shut"})


def test_emergency_prompt_input_lists_the_allowed() -> None:
    allowed = ["emergency-flood", "emergency-system-outage"]
    assert emergency_prompt({"prompt": "emergency-flood"}, allowed) == "emergency-flood"
    with pytest.raises(BadRequest, match="emergency-flood, emergency-system-outage") as e:
        emergency_prompt({"prompt": "greeting-1111"}, allowed)
    assert e.value.error_id == "unknown-prompt"


def test_not_before_bounds() -> None:
    now = 1_800_000_000.0
    assert not_before({"not_before": now + 600}, now) == now + 600
    assert not_before({"not_before": now - 30}, now) == now  # a little late: now
    for bad in (now - 61, now + 7 * 86400 + 1, "soon", True, None):
        with pytest.raises(BadRequest):
            not_before({"not_before": bad}, now)


# -- the stream's changes -----------------------------------------------------------


def test_override_changes() -> None:
    closed = hotline_override_change("1111", "closed", False, "token:ab")
    assert (closed.kind, closed.queue, closed.data["hotline"]) == ("hotline.closed", "", "1111")
    assert hotline_override_change("1111", "none", True, "t").kind == "hotline.opened"
    q = queue_override_change("complaint", "1111", "closed", False, "t")
    assert (q.kind, q.queue, q.data["hotline"]) == ("queue.closed", "complaint", "1111")
    assert queue_override_change("complaint", "1111", "open", True, "t").kind == "queue.opened"
    s = emergency_change("1111", "emergency-flood", "ประกาศ", "t")
    assert s.kind == "emergency.set" and s.data["text"] == "ประกาศ"
    assert emergency_change("1111", None, "", "t").kind == "emergency.cleared"


def test_a_moved_callback_is_told_as_moved() -> None:
    req = CallbackRequest(
        id="cb1",
        queue="complaint",
        hotline="1111",
        number="0899999999",
        arrived_at=1.0,
        requested_at=2.0,
        next_attempt_at=5.0,
        history=[{"event": "requested"}, {"event": "moved", "next_attempt_at": 5.0}],
    )
    change = callback_change(req)
    assert change.kind == "callback.moved" and change.data["next_attempt_at"] == 5.0
