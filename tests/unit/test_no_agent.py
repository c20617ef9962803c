"""Nobody waits for nobody: the rules' pure core, their settings, and the
dispatcher placing a callback booked while nobody was staffed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.callbacks.model import CallbackRequest
from ivr.config import ConfigError, load_settings, queue_setting
from ivr.config_checks import unknown_queue_tables
from ivr.lineup.dispatch_policy import choose
from ivr.queues.no_agent import NoAgentPolicy, RuleDecision, decide, parse_policy, staffed
from ivr.queues.state import Agent, AgentState, QueueState

NOW = 100_000.0
CALLBACK = parse_policy("callback")


def queue(*states: AgentState, since: float = NOW - 10) -> QueueState:
    agents = {f"a{i}": Agent(f"a{i}", state=s, since=since) for i, s in enumerate(states)}
    return QueueState("complaint", agents=agents)


# -- the policy as written in the settings ------------------------------------------
@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("callback", NoAgentPolicy("callback")),
        ("message", NoAgentPolicy("message")),
        ("wait", NoAgentPolicy("wait")),
        ("overflow:operator", NoAgentPolicy("overflow", "operator")),
        (" overflow : operator ", NoAgentPolicy("overflow", "operator")),
    ],
)
def test_policies_are_read(text: str, policy: NoAgentPolicy) -> None:
    assert parse_policy(text) == policy
    assert str(policy) in ("callback", "message", "wait", "overflow:operator")


@pytest.mark.parametrize("text", ["", "overflow", "overflow:", "hangup", "Callback"])
def test_a_wrong_policy_names_the_ones_allowed(text: str) -> None:
    with pytest.raises(ValueError, match=r"callback, overflow:<queue>, message, wait"):
        parse_policy(text)


# -- staffed ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "state",
    [AgentState.AVAILABLE, AgentState.RINGING, AgentState.IN_CALL, AgentState.WRAPUP],
)
def test_one_member_taking_calls_is_staffed(state: AgentState) -> None:
    assert staffed(queue(AgentState.UNAVAILABLE, state), NOW, 300)


def test_no_member_or_only_logged_out_members_is_nobody() -> None:
    assert not staffed(queue(), NOW, 300)
    assert not staffed(queue(AgentState.UNAVAILABLE, AgentState.UNAVAILABLE), NOW, 300)


def test_members_all_paused_are_staffed_for_the_grace_then_nobody() -> None:
    on_break = queue(AgentState.PAUSED, AgentState.UNAVAILABLE, since=NOW - 299)
    assert staffed(on_break, NOW, 300)
    assert not staffed(on_break, NOW + 2, 300)
    # the grace runs from the most recent pause
    mixed = QueueState(
        "complaint",
        agents={
            "a": Agent("a", state=AgentState.PAUSED, since=NOW - 3600),
            "b": Agent("b", state=AgentState.PAUSED, since=NOW - 10),
        },
    )
    assert staffed(mixed, NOW, 300)
    assert not staffed(mixed, NOW, 0)  # no grace: paused is nobody at once


# -- which rule acts ----------------------------------------------------------------
def rule(
    policy: str = "callback",
    *,
    is_staffed: bool = False,
    waited_s: float = 0.0,
    acted: tuple[str, ...] = (),
    visited: tuple[str, ...] = ("complaint",),
    max_wait_s: float = 600.0,
) -> RuleDecision | None:
    return decide(
        parse_policy(policy),
        max_wait_s,
        is_staffed=is_staffed,
        waited_s=waited_s,
        acted=acted,
        visited=visited,
    )


def test_staffed_and_within_the_maximum_nothing_acts() -> None:
    assert rule(is_staffed=True, waited_s=599) is None


@pytest.mark.parametrize(
    ("policy", "decision"),
    [
        ("callback", RuleDecision("no-agent", "callback")),
        ("message", RuleDecision("no-agent", "message")),
        ("overflow:operator", RuleDecision("no-agent", "overflow", "operator")),
        ("wait", None),
    ],
)
def test_nobody_staffed_acts_by_the_policy(policy: str, decision: RuleDecision | None) -> None:
    assert rule(policy) == decision


@pytest.mark.parametrize(
    ("policy", "decision"),
    [
        ("callback", RuleDecision("max-wait", "callback")),
        ("message", RuleDecision("max-wait", "message")),
        ("overflow:operator", RuleDecision("max-wait", "overflow", "operator")),
        ("wait", RuleDecision("max-wait", "callback")),  # a way out all the same
    ],
)
def test_the_maximum_wait_acts_by_the_same_policy(policy: str, decision: RuleDecision) -> None:
    assert rule(policy, is_staffed=True, waited_s=600) == decision


def test_each_rule_acts_once_per_queue() -> None:
    # nobody staffed, the callback declined: the caller waits, then the maximum acts
    assert rule(acted=("no-agent",), waited_s=100) is None
    assert rule(acted=("no-agent",), waited_s=600) == RuleDecision("max-wait", "callback")
    assert rule(acted=("no-agent", "max-wait"), waited_s=6000) is None
    assert rule(is_staffed=True, acted=("max-wait",), waited_s=6000) is None


def test_no_maximum_when_it_is_zero() -> None:
    assert rule(is_staffed=True, waited_s=1e9, max_wait_s=0) is None


def test_an_overflow_never_goes_back_to_a_queue_left() -> None:
    back = rule("overflow:complaint", visited=("complaint", "operator"))
    assert back == RuleDecision("no-agent", "callback")
    assert rule("overflow:operator", visited=("operator",)) == RuleDecision("no-agent", "callback")


# -- settings -----------------------------------------------------------------------
def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ivr.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_offer_a_callback_and_stop_at_ten_minutes(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, ""))
    assert (s.no_agent, s.max_wait_s, s.paused_grace_s) == ("callback", 600.0, 300.0)


def test_a_queue_sets_its_own_policy_and_maximum(tmp_path: Path) -> None:
    s = load_settings(
        write(
            tmp_path,
            '[queues]\nno_agent = "message"\n\n'
            '[queues.complaint]\nno_agent = "overflow:operator"\nmax_wait_s = 120\n',
        )
    )
    assert queue_setting(s, "complaint", "no_agent") == "overflow:operator"
    assert queue_setting(s, "complaint", "max_wait_s") == 120.0
    assert queue_setting(s, "operator", "no_agent") == "message"
    assert unknown_queue_tables(s, {"complaint", "operator"}) == []


@pytest.mark.parametrize(
    "text",
    ['[queues]\nno_agent = "hangup"\n', '[queues.complaint]\nno_agent = "overflow"\n'],
)
def test_a_wrong_policy_is_refused_with_its_line_and_the_fix(tmp_path: Path, text: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    msg = str(e.value)
    assert f"{p}:2:" in msg and "no_agent" in msg and "overflow:<queue>" in msg


def test_an_overflow_to_no_queue_or_itself_is_reported(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        '[queues.complaint]\nno_agent = "overflow:operater"\n\n'
        '[queues.operator]\nno_agent = "overflow:operator"\n',
    )
    s = load_settings(p)
    problems = unknown_queue_tables(s, {"complaint", "operator"})
    assert len(problems) == 2
    assert problems[0].startswith(f"{p}:2: queue complaint: no_agent overflows to 'operater'")
    assert problems[1].startswith(
        f"{p}:5: queue operator: no_agent overflows to 'operator', itself"
    )


# -- the dispatcher: a callback booked while nobody was staffed ---------------------
def test_a_callback_booked_while_nobody_is_staffed_is_dialled_once_an_agent_is() -> None:
    req = CallbackRequest(
        id="cb1", queue="complaint", hotline="1111", number="0812345670",
        arrived_at=NOW - 100, requested_at=NOW - 90, next_attempt_at=NOW - 90,
    )  # fmt: skip
    pending = {"complaint": [req]}
    nobody = queue(AgentState.UNAVAILABLE)
    on_break = queue(AgentState.PAUSED)
    assert choose({"complaint": nobody}, pending, NOW) == []
    assert choose({"complaint": on_break}, pending, NOW) == []  # paused: not yet
    back = queue(AgentState.UNAVAILABLE, AgentState.AVAILABLE)
    assert choose({"complaint": back}, pending, NOW) == [req]
