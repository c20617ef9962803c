"""Wait estimates, app_queue's baseline, and the exact Thai phrases that announce them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ivr.queues.estimate import (
    Phrase,
    WaitKind,
    WaitPhrase,
    asterisk_baseline,
    estimate_wait,
    mean_handle_time,
    phrase_for,
    round_minutes,
    staffing,
)
from ivr.queues.state import Agent, AgentState, QueueState
from ivr.speech.catalogue import load_catalogue
from ivr.speech.thai_numbers import NUMBER_WORDS, number_prompts, number_text

PROMPTS_ROOT = Path(__file__).resolve().parents[2] / "prompts"

# --------------------------------------------------------------------------- estimate


def test_no_agent_staffed_means_unknown() -> None:
    assert estimate_wait(1, 0, 0, 300.0, 240.0) is None
    assert estimate_wait(5, 0, 0, None, 240.0) is None


@pytest.mark.parametrize(
    ("place", "free", "expected"),
    [
        (1, 1, 0.0),  # a free agent, nobody ahead
        (3, 3, 0.0),  # two ahead, three free: served at once
        (3, 2, 300.0 / 4),  # one call must end among four agents
        (1, 0, 300.0 / 4),
        (5, 0, 5 * 300.0 / 4),
        (9, 1, 8 * 300.0 / 4),
    ],
)
def test_parallel_agents(place: int, free: int, expected: float) -> None:
    assert estimate_wait(place, 4, free, 300.0, 240.0) == pytest.approx(expected)


def test_default_handle_time_when_no_data() -> None:
    assert estimate_wait(3, 1, 0, None, 240.0) == pytest.approx(720.0)
    assert estimate_wait(3, 1, 0, 0.0, 240.0) == pytest.approx(720.0)
    assert estimate_wait(3, 1, 0, math.nan, 240.0) == pytest.approx(720.0)


def test_estimate_grows_with_place_and_shrinks_with_agents() -> None:
    waits = [estimate_wait(p, 3, 0, 200.0, 240.0) for p in range(1, 30)]
    assert all(w is not None for w in waits)
    assert waits == sorted(waits)  # type: ignore[type-var]  # no None, asserted just above
    assert estimate_wait(10, 6, 0, 200.0, 240.0) == pytest.approx(waits[9] / 2)  # type: ignore[operator]


def test_place_below_one_is_treated_as_first() -> None:
    assert estimate_wait(0, 2, 0, 100.0, 240.0) == estimate_wait(1, 2, 0, 100.0, 240.0)


def test_staffing_and_mean_handle_time() -> None:
    st = QueueState("q")
    for i, state in enumerate(
        [
            AgentState.AVAILABLE,
            AgentState.AVAILABLE,
            AgentState.RINGING,
            AgentState.IN_CALL,
            AgentState.WRAPUP,
            AgentState.PAUSED,
            AgentState.UNAVAILABLE,
        ]
    ):
        st.agents[f"A/{i}"] = Agent(f"A/{i}", state=state)
    assert staffing(st) == (5, 2)
    assert mean_handle_time([]) is None
    assert mean_handle_time([100.0, 200.0, 300.0]) == pytest.approx(200.0)
    assert mean_handle_time([100.0, math.inf, -5.0]) == pytest.approx(100.0)


def test_asterisk_baseline_is_average_hold_minus_waited() -> None:
    st = QueueState("q", asterisk_holdtime=300.0)
    assert asterisk_baseline(st, 0) == 300.0
    assert asterisk_baseline(st, 120) == 180.0
    assert asterisk_baseline(st, 400) == 0.0  # never negative
    assert asterisk_baseline(QueueState("q"), 10) == 0.0  # no average yet


def test_asterisk_baseline_ignores_place_the_estimate_does_not() -> None:
    st = QueueState("q", asterisk_holdtime=120.0)
    base = {p: asterisk_baseline(st, 0) for p in (1, 10)}
    ours = {p: estimate_wait(p, 2, 0, 240.0, 240.0) for p in (1, 10)}
    assert base[1] == base[10]
    assert ours[10] == pytest.approx(10 * ours[1])  # type: ignore[operator]


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("seconds", "kind", "minutes"),
    [
        (0, WaitKind.WITHIN, 1),
        (-5, WaitKind.WITHIN, 1),
        (30, WaitKind.WITHIN, 1),
        (59.9, WaitKind.WITHIN, 1),
        (60, WaitKind.ABOUT, 1),
        (61, WaitKind.ABOUT, 2),
        (120, WaitKind.ABOUT, 2),
        (179, WaitKind.ABOUT, 3),
        (299, WaitKind.ABOUT, 5),
        (300, WaitKind.ABOUT, 5),
        (301, WaitKind.ABOUT, 10),
        (600, WaitKind.ABOUT, 10),
        (601, WaitKind.ABOUT, 15),
        (900, WaitKind.ABOUT, 15),
        (901, WaitKind.WITHIN, 20),
        (1200, WaitKind.WITHIN, 20),
        (1201, WaitKind.WITHIN, 30),
        (1800, WaitKind.WITHIN, 30),
        (2401, WaitKind.WITHIN, 50),
        (3600, WaitKind.WITHIN, 60),
        (3601, WaitKind.WITHIN, 90),
        (5400, WaitKind.WITHIN, 90),
        (5401, WaitKind.WITHIN, 120),
        (7200, WaitKind.WITHIN, 120),
        (7201, WaitKind.WITHIN, 180),
        (4 * 3600 + 1, WaitKind.WITHIN, 300),
    ],
)
def test_round_minutes(seconds: float, kind: WaitKind, minutes: int) -> None:
    assert round_minutes(seconds) == (kind, minutes)


def test_rounding_never_promises_less_than_the_estimate() -> None:
    for s in range(60, 6 * 3600, 7):
        _, minutes = round_minutes(s)
        assert minutes * 60 >= s


# --------------------------------------------------------------------------- phrases


@pytest.mark.parametrize(
    ("seconds", "place", "text"),
    [
        (None, 1, "ท่านอยู่ในลำดับที่ 1"),
        (None, 20, "ท่านอยู่ในลำดับที่ 20"),
        (0.0, 1, "ท่านอยู่ในลำดับที่ 1 ไม่เกิน 1 นาที"),
        (45.0, 2, "ท่านอยู่ในลำดับที่ 2 ไม่เกิน 1 นาที"),
        (60.0, 2, "ท่านอยู่ในลำดับที่ 2 ประมาณ 1 นาที"),
        (150.0, 3, "ท่านอยู่ในลำดับที่ 3 ประมาณ 3 นาที"),
        (300.0, 4, "ท่านอยู่ในลำดับที่ 4 ประมาณ 5 นาที"),
        (420.0, 5, "ท่านอยู่ในลำดับที่ 5 ประมาณ 10 นาที"),
        (840.0, 11, "ท่านอยู่ในลำดับที่ 11 ประมาณ 15 นาที"),
        (1000.0, 12, "ท่านอยู่ในลำดับที่ 12 ไม่เกิน 20 นาที"),
        (1500.0, 15, "ท่านอยู่ในลำดับที่ 15 ไม่เกิน 30 นาที"),
        (3500.0, 20, "ท่านอยู่ในลำดับที่ 20 ไม่เกิน 60 นาที"),
        (4000.0, 21, "มีผู้รอสายก่อนท่านมากกว่า 19 สาย ไม่เกิน 90 นาที"),
        (None, 21, "มีผู้รอสายก่อนท่านมากกว่า 19 สาย"),
        (None, 150, "มีผู้รอสายก่อนท่านมากกว่า 19 สาย"),
    ],
)
def test_phrase_texts(seconds: float | None, place: int, text: str) -> None:
    assert phrase_for(seconds, place, 20).text == text


def test_phrase_prompts_compose_thai_numbers() -> None:
    p = phrase_for(150.0, 21, 100)
    assert p.prompts == (
        "queue-position",
        "num-20-prefix",
        "num-10",
        "num-et",
        "queue-position-end",
        "queue-wait-estimate",
        "num-3",
        "queue-minutes",
    )
    assert (p.kind, p.minutes, p.many_ahead) == (WaitKind.ABOUT, 3, False)
    assert p.position_text == "ท่านอยู่ในลำดับที่ 21"
    assert p.wait_text == "ประมาณ 3 นาที"


def test_phrase_within_and_many_ahead_prompts() -> None:
    p = phrase_for(1000.0, 31, 31)
    assert p.prompts == (
        "queue-position",
        *number_prompts(31),
        "queue-position-end",
        "queue-wait-within",
        "num-20-prefix",
        "num-10",
        "queue-minutes",
    )
    q = phrase_for(1000.0, 32, 31)
    assert q.many_ahead
    assert q.prompts == (
        "queue-many-ahead",
        "num-3",
        "num-10",
        "queue-callers",
        "queue-wait-within",
        "num-20-prefix",
        "num-10",
        "queue-minutes",
    )
    assert q.text == "มีผู้รอสายก่อนท่านมากกว่า 30 สาย ไม่เกิน 20 นาที"


def test_unknown_estimate_says_the_place_only() -> None:
    p = phrase_for(None, 3, 20)
    assert p.prompts == ("queue-position", "num-3", "queue-position-end")
    assert (p.kind, p.minutes, p.wait_text) == (WaitKind.NONE, None, "")
    assert phrase_for(math.inf, 3, 20).kind is WaitKind.NONE
    assert phrase_for(math.nan, 3, 20).kind is WaitKind.NONE


def test_many_ahead_is_always_true() -> None:
    for max_place in (2, 10, 20, 50):
        for place in range(max_place + 1, max_place + 40):
            p = phrase_for(None, place, max_place)
            n = int(p.position_text.split("มากกว่า ")[1].split()[0])
            assert place - 1 > n  # strictly more callers ahead than said


def test_wait_phrase_is_the_phrase_type() -> None:
    assert WaitPhrase is Phrase


def test_every_prompt_is_in_the_catalogue_and_spoken_numbers_match_the_text() -> None:
    cat = load_catalogue(PROMPTS_ROOT)
    for seconds in (None, 0.0, 61.0, 610.0, 1000.0, 3700.0, 9000.0):
        for place in (1, 2, 11, 21, 101, 250):
            p = phrase_for(seconds, place, 200)
            for prompt in p.prompts:
                assert prompt in cat, prompt
            spoken = "".join(NUMBER_WORDS.get(x, " ") for x in p.prompts).split()
            digits = [int(w) for w in p.text.split() if w.isdigit()]
            assert spoken == [number_text(d) for d in digits]
