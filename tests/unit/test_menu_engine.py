"""The menu engine against a scripted fake call: every path of the demo hotline."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.agi.types import CallHangup, CallInfo
from ivr.menus.engine import MenuEngine, Outcome
from ivr.menus.loader import load_hotline
from ivr.menus.model import Action, ClosedPolicy, Goodbye, Hotline, Menu, ToQueue, Transfer
from ivr.trace import CallTrace
from tests.unit.shipped import HOTLINES, PROMPTS

BKK = ZoneInfo("Asia/Bangkok")
MONDAY_10AM = datetime(2026, 11, 16, 10, 0, tzinfo=BKK)
SATURDAY_10AM = datetime(2026, 11, 21, 10, 0, tzinfo=BKK)
CONSTITUTION_DAY_10AM = datetime(2026, 12, 10, 10, 0, tzinfo=BKK)  # a Thursday


class Barge:
    """A key pressed while the next interruptible prompt (or the prompt ``during``) plays."""

    def __init__(self, digit: str, during: str | None = None) -> None:
        self.digit = digit
        self.during = during


Step = str | None | Barge  # a key at the next wait, a timeout, or a barge-in


# FakeCall has no get_data (the menu engine never calls it), so it is not quite the
# Call protocol: the engine's run() calls below ignore arg-type for that alone.
class FakeCall:
    """Plays nothing; answers waits from ``script`` and records every command.

    ``hangup_at=n`` makes the n-th command (0-based) raise :class:`CallHangup`.
    """

    def __init__(
        self, script: Sequence[Step] = (), language: str = "th", hangup_at: int | None = None
    ) -> None:
        self.info = CallInfo(script="hotline", uniqueid="1700000000.1", language=language)
        self.script = list(script)
        self.hangup_at = hangup_at
        self.commands: list[tuple[str, ...]] = []
        self.variables: dict[str, str] = {}
        self.language = language
        self.returned: list[str] = []  # digits the engine received
        self.timeouts = 0
        self.hung_up = False

    def _command(self, *cmd: str) -> None:
        self.commands.append(cmd)
        if self.hangup_at is not None and len(self.commands) > self.hangup_at:
            self.hung_up = True
            raise CallHangup()

    async def answer(self) -> None:
        self._command("answer")

    async def play(self, sound: str, escape_digits: str = "") -> str | None:
        self._command("play", sound, escape_digits)
        barge = self.script[0] if self.script else None
        if not escape_digits or not isinstance(barge, Barge):
            return None
        if barge.during is not None and sound != f"ivr/{barge.during}":
            return None
        self.script.pop(0)
        assert barge.digit in escape_digits, f"{barge.digit} does not interrupt {sound}"
        self.returned.append(barge.digit)
        return barge.digit

    async def wait_digit(self, timeout_ms: int) -> str | None:
        self._command("wait", str(timeout_ms))
        if not self.script:
            raise CallHangup()  # the script ran out: the caller goes away
        step = self.script.pop(0)
        assert not isinstance(step, Barge), "a barge-in step was left unused"
        if step is None:
            self.timeouts += 1
        else:
            self.returned.append(step)
        return step

    async def set_variable(self, name: str, value: str) -> None:
        self._command("set", name, value)
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        self._command("get", name)
        return self.variables.get(name)

    async def set_language(self, language: str) -> None:
        self._command("language", language)
        self.language = language

    @property
    def played(self) -> list[str]:
        return [c[1].removeprefix("ivr/") for c in self.commands if c[0] == "play"]


@pytest.fixture(scope="module")
def h1111() -> Hotline:
    return load_hotline(HOTLINES / "1111.yaml", PROMPTS)


@pytest.fixture(scope="module")
def h1555() -> Hotline:
    return load_hotline(HOTLINES / "1555.yaml", PROMPTS)


async def run(
    hotline: Hotline, script: Sequence[Step], when: datetime = MONDAY_10AM, language: str = "th"
) -> tuple[Outcome, FakeCall, CallTrace]:
    call = FakeCall(script, language=language)
    trace = CallTrace(uniqueid=call.info.uniqueid, hotline=hotline.id)
    outcome = await MenuEngine(hotline, clock=lambda: when).run(call, trace)  # type: ignore[arg-type]
    assert not call.script, f"script not used up: {call.script}"
    return outcome, call, trace


def kinds(trace: CallTrace) -> list[str]:
    return [s.kind for s in trace.steps]


# -- the paths of 1111 ---------------------------------------------------------


async def test_info_page_then_back_to_the_same_menu(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["1", "0"])
    assert outcome == Outcome("queue", "operator", "operator")
    assert call.played == [
        "greeting-1111",
        "menu-main-1111",
        "info-services-1111",
        "menu-main-1111",
        "transfer-to-operator",
    ]
    assert ("info", "info-services-1111") in [(s.kind, s.detail) for s in trace.steps]
    assert call.variables["IVR_PATH"] == "main>1>0"


async def test_complaint_queue(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["2"])
    assert outcome == Outcome("queue", "complaint", "complaint")
    assert call.played == ["greeting-1111", "menu-main-1111", "transfer-to-queue"]
    assert call.variables == {
        "IVR_RESULT": "queue",
        "IVR_QUEUE": "complaint",
        "IVR_TRANSFER": "",
        "IVR_TOPIC": "complaint",
        "IVR_PATH": "main>2",
    }
    assert (trace.outcome, trace.target, trace.topic) == ("queue", "complaint", "complaint")
    assert trace.menu_version == h1111.version and len(h1111.version) == 12
    assert trace.steps[-1].kind == "outcome"
    # the dialplan is told before the outcome is recorded
    assert call.commands[-1] == ("set", "IVR_PATH", "main>2")


async def test_operator_queue(h1111: Hotline) -> None:
    outcome, call, _ = await run(h1111, ["0"])
    assert outcome == Outcome("queue", "operator", "operator")
    assert call.played[-1] == "transfer-to-operator"
    assert call.variables["IVR_TOPIC"] == "operator"


async def test_track_submenu_to_complaint_queue(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["3", "1"])
    assert outcome == Outcome("queue", "complaint", "track-complaint")
    assert call.played == [
        "greeting-1111",
        "menu-main-1111",
        "menu-track-1111",
        "transfer-to-queue",
    ]
    assert call.variables["IVR_PATH"] == "main>3>track>1"
    assert call.variables["IVR_TOPIC"] == "track-complaint"
    assert trace.path == ["main", "3", "track", "1"]
    assert trace.topic == "track-complaint"


async def test_track_info_then_back_then_operator(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["3", "2", "*", "0"])
    assert outcome == Outcome("queue", "operator", "operator")
    assert call.played == [
        "greeting-1111",
        "menu-main-1111",
        "menu-track-1111",
        "info-track-web-1111",
        "menu-track-1111",
        "menu-main-1111",
        "transfer-to-operator",
    ]
    assert call.variables["IVR_PATH"] == "main>3>track>2>*>main>0"
    assert [s.detail for s in trace.steps if s.kind == "menu"] == ["main", "track", "main"]


async def test_repeat_key_replays_the_menu(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["9", "9", "2"])
    assert outcome.target == "complaint"
    assert call.played == ["greeting-1111"] + ["menu-main-1111"] * 3 + ["transfer-to-queue"]
    assert "invalid" not in kinds(trace)
    assert call.variables["IVR_PATH"] == "main>2"


async def test_repeat_key_in_submenu(h1111: Hotline) -> None:
    _, call, _ = await run(h1111, ["3", "9", "1"])
    assert call.played[1:4] == ["menu-main-1111", "menu-track-1111", "menu-track-1111"]


async def test_star_in_start_menu_replays_without_counting(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["*"] * 5 + ["2"])
    assert outcome.target == "complaint"
    assert call.played.count("menu-main-1111") == 6
    assert "invalid" not in kinds(trace)


async def test_timeouts_up_to_the_retry_limit_then_operator(h1111: Hotline) -> None:
    assert h1111.start_menu.retries == 3
    outcome, call, trace = await run(h1111, [None] * 4)
    assert outcome == Outcome("queue", "operator", "operator")
    assert call.played == (
        ["greeting-1111"] + ["menu-main-1111", "no-input"] * 4 + ["transfer-to-operator"]
    )
    waits = [c for c in call.commands if c[0] == "wait"]
    assert waits == [("wait", "5000")] * 4
    assert kinds(trace).count("timeout") == 4
    assert call.variables["IVR_RESULT"] == "queue"
    assert call.variables["IVR_PATH"] == "main"


async def test_three_timeouts_still_get_a_fourth_chance(h1111: Hotline) -> None:
    outcome, call, _ = await run(h1111, [None, None, None, "2"])
    assert outcome.target == "complaint"
    assert call.played.count("no-input") == 3


async def test_invalid_keys_up_to_the_retry_limit_then_operator(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["7", "5", "#", "4"])
    assert outcome == Outcome("queue", "operator", "operator")
    assert call.played == (
        ["greeting-1111"] + ["menu-main-1111", "invalid-option"] * 4 + ["transfer-to-operator"]
    )
    assert [s.detail for s in trace.steps if s.kind == "invalid"] == [
        "main 7",
        "main 5",
        "main #",
        "main 4",
    ]


async def test_mixed_failures_count_together(h1111: Hotline) -> None:
    outcome, call, _ = await run(h1111, [None, "7", None, "7"])
    assert outcome.target == "operator"
    assert call.played[-2:] == ["invalid-option", "transfer-to-operator"]


async def test_failures_reset_in_a_new_menu(h1111: Hotline) -> None:
    outcome, _, trace = await run(h1111, [None, None, None, "3", None, None, None, "1"])
    assert outcome == Outcome("queue", "complaint", "track-complaint")
    assert kinds(trace).count("timeout") == 6


async def test_submenu_failures_go_to_operator(h1111: Hotline) -> None:
    outcome, call, _ = await run(h1111, ["3", "5", "5", "5", "5"])
    assert outcome == Outcome("queue", "operator", "operator")
    assert call.variables["IVR_PATH"] == "main>3>track"


async def test_greeting_interrupted_by_a_digit(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, [Barge("2")])
    assert outcome.target == "complaint"
    assert call.played == ["greeting-1111", "transfer-to-queue"]
    greeting = call.commands[0]
    assert greeting[:2] == ("play", "ivr/greeting-1111") and greeting[2] == "0123456789*#"
    assert trace.path == ["main", "2"]


async def test_greeting_interrupted_by_an_invalid_digit(h1111: Hotline) -> None:
    outcome, call, _ = await run(h1111, [Barge("7"), "2"])
    assert outcome.target == "complaint"
    assert call.played == [
        "greeting-1111",
        "invalid-option",
        "menu-main-1111",
        "transfer-to-queue",
    ]


async def test_menu_prompt_interrupted(h1111: Hotline) -> None:
    outcome, call, _ = await run(
        h1111, [Barge("3", during="menu-main-1111"), Barge("1", during="menu-track-1111")]
    )
    assert outcome.topic == "track-complaint"
    assert not [c for c in call.commands if c[0] == "wait"]
    menu_prompt = call.commands[1]
    # every key interrupts the menu (a wrong one is then told so)
    assert menu_prompt == ("play", "ivr/menu-main-1111", "0123456789*#")


async def test_info_page_interrupted_counts_as_a_choice(h1111: Hotline) -> None:
    outcome, call, _ = await run(h1111, ["1", Barge("2")])
    assert outcome.target == "complaint"
    assert call.played == [
        "greeting-1111",
        "menu-main-1111",
        "info-services-1111",
        "transfer-to-queue",
    ]


async def test_switch_to_english_replays_the_menu(h1111: Hotline) -> None:
    outcome, call, trace = await run(h1111, ["8", "2"])
    assert outcome.target == "complaint"
    assert ("language", "en") in call.commands
    assert call.language == "en"
    assert call.played == [
        "greeting-1111",
        "menu-main-1111",
        "menu-main-1111",
        "transfer-to-queue",
    ]
    i = call.commands.index(("language", "en"))
    assert call.commands[i + 1] == ("play", "ivr/menu-main-1111", "0123456789*#")
    assert ("language", "en") in [(s.kind, s.detail) for s in trace.steps]


async def test_channel_switched_to_thai_first(h1111: Hotline) -> None:
    _, call, trace = await run(h1111, ["2"], language="en")
    assert call.commands[0] == ("language", "th")
    assert trace.steps[0].kind == "language"


async def test_channel_already_thai_is_left_alone(h1111: Hotline) -> None:
    _, call, _ = await run(h1111, ["2"])
    assert not [c for c in call.commands if c[0] == "language"]


async def test_emergency_announcement_first_and_uninterruptible(h1111: Hotline) -> None:
    hotline = dataclasses.replace(h1111, emergency="emergency-flood")
    _, call, trace = await run(hotline, ["2"])
    assert call.commands[0] == ("play", "ivr/emergency-flood", "")
    assert trace.prompts[:2] == ["emergency-flood", "greeting-1111"]


async def test_always_open_even_on_a_holiday(h1111: Hotline) -> None:
    outcome, _, _ = await run(h1111, ["2"], when=CONSTITUTION_DAY_10AM)
    assert outcome.kind == "queue"


# -- other actions ------------------------------------------------------------


def with_option(hotline: Hotline, key: str, action: Action) -> Hotline:
    main = hotline.start_menu
    menu = dataclasses.replace(main, options={**main.options, key: action})
    return dataclasses.replace(hotline, menus={**hotline.menus, main.id: menu})


async def test_transfer(h1111: Hotline) -> None:
    hotline = with_option(h1111, "5", Transfer("police", number="191"))
    outcome, call, trace = await run(hotline, ["5"])
    assert outcome == Outcome("transfer", "191")
    assert call.played[-1] == "transfer-number"
    assert call.variables["IVR_RESULT"] == "transfer"
    assert call.variables["IVR_TRANSFER"] == "191"
    assert call.variables["IVR_QUEUE"] == ""
    assert (trace.outcome, trace.target) == ("transfer", "191")


async def test_goodbye(h1111: Hotline) -> None:
    hotline = with_option(h1111, "5", Goodbye())
    outcome, call, trace = await run(hotline, ["5"])
    assert outcome == Outcome("goodbye")
    assert call.played[-1] == "goodbye"
    assert call.variables["IVR_RESULT"] == "goodbye"
    assert trace.outcome == "goodbye"


async def test_on_fail_goodbye(h1111: Hotline) -> None:
    main: Menu = dataclasses.replace(h1111.start_menu, retries=0, on_fail=Goodbye())
    hotline = dataclasses.replace(h1111, menus={**h1111.menus, "main": main})
    outcome, call, _ = await run(hotline, [None])
    assert outcome.kind == "goodbye"
    assert call.played == ["greeting-1111", "menu-main-1111", "no-input", "goodbye"]


# -- business hours -------------------------------------------------------------


async def test_open_in_office_hours(h1555: Hotline) -> None:
    outcome, call, _ = await run(h1555, ["1"], when=MONDAY_10AM)
    assert outcome == Outcome("queue", "complaint", "complaint")
    assert call.played[:2] == ["greeting-1555", "menu-main-1555"]


async def test_closed_at_the_weekend(h1555: Hotline) -> None:
    outcome, call, trace = await run(h1555, [], when=SATURDAY_10AM)
    assert outcome == Outcome("closed")
    assert call.played == ["closed-1555", "goodbye"]
    assert call.variables["IVR_RESULT"] == "closed"
    assert call.variables["IVR_PATH"] == ""
    assert trace.outcome == "closed"
    assert "closed" in kinds(trace)
    assert not [c for c in call.commands if c[0] == "wait"]


async def test_closed_on_a_public_holiday(h1555: Hotline) -> None:
    outcome, call, trace = await run(h1555, [], when=CONSTITUTION_DAY_10AM)
    assert outcome.kind == "closed"
    assert call.played == ["holiday-closed", "closed-1555", "goodbye"]
    assert [s.detail for s in trace.steps if s.kind == "closed"] == ["holiday Constitution Day"]


async def test_closed_in_the_evening(h1555: Hotline) -> None:
    evening = datetime(2026, 11, 16, 16, 30, tzinfo=BKK)
    outcome, call, _ = await run(h1555, [], when=evening)
    assert outcome.kind == "closed"
    assert call.played == ["closed-1555", "goodbye"]


async def test_closed_then_after_hours_queue(h1555: Hotline) -> None:
    closed = ClosedPolicy("closed-1555", ToQueue("after-hours", "after-hours"), "holiday-closed")
    hotline = dataclasses.replace(h1555, closed=closed)
    outcome, call, trace = await run(hotline, [], when=SATURDAY_10AM)
    assert outcome == Outcome("queue", "after-hours", "after-hours")
    assert call.played == ["closed-1555", "transfer-to-queue"]
    assert call.variables["IVR_RESULT"] == "queue"
    assert call.variables["IVR_QUEUE"] == "after-hours"
    assert trace.topic == "after-hours"


async def test_emergency_before_closed(h1555: Hotline) -> None:
    hotline = dataclasses.replace(h1555, emergency="emergency-flood")
    _, call, _ = await run(hotline, [], when=SATURDAY_10AM)
    assert call.played == ["emergency-flood", "closed-1555", "goodbye"]


# -- hang-ups -------------------------------------------------------------------

SCRIPTS: list[tuple[str, list[Step], datetime]] = [
    ("info", ["1", "0"], MONDAY_10AM),
    ("track", ["3", "2", "*", "3", "1"], MONDAY_10AM),
    ("english", ["8", Barge("2")], MONDAY_10AM),
    ("fails", [None, "7", None, "7"], MONDAY_10AM),
    ("barge", [Barge("9"), Barge("3"), "9", "1"], MONDAY_10AM),
]


@pytest.mark.parametrize(("name", "script", "when"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
async def test_hangup_at_every_step(
    h1111: Hotline, name: str, script: list[Step], when: datetime
) -> None:
    full_call = FakeCall(script)
    full_trace = CallTrace(uniqueid="x", hotline="1111")
    await MenuEngine(h1111, clock=lambda: when).run(full_call, full_trace)  # type: ignore[arg-type]
    total = len(full_call.commands)
    assert total > 3
    for n in range(total):
        call = FakeCall(script, hangup_at=n)
        trace = CallTrace(uniqueid="x", hotline="1111")
        with pytest.raises(CallHangup):
            await MenuEngine(h1111, clock=lambda: when).run(call, trace)  # type: ignore[arg-type]
        assert_consistent(call, trace)
        assert trace.outcome == "" and trace.target == ""
        assert "outcome" not in kinds(trace)
        assert call.commands == full_call.commands[: n + 1]


@pytest.mark.parametrize("when", [SATURDAY_10AM, CONSTITUTION_DAY_10AM, MONDAY_10AM])
async def test_hangup_at_every_step_of_1555(h1555: Hotline, when: datetime) -> None:
    full_call = FakeCall(["1"])
    await MenuEngine(h1555, clock=lambda: when).run(full_call, CallTrace("x", "1555"))  # type: ignore[arg-type]
    for n in range(len(full_call.commands)):
        call = FakeCall(["1"], hangup_at=n)
        trace = CallTrace(uniqueid="x", hotline="1555")
        with pytest.raises(CallHangup):
            await MenuEngine(h1555, clock=lambda: when).run(call, trace)  # type: ignore[arg-type]
        assert_consistent(call, trace)
        assert trace.outcome == ""


async def test_trace_matches_commands_after_a_full_call(h1111: Hotline) -> None:
    _, call, trace = await run(h1111, ["3", Barge("2"), "*", None, "7", "0"])
    assert_consistent(call, trace)
    assert trace.outcome == "queue"


def assert_consistent(call: FakeCall, trace: CallTrace) -> None:
    """Every prompt, key, timeout and language switch in the trace happened, in order."""
    assert trace.prompts == call.played
    assert [s.detail for s in trace.steps if s.kind == "digit"] == call.returned
    assert kinds(trace).count("timeout") == call.timeouts
    switched = [c[1] for c in call.commands if c[0] == "language"]
    if call.hung_up and call.commands[-1][0] == "language":
        switched.pop()  # the switch did not happen, so it is not in the trace
    assert [s.detail for s in trace.steps if s.kind == "language"] == switched
