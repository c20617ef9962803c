"""Callback policy: due, place in line, free agents, retry times, what to dial now."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.callbacks.policy import (
    CONNECT_JOIN_GRACE_S,
    due,
    is_open,
    next_open_at,
    retry_at,
    stale_reservation,
)
from ivr.lineup.dispatch_policy import agent_ready, choose, place_is_up, ready_agents
from ivr.menus.hours import BusinessHours, Window
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState

BKK = ZoneInfo("Asia/Bangkok")
OFFICE = BusinessHours(weekly=((Window.parse("08:30-16:30"),),) * 5 + ((), ()), holidays="none")
NOW = 1_700_000_000.0


def bkk(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> float:
    return datetime(y, m, d, hh, mm, tzinfo=BKK).timestamp()


def cb(
    rid: str,
    arrived: float,
    *,
    queue: str = "complaint",
    status: CallbackStatus = CallbackStatus.PENDING,
    next_attempt_at: float = 0.0,
) -> CallbackRequest:
    return CallbackRequest(
        id=rid,
        queue=queue,
        hotline="1111",
        number="0812345678",
        arrived_at=arrived,
        requested_at=arrived + 60,
        status=status,
        next_attempt_at=next_attempt_at,
    )


def caller(uid: str, arrived: float, state: CallerState = CallerState.WAITING) -> Caller:
    return Caller(uniqueid=uid, arrived_at=arrived, joined_at=arrived, state=state)


def agent(
    interface: str, state: AgentState = AgentState.AVAILABLE, since: float = 0.0, paused: str = ""
) -> Agent:
    return Agent(interface=interface, state=state, since=since, paused_reason=paused)


def queue(
    name: str = "complaint", callers: list[Caller] | None = None, agents: list[Agent] | None = None
) -> QueueState:
    return QueueState(
        name=name,
        callers={c.uniqueid: c for c in callers or []},
        agents={a.interface: a for a in agents or []},
    )


# ---------------------------------------------------------------- due


def test_due_when_pending_and_time_has_come() -> None:
    assert due(cb("a", NOW - 100), NOW)
    assert due(cb("a", NOW - 100, next_attempt_at=NOW), NOW)
    assert not due(cb("a", NOW - 100, next_attempt_at=NOW + 1), NOW)


@pytest.mark.parametrize(
    "status",
    [
        CallbackStatus.DIALING,
        CallbackStatus.CONNECTED,
        CallbackStatus.FAILED,
        CallbackStatus.CANCELLED,
    ],
)
def test_not_due_unless_pending(status: CallbackStatus) -> None:
    assert not due(cb("a", NOW - 100, status=status), NOW)


def test_a_request_the_citizen_accepted_is_never_due_again() -> None:
    req = cb("a", NOW - 100)
    req.accepted_at = NOW - 50
    assert not due(req, NOW)


# ---------------------------------------------------------------- agents held


def dialled(*, until: float, accepted_at: float = 0.0) -> CallbackRequest:
    req = cb("a", NOW - 300, status=CallbackStatus.DIALING)
    req.dialing_until, req.accepted_at = until, accepted_at
    return req


def connected(at: float, *, unreported: bool = False, accepted_at: float = 0.0) -> CallbackRequest:
    req = cb("a", NOW - 300, status=CallbackStatus.CONNECTED)
    entry: dict[str, object] = {"at": at, "event": "connected", "status": "connected"}
    if unreported:
        entry["unreported"] = True
    req.history, req.accepted_at = [{"at": at - 60, "event": "claimed"}, entry], accepted_at
    return req


def test_held_while_the_claim_runs() -> None:
    assert not stale_reservation(dialled(until=NOW + 1), NOW)
    assert stale_reservation(dialled(until=NOW), NOW)


def test_held_after_the_1_until_the_accepted_claim_ends() -> None:
    """The citizen pressed 1 and hears "connecting you": held; when no report comes
    (the instance died), the claim, shortened to a grace after the 1, lets it go."""
    accepted = NOW - 10
    req = dialled(until=accepted + CONNECT_JOIN_GRACE_S, accepted_at=accepted)
    assert not stale_reservation(req, NOW)
    assert stale_reservation(req, accepted + CONNECT_JOIN_GRACE_S)


def test_held_a_grace_after_it_was_reported_connected() -> None:
    """Reported after "connecting you": the citizen joins the queue now, where the agent
    is let go on sight; the grace counts from the report, not from the 1."""
    req = connected(NOW, accepted_at=NOW - 20)
    assert not stale_reservation(req, NOW + CONNECT_JOIN_GRACE_S - 1)
    assert stale_reservation(req, NOW + CONNECT_JOIN_GRACE_S)


def test_let_go_at_once_when_connected_without_a_report() -> None:
    """Closed as connected by the leader when the accepted claim expired: its grace has
    run already, and the citizen has been at the head of the queue since."""
    req = connected(NOW, unreported=True, accepted_at=NOW - CONNECT_JOIN_GRACE_S)
    assert stale_reservation(req, NOW)


@pytest.mark.parametrize(
    "status", [CallbackStatus.PENDING, CallbackStatus.FAILED, CallbackStatus.CANCELLED]
)
def test_let_go_once_not_being_dialled(status: CallbackStatus) -> None:
    assert stale_reservation(cb("a", NOW - 100, status=status), NOW)
    assert stale_reservation(None, NOW)


# ---------------------------------------------------------------- place in line


def test_place_up_in_an_empty_line() -> None:
    req = cb("a", NOW - 100)
    assert place_is_up(req, queue(), [req])


def test_earlier_live_caller_holds_the_place() -> None:
    req = cb("a", NOW - 100)
    assert not place_is_up(req, queue(callers=[caller("u1", NOW - 200)]), [req])
    announcing = caller("u1", NOW - 200, CallerState.ANNOUNCING)
    assert not place_is_up(req, queue(callers=[announcing]), [req])


def test_later_live_caller_does_not() -> None:
    req = cb("a", NOW - 100)
    assert place_is_up(req, queue(callers=[caller("u1", NOW - 50)]), [req])


def test_caller_being_rung_for_an_agent_is_already_served() -> None:
    req = cb("a", NOW - 100)
    ringing = caller("u1", NOW - 200, CallerState.RINGING)
    assert place_is_up(req, queue(callers=[ringing]), [req])


def test_caller_without_known_arrival_uses_its_join_time() -> None:
    req = cb("a", NOW - 100)
    c = Caller(uniqueid="u1", arrived_at=0.0, joined_at=NOW - 10)
    assert place_is_up(req, queue(callers=[c]), [req])
    c.joined_at = NOW - 300
    assert not place_is_up(req, queue(callers=[c]), [req])


def test_earlier_pending_callback_holds_the_place() -> None:
    first, second = cb("a", NOW - 200), cb("b", NOW - 100)
    assert place_is_up(first, queue(), [first, second])
    assert not place_is_up(second, queue(), [first, second])


def test_equal_arrivals_are_ordered_by_id() -> None:
    a, b = cb("a", NOW - 100), cb("b", NOW - 100)
    assert place_is_up(a, queue(), [b, a])
    assert not place_is_up(b, queue(), [b, a])


def test_callbacks_being_dialled_or_finished_do_not_hold_the_place() -> None:
    second = cb("b", NOW - 100)
    for status in (CallbackStatus.DIALING, CallbackStatus.FAILED, CallbackStatus.CONNECTED):
        assert place_is_up(second, queue(), [cb("a", NOW - 200, status=status), second])


def test_callback_of_another_queue_does_not_hold_the_place() -> None:
    second = cb("b", NOW - 100)
    assert place_is_up(second, queue(), [cb("a", NOW - 200, queue="operator"), second])


def test_earlier_callback_waiting_for_its_retry_holds_it_only_without_now() -> None:
    waiting = cb("a", NOW - 200, next_attempt_at=NOW + 60)
    second = cb("b", NOW - 100)
    assert not place_is_up(second, queue(), [waiting, second])
    assert place_is_up(second, queue(), [waiting, second], NOW)


# ---------------------------------------------------------------- agents


def test_available_agent_is_ready() -> None:
    assert agent_ready(queue(agents=[agent("PJSIP/agent1")]), NOW, 5.0)


@pytest.mark.parametrize(
    "state",
    [AgentState.PAUSED, AgentState.IN_CALL, AgentState.RINGING, AgentState.UNAVAILABLE],
)
def test_busy_or_paused_agent_is_not_ready(state: AgentState) -> None:
    assert not agent_ready(queue(agents=[agent("PJSIP/agent1", state)]), NOW, 5.0, 5.0)


def test_available_but_paused_agent_is_not_ready() -> None:
    assert not agent_ready(queue(agents=[agent("PJSIP/agent1", paused="lunch")]), NOW, 5.0)


def test_no_agents_no_ready() -> None:
    assert not agent_ready(queue(), NOW, 5.0)


def test_wrapup_ending_within_the_grace_is_ready() -> None:
    # wrap-up of 30 s started 27 s ago: ends in 3 s, within a 5 s grace
    q = queue(agents=[agent("PJSIP/agent1", AgentState.WRAPUP, since=NOW - 27)])
    assert agent_ready(q, NOW, 5.0, wrapup_s=30.0)
    # started 10 s ago: 20 s to go
    q = queue(agents=[agent("PJSIP/agent1", AgentState.WRAPUP, since=NOW - 10)])
    assert not agent_ready(q, NOW, 5.0, wrapup_s=30.0)
    # wrap-up length unknown: not counted
    q = queue(agents=[agent("PJSIP/agent1", AgentState.WRAPUP, since=NOW - 27)])
    assert not agent_ready(q, NOW, 5.0)


def test_paused_in_wrapup_is_not_ready() -> None:
    q = queue(agents=[agent("PJSIP/agent1", AgentState.WRAPUP, since=NOW - 60, paused="x")])
    assert not agent_ready(q, NOW, 5.0, wrapup_s=5.0)


def test_ready_agents_lists_interfaces() -> None:
    q = queue(
        agents=[
            agent("PJSIP/agent2"),
            agent("PJSIP/agent1"),
            agent("PJSIP/agent3", AgentState.IN_CALL),
        ]
    )
    assert ready_agents(q, NOW, 5.0) == ["PJSIP/agent1", "PJSIP/agent2"]


# ---------------------------------------------------------------- retry times and hours


def test_retry_after_the_delay_without_hours() -> None:
    assert retry_at(cb("a", NOW), NOW, 300.0, None) == NOW + 300.0


def test_retry_after_the_delay_within_hours() -> None:
    tuesday_10 = bkk(2024, 3, 5, 10, 0)
    assert retry_at(cb("a", tuesday_10), tuesday_10, 300.0, OFFICE) == tuesday_10 + 300.0


def test_retry_across_closing_time_goes_to_the_next_opening() -> None:
    friday = bkk(2024, 3, 8, 16, 28)  # 16:28 + 5 min is after 16:30
    assert retry_at(cb("a", friday), friday, 300.0, OFFICE) == bkk(2024, 3, 11, 8, 30)


def test_retry_at_night_goes_to_the_morning() -> None:
    tuesday_night = bkk(2024, 3, 5, 22, 0)
    assert retry_at(cb("a", tuesday_night), tuesday_night, 60.0, OFFICE) == bkk(2024, 3, 6, 8, 30)


def test_hours_that_never_open_look_again_a_day_later() -> None:
    never = BusinessHours(holidays="none")
    assert next_open_at(NOW, never) == NOW + 24 * 3600
    assert not is_open(never, NOW)
    assert is_open(None, NOW)


# ---------------------------------------------------------------- choose


def ids(reqs: list[CallbackRequest]) -> list[str]:
    return [r.id for r in reqs]


def test_choose_the_earliest_when_one_agent_is_free() -> None:
    q = queue(agents=[agent("PJSIP/agent1")])
    pending = [cb("late", NOW - 100), cb("early", NOW - 200)]
    assert ids(choose({"complaint": q}, {"complaint": pending}, NOW)) == ["early"]


def test_choose_one_per_free_agent() -> None:
    q = queue(agents=[agent("PJSIP/agent1"), agent("PJSIP/agent2")])
    pending = [cb("c", NOW - 100), cb("a", NOW - 300), cb("b", NOW - 200)]
    assert ids(choose({"complaint": q}, {"complaint": pending}, NOW)) == ["a", "b"]


def test_callbacks_ringing_already_take_their_agent() -> None:
    q = queue(agents=[agent("PJSIP/agent1"), agent("PJSIP/agent2")])
    pending = [
        cb("a", NOW - 300, status=CallbackStatus.DIALING),
        cb("b", NOW - 200),
        cb("c", NOW - 100),
    ]
    assert ids(choose({"complaint": q}, {"complaint": pending}, NOW)) == ["b"]
    q = queue(agents=[agent("PJSIP/agent1")])
    assert choose({"complaint": q}, {"complaint": pending}, NOW) == []


def test_no_free_agent_no_dial() -> None:
    q = queue(agents=[agent("PJSIP/agent1", AgentState.IN_CALL)])
    assert choose({"complaint": q}, {"complaint": [cb("a", NOW - 100)]}, NOW) == []


def test_a_live_caller_ahead_blocks_the_queue() -> None:
    q = queue(callers=[caller("u1", NOW - 150)], agents=[agent("a1"), agent("a2"), agent("a3")])
    pending = [cb("a", NOW - 200), cb("b", NOW - 100), cb("c", NOW - 50)]
    # "a" arrived before the live caller; "b" and "c" after it
    assert ids(choose({"complaint": q}, {"complaint": pending}, NOW)) == ["a"]


def test_callbacks_not_due_are_skipped_without_blocking() -> None:
    q = queue(agents=[agent("PJSIP/agent1")])
    pending = [cb("a", NOW - 200, next_attempt_at=NOW + 60), cb("b", NOW - 100)]
    assert ids(choose({"complaint": q}, {"complaint": pending}, NOW)) == ["b"]


def test_closed_queue_is_not_dialled() -> None:
    saturday = bkk(2024, 3, 9, 10, 0)
    q = queue(agents=[agent("PJSIP/agent1")])
    pending = {"complaint": [cb("a", saturday - 100)]}
    assert choose({"complaint": q}, pending, saturday, hours_for_queue=lambda _q: OFFICE) == []
    monday = bkk(2024, 3, 11, 9, 0)
    chosen = choose({"complaint": q}, pending, monday, hours_for_queue=lambda _q: OFFICE)
    assert ids(chosen) == ["a"]


def test_queue_without_state_is_skipped() -> None:
    assert choose({}, {"complaint": [cb("a", NOW - 100)]}, NOW) == []


def test_agent_in_two_queues_counts_once() -> None:
    shared = agent("PJSIP/agent5")
    complaint = queue("complaint", agents=[shared])
    operator = queue("operator", agents=[agent("PJSIP/agent5")])
    pending = {
        "complaint": [cb("a", NOW - 200)],
        "operator": [cb("b", NOW - 100, queue="operator")],
    }
    chosen = choose({"complaint": complaint, "operator": operator}, pending, NOW)
    assert ids(chosen) == ["a"]


def test_shared_agent_is_left_to_the_queue_that_needs_it() -> None:
    # complaint has its own agent1 and shares agent5 with operator
    complaint = queue("complaint", agents=[agent("PJSIP/agent1"), agent("PJSIP/agent5")])
    operator = queue("operator", agents=[agent("PJSIP/agent5")])
    pending = {
        "complaint": [cb("a", NOW - 200)],
        "operator": [cb("b", NOW - 100, queue="operator")],
    }
    chosen = choose({"complaint": complaint, "operator": operator}, pending, NOW)
    assert ids(chosen) == ["a", "b"]


def test_wrapup_agent_counts_with_the_queue_wrapup_time() -> None:
    q = queue(agents=[agent("PJSIP/agent1", AgentState.WRAPUP, since=NOW - 28)])
    pending = {"complaint": [cb("a", NOW - 100)]}
    assert choose({"complaint": q}, pending, NOW) == []
    chosen = choose({"complaint": q}, pending, NOW, wrapup_grace_s=5.0, wrapup_s=30.0)
    assert ids(chosen) == ["a"]


def test_a_queue_closed_by_a_supervisor_is_not_dialled() -> None:
    q = queue(agents=[agent("PJSIP/agent1")])
    pending = {"complaint": [cb("a", NOW - 100)]}
    assert choose({"complaint": q}, pending, NOW, closed={"complaint"}) == []
    assert ids(choose({"complaint": q}, pending, NOW, closed={"operator"})) == ["a"]
