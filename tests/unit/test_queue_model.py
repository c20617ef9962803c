"""The queue model replayed on AMI traffic recorded from the Asterisk 22 sandbox.

The fixtures in ``tests/fixtures/ami`` were recorded by ``bench/record_ami.py``:
simulated callers and a simulated agent (``Local/rec1@sim-agent/n``) on queue
``complaint``, the demo PJSIP agents paused. Each event is applied at its own
``Timestamp``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ivr.ami.events import AnyEvent, parse_event
from ivr.lineup.places import place_of, queue_position
from ivr.queues import model
from ivr.queues.model import ROLLING, agent_state_for, apply, expire, queue_of, refresh
from ivr.queues.resync import resync
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ami"
QUEUE = "complaint"
SIM = "Local/rec1@sim-agent/n"
WRAPUP = 5.0  # wrapuptime of the sandbox queues


def load(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def events(name: str) -> list[AnyEvent]:
    return [parse_event(raw) for raw in load(f"{name}.jsonl")]


def ts(event: AnyEvent) -> float:
    assert event.timestamp is not None
    return event.timestamp


def replay(
    name: str,
    state: QueueState | None = None,
    stop: Callable[[AnyEvent], bool] | None = None,
) -> tuple[QueueState, float]:
    """Apply the recording (up to and including the first event ``stop`` accepts)."""
    st = state or QueueState(QUEUE)
    now = 0.0
    for event in events(name):
        now = ts(event)
        apply(st, event, now, WRAPUP)
        if stop is not None and stop(event):
            break
    return st, now


def steps(name: str) -> Iterator[tuple[AnyEvent, QueueState, float]]:
    st = QueueState(QUEUE)
    for event in events(name):
        apply(st, event, ts(event), WRAPUP)
        yield event, st, ts(event)


def is_(name: str, n: int = 1, uniqueid: str = "") -> Callable[[AnyEvent], bool]:
    """Accepts the n-th event named ``name`` (of one call when ``uniqueid``)."""
    seen = 0

    def check(e: AnyEvent) -> bool:
        nonlocal seen
        if e.name == name and (not uniqueid or e.get("Uniqueid") == uniqueid):
            seen += 1
        return seen == n

    return check


def joins(name: str) -> list[str]:
    """Uniqueids of the callers in order of first joining."""
    out: list[str] = []
    for e in events(name):
        uid = e.get("Uniqueid")
        if e.name == "QueueCallerJoin" and uid not in out:
            out.append(uid)
    return out


def status(name: str) -> list[dict[str, str]]:
    return load(f"{name}.queuestatus.jsonl")


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("name", ["answered", "abandon", "loop", "redirect", "ring_no_answer"])
def test_fixtures_are_real_asterisk_traffic(name: str) -> None:
    evs = events(name)
    assert evs and all(e.timestamp is not None for e in evs)
    assert [ts(e) for e in evs] == sorted(ts(e) for e in evs)
    assert {e.name for e in evs} >= {"QueueCallerJoin", "Hangup"}
    reply = status(name)
    assert reply[0]["Response"] == "Success"
    assert reply[-1]["Event"] == "QueueStatusComplete"


# --------------------------------------------------------------------------- answered


def test_answered_in_turn_counts_and_times() -> None:
    st, _ = replay("answered")
    assert st.answered == 3
    assert st.abandoned == 0
    assert st.callers == {}
    assert st.handle_times == [4 + WRAPUP] * 3  # TalkTime 4 s + wrap-up
    connects = [e for e in events("answered") if e.name == "AgentConnect"]
    assert len(st.hold_times) == 3
    for measured, e in zip(st.hold_times, connects, strict=True):
        # Asterisk truncates HoldTime to whole seconds.
        assert 0 <= measured - int(e.get("HoldTime")) < 1.1
    assert SIM not in st.agents  # QueueMemberRemoved at the end


def test_answered_step_by_step() -> None:
    uids = joins("answered")
    seen: set[str] = set()
    for event, st, now in steps("answered"):
        if event.name == "QueueMemberAdded":
            assert st.agents[SIM].state is AgentState.PAUSED
            assert st.agents[SIM].name == "rec1"
        elif event.name == "QueueCallerJoin":
            seen.add(event.get("Uniqueid"))
            live = [u for u in uids if u in st.callers]
            assert [place_of(st, u, []) for u in live] == list(range(1, len(live) + 1))
        elif event.name == "QueueMemberPause":
            assert st.agents[SIM].state is AgentState.AVAILABLE
        elif event.name == "AgentCalled":
            assert st.callers[event.get("Uniqueid")].state is CallerState.RINGING
            assert st.agents[SIM].state is AgentState.RINGING
            assert st.agents[SIM].caller_uniqueid == event.get("Uniqueid")
        elif event.name == "AgentConnect":
            assert event.get("Uniqueid") not in st.callers
            assert st.agents[SIM].state is AgentState.IN_CALL
            assert st.agents[SIM].channel == event.get("DestChannel")  # what ChanSpy spies on
            assert st.agents[SIM].channel.startswith("Local/rec1@sim-agent-")
            rest = [u for u in uids if u in st.callers]
            assert [place_of(st, u, []) for u in rest] == list(range(1, len(rest) + 1))
        elif event.name == "AgentComplete":
            agent = st.agents[SIM]
            assert agent.state is AgentState.WRAPUP
            assert agent.channel == ""  # on no call
            assert agent.since == now
            refresh(st, now + WRAPUP - 0.1, WRAPUP)
            assert agent.state is AgentState.WRAPUP
            refresh(st, now + WRAPUP, WRAPUP)
            # refresh() changed agent.state; mypy keeps the narrowing to WRAPUP
            assert agent.state is AgentState.AVAILABLE  # type: ignore[comparison-overlap]
            agent.state, agent.since = AgentState.WRAPUP, now  # go on replaying as recorded
    assert seen == set(uids) and len(uids) == 3


def test_device_free_does_not_end_wrapup() -> None:
    # QueueMemberStatus Status 1 follows AgentComplete at once; the agent stays in wrap-up.
    st, now = replay("answered", stop=is_("AgentComplete"))
    for e in events("answered"):
        if ts(e) > now and e.name == "QueueMemberStatus":
            apply(st, e, ts(e), WRAPUP)
            assert e.get("Status") == "1"
            break
    assert st.agents[SIM].state is AgentState.WRAPUP


# --------------------------------------------------------------------------- abandon


def test_abandon_counts_hangups_and_keeps_pause_reason() -> None:
    uids = joins("abandon")
    st, _ = replay("abandon", stop=is_("QueueMemberPause"))
    assert st.agents[SIM].state is AgentState.PAUSED
    assert st.agents[SIM].paused_reason == "lunch"

    st, _ = replay("abandon", stop=is_("QueueCallerAbandon"))
    # Asterisk's abandon alone does not end the call: the hang-up does.
    assert st.callers[uids[0]].state is CallerState.ANNOUNCING
    assert st.abandoned == 0
    assert place_of(st, uids[1], []) == 2

    st, _ = replay("abandon", stop=is_("Hangup", uniqueid=uids[0]))
    assert uids[0] not in st.callers
    assert st.abandoned == 1
    assert [place_of(st, u, []) for u in uids[1:]] == [1, 2, 3]

    st, _ = replay("abandon")
    assert st.abandoned == 2
    assert st.answered == 2
    assert st.callers == {}
    assert st.handle_times == [4 + WRAPUP] * 2


# --------------------------------------------------------------------------- loop


def test_loop_timeouts_are_not_abandons_and_keep_arrival() -> None:
    uids = joins("loop")
    first_join = {
        e.get("Uniqueid"): ts(e) for e in reversed(events("loop")) if e.name == "QueueCallerJoin"
    }
    rejoins = 0
    for event, st, _ in steps("loop"):
        uid = event.get("Uniqueid")
        if event.name == "QueueCallerJoin":
            caller = st.callers[uid]
            assert caller.arrived_at == first_join[uid]
            rejoins += caller.joined_at != caller.arrived_at
        if event.name in ("QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon"):
            # Every live caller keeps the place its arrival gives it, in or out of Queue().
            live = [u for u in uids if u in st.callers]
            assert [place_of(st, u, []) for u in live] == list(range(1, len(live) + 1))
    assert rejoins >= 6
    assert sum(e.name == "QueueCallerAbandon" for e in events("loop")) >= 6
    assert st.abandoned == 0
    assert st.answered == 3
    assert st.callers == {}
    # Waits are measured from the original arrival, not from the last lap.
    connects = {e.get("Uniqueid"): e for e in events("loop") if e.name == "AgentConnect"}
    order = list(connects)
    for uid, measured in zip(order, st.hold_times, strict=True):
        assert measured >= int(connects[uid].get("HoldTime"))
        assert measured == pytest.approx(ts(connects[uid]) - first_join[uid])
    assert max(st.hold_times) > 10 > max(int(e.get("HoldTime")) for e in connects.values())


def test_loop_caller_out_for_announcement_rejoins_at_its_place() -> None:
    uids = joins("loop")
    st, now = replay("loop", stop=is_("QueueCallerLeave", 2, uniqueid=uids[0]))
    me = st.callers[uids[0]]
    assert me.state is CallerState.ANNOUNCING
    assert me.position is None
    assert place_of(st, uids[0], []) == 1
    # The position to give Queue() when it comes back: nobody in Asterisk's queue is ahead.
    assert queue_position(st, me.arrived_at, me.uniqueid) == 1
    assert queue_position(st, st.callers[uids[2]].arrived_at, uids[2]) == 2
    # Not back within the grace period: forgotten; within it: kept.
    assert expire(st, now + 5, grace_s=30) == []
    gone = expire(st, now + 31, grace_s=30)
    assert [c.uniqueid for c in gone] == [uids[0]]
    assert place_of(st, uids[1], []) == 1


# --------------------------------------------------------------------------- redirect


def test_redirect_out_and_back_keeps_the_original_arrival() -> None:
    uids = joins("redirect")
    st, _ = replay("redirect", stop=is_("QueueCallerJoin", 4))
    first = st.callers[uids[0]]
    assert first.state is CallerState.WAITING
    assert first.position == 3  # Asterisk put it at the end ...
    assert place_of(st, uids[0], []) == 1  # ... its arrival says first
    assert st.abandoned == 0
    st, _ = replay("redirect")
    assert (st.answered, st.abandoned, st.callers) == (3, 0, {})


# --------------------------------------------------------------------------- ringing


def test_ring_no_answer_then_hangup() -> None:
    agent1 = "PJSIP/agent1"
    uid = joins("ring_no_answer")[0]
    st, _ = replay("ring_no_answer", stop=is_("AgentCalled"))
    assert st.callers[uid].state is CallerState.RINGING
    assert st.agents[agent1].state is AgentState.RINGING

    st, _ = replay("ring_no_answer", stop=is_("AgentRingNoAnswer"))
    assert st.callers[uid].state is CallerState.WAITING
    assert st.agents[agent1].state is AgentState.AVAILABLE
    assert st.agents[agent1].caller_uniqueid == ""

    st, _ = replay("ring_no_answer", stop=is_("AgentCalled", 2))
    assert st.agents[agent1].state is AgentState.RINGING

    st, _ = replay("ring_no_answer", stop=is_("Hangup", uniqueid=uid))
    assert uid not in st.callers
    assert st.abandoned == 1
    assert st.agents[agent1].state is AgentState.AVAILABLE  # no longer rung for anyone

    st, _ = replay("ring_no_answer")
    assert st.agents[agent1].state is AgentState.PAUSED


# --------------------------------------------------------------------------- resync


def test_resync_from_queuestatus_without_history() -> None:
    reply = status("answered")
    now = 1_800_000_000.0
    states = resync(reply, now, {})
    assert list(states) == [QUEUE]
    st = states[QUEUE]
    params = next(r for r in reply if r.get("Event") == "QueueParams")
    assert st.answered == int(params["Completed"])
    assert st.abandoned == 0  # Asterisk's count includes every timeout lap
    assert st.asterisk_holdtime == float(params["Holdtime"])
    assert st.asterisk_talktime == float(params["TalkTime"])
    entries = [r for r in reply if r.get("Event") == "QueueEntry"]
    assert len(st.callers) == len(entries) == 3
    for e in entries:
        c = st.callers[e["Uniqueid"]]
        assert c.joined_at == c.arrived_at == now - float(e["Wait"])
        assert c.position == int(e["Position"])
        assert c.channel == e["Channel"]
        assert c.state is CallerState.WAITING
    assert [place_of(st, e["Uniqueid"], []) for e in entries] == [1, 2, 3]
    assert {a.interface for a in st.agents.values()} == {
        "PJSIP/agent1",
        "PJSIP/agent2",
        "PJSIP/agent3",
        "PJSIP/agent4",
        SIM,
    }
    assert st.agents["PJSIP/agent1"].state is AgentState.PAUSED
    assert st.agents["PJSIP/agent1"].paused_reason == "recording"
    assert st.agents["PJSIP/agent1"].name == "agent1"
    assert st.agents[SIM].state is AgentState.PAUSED


def test_resync_keeps_arrivals_announcing_callers_and_history() -> None:
    uids = joins("loop")
    previous, now = replay("loop", stop=is_("QueueCallerLeave", 2, uniqueid=uids[0]))
    previous.handle_times = [100.0, 200.0]
    previous.hold_times = [30.0]
    previous.answered, previous.abandoned = 7, 2
    arrivals = {u: c.arrived_at for u, c in previous.callers.items()}
    reply = status("loop")  # taken while the first caller was out of Queue()
    in_queue = {r["Uniqueid"] for r in reply if r.get("Event") == "QueueEntry"}
    assert uids[0] not in in_queue and in_queue == set(uids[1:])

    st = resync(reply, now + 0.05, {QUEUE: previous})[QUEUE]
    assert {u: c.arrived_at for u, c in st.callers.items()} == arrivals
    assert st.callers[uids[0]].state is CallerState.ANNOUNCING
    assert [place_of(st, u, []) for u in uids] == [1, 2, 3]
    assert (st.handle_times, st.hold_times) == ([100.0, 200.0], [30.0])
    assert (st.answered, st.abandoned) == (7, 2)
    # The resync is a copy, not the previous objects.
    st.callers[uids[0]].arrived_at = 0
    assert previous.callers[uids[0]].arrived_at == arrivals[uids[0]]


def test_resync_keeps_callers_missed_during_an_outage_for_the_grace_period() -> None:
    previous = QueueState(QUEUE)
    previous.callers["gone.1"] = Caller("gone.1", arrived_at=100.0, last_seen=100.0)
    reply = [{"Event": "QueueParams", "Queue": QUEUE, "Completed": "0"}]
    st = resync(reply, 500.0, {QUEUE: previous})[QUEUE]
    assert st.callers["gone.1"].state is CallerState.ANNOUNCING
    assert expire(st, 520.0, grace_s=60) == []
    assert [c.uniqueid for c in expire(st, 561.0, grace_s=60)] == ["gone.1"]


def test_resync_keeps_wrapup_and_ringing() -> None:
    previous = QueueState(QUEUE)
    previous.agents[SIM] = Agent(SIM, "rec1", AgentState.WRAPUP, since=10.0)
    previous.agents["PJSIP/agent1"] = Agent(
        "PJSIP/agent1", "agent1", AgentState.RINGING, since=11.0, caller_uniqueid="c.1"
    )
    previous.callers["c.1"] = Caller("c.1", arrived_at=5.0, state=CallerState.RINGING)
    reply = [
        {"Event": "QueueParams", "Queue": QUEUE},
        {"Event": "QueueMember", "Queue": QUEUE, "Location": SIM, "Name": "rec1", "Status": "1"},
        {"Event": "QueueMember", "Queue": QUEUE, "Location": "PJSIP/agent1", "Status": "6"},
        {"Event": "QueueEntry", "Queue": QUEUE, "Uniqueid": "c.1", "Wait": "3", "Position": "1"},
    ]
    st = resync(reply, 12.0, {QUEUE: previous})[QUEUE]
    assert st.agents[SIM].state is AgentState.WRAPUP
    assert st.agents[SIM].since == 10.0
    assert st.agents["PJSIP/agent1"].state is AgentState.RINGING
    assert st.callers["c.1"].state is CallerState.RINGING
    assert st.callers["c.1"].arrived_at == 5.0


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("status", "paused", "expected"),
    [
        (0, False, AgentState.AVAILABLE),  # UNKNOWN: app_queue rings it
        (1, False, AgentState.AVAILABLE),  # NOT_INUSE
        (2, False, AgentState.IN_CALL),  # INUSE
        (3, False, AgentState.IN_CALL),  # BUSY
        (4, False, AgentState.UNAVAILABLE),  # INVALID
        (5, False, AgentState.UNAVAILABLE),  # UNAVAILABLE
        (6, False, AgentState.RINGING),  # RINGING
        (7, False, AgentState.IN_CALL),  # RINGINUSE
        (8, False, AgentState.IN_CALL),  # ONHOLD
        (99, False, AgentState.UNAVAILABLE),
        (1, True, AgentState.PAUSED),
        (2, True, AgentState.PAUSED),
    ],
)
def test_member_status_codes(status: int, paused: bool, expected: AgentState) -> None:
    st = QueueState(QUEUE)
    raw = {
        "Event": "QueueMemberStatus",
        "Queue": QUEUE,
        "Interface": "PJSIP/agent9",
        "MemberName": "agent9",
        "Status": str(status),
        "Paused": "1" if paused else "0",
        "PausedReason": "break" if paused else "",
    }
    apply(st, parse_event(raw), 5.0)
    agent = st.agents["PJSIP/agent9"]
    assert agent.state is expected
    assert agent.paused_reason == ("break" if paused else "")
    assert agent_state_for(status, paused, AgentState.AVAILABLE) is expected


def test_routing_by_queue_and_hangup_everywhere() -> None:
    join = parse_event(
        {"Event": "QueueCallerJoin", "Queue": "operator", "Uniqueid": "u.1", "Channel": "X/1"}
    )
    hangup = parse_event({"Event": "Hangup", "Uniqueid": "u.1", "Channel": "X/1"})
    assert queue_of(join) == "operator"
    assert queue_of(hangup) == "*"
    assert queue_of(parse_event({"Event": "Newchannel"})) is None
    complaint, operator = QueueState(QUEUE), QueueState("operator")
    for st in (complaint, operator):
        apply(st, join, 1.0)
    assert complaint.callers == {} and "u.1" in operator.callers
    for st in (complaint, operator):
        apply(st, hangup, 2.0)
    assert operator.callers == {} and operator.abandoned == 1
    assert complaint.abandoned == 0


def test_unknown_and_unused_events_change_nothing() -> None:
    st = QueueState(QUEUE)
    before = st.to_dict()
    for raw in ({"Event": "Newexten", "Queue": QUEUE}, {"Event": "VarSet"}, {}):
        apply(st, parse_event(raw), 3.0)
    assert st.to_dict() == before
    assert set(model.HANDLERS) >= {
        "QueueCallerJoin",
        "QueueCallerLeave",
        "QueueCallerAbandon",
        "AgentCalled",
        "AgentRingNoAnswer",
        "AgentConnect",
        "AgentComplete",
        "QueueMemberStatus",
        "QueueMemberPause",
        "QueueMemberAdded",
        "QueueMemberRemoved",
        "Hangup",
    }


def test_rolling_lists_are_bounded() -> None:
    st = QueueState(QUEUE)
    for i in range(ROLLING + 20):
        uid = f"u.{i}"
        apply(st, parse_event({"Event": "QueueCallerJoin", "Queue": QUEUE, "Uniqueid": uid}), i)
        base = {"Queue": QUEUE, "Uniqueid": uid, "Interface": SIM, "HoldTime": "0"}
        apply(st, parse_event({**base, "Event": "AgentConnect"}), i + 0.5)
        apply(st, parse_event({**base, "Event": "AgentComplete", "TalkTime": str(i)}), i + 0.9)
    assert len(st.handle_times) == len(st.hold_times) == ROLLING
    assert st.handle_times[-1] == ROLLING + 19
    assert st.answered == ROLLING + 20


def test_leave_of_unknown_caller_creates_nothing() -> None:
    st = QueueState(QUEUE)
    for name in ("QueueCallerLeave", "QueueCallerAbandon", "AgentConnect"):
        apply(st, parse_event({"Event": name, "Queue": QUEUE, "Uniqueid": "x.1"}), 1.0)
    assert st.callers == {}


def test_state_round_trips_through_json_after_replay() -> None:
    st, _ = replay("loop", stop=is_("AgentConnect"))
    again = QueueState.from_dict(json.loads(json.dumps(st.to_dict())))
    assert again == st
    assert any(a.caller_uniqueid for a in again.agents.values())


@pytest.mark.parametrize("name", ["answered", "abandon", "loop", "redirect", "ring_no_answer"])
def test_to_dict_and_copy_are_asdict_and_its_round_trip(name: str) -> None:
    """The hand-made ``to_dict`` and ``copy`` (the live queues make them for every
    change) give what ``dataclasses.asdict`` and ``from_dict`` give, at every step."""
    for i, (_event, st, _now) in enumerate(steps(name)):
        if i % 3 == 0:
            assert st.to_dict() == dataclasses.asdict(st)
            copy = st.copy()
            assert copy == QueueState.from_dict(st.to_dict()) == st
            for uid, caller in copy.callers.items():
                assert caller is not st.callers[uid]
            for key, agent in copy.agents.items():
                assert agent is not st.agents[key]
            assert copy.hold_times is not st.hold_times


def test_a_caller_moved_on_by_a_rule_is_not_an_abandon() -> None:
    st = QueueState(QUEUE)
    caller = {"Queue": QUEUE, "Uniqueid": "ov.1", "Channel": "Local/s@sim-caller-1;1"}
    apply(st, parse_event({**caller, "Event": "QueueCallerJoin", "Position": "1"}), 1.0)
    apply(st, parse_event({**caller, "Event": "QueueCallerLeave", "Position": "1"}), 4.0)
    moved = {**caller, "Event": "UserEvent", "UserEvent": model.RULE_LEFT}
    apply(st, parse_event(moved), 5.0)  # the dialplan's overflow (or goodbye)
    assert st.callers == {}
    apply(st, parse_event({**caller, "Event": "Hangup"}), 9.0)
    assert st.abandoned == 0


def test_a_caller_leaving_with_a_callback_booked_is_not_an_abandon() -> None:
    st = QueueState(QUEUE)
    caller = {"Queue": QUEUE, "Uniqueid": "cb.1", "Channel": "Local/s@sim-caller-1;1"}
    apply(st, parse_event({**caller, "Event": "QueueCallerJoin", "Position": "1"}), 1.0)
    apply(st, parse_event({**caller, "Event": "QueueCallerAbandon", "Position": "1"}), 4.0)
    apply(st, parse_event({**caller, "Event": "QueueCallerLeave", "Position": "1"}), 4.0)
    assert st.callers["cb.1"].state is CallerState.ANNOUNCING  # out for an announcement
    # the dialplan's UserEvent when the caller accepted a callback, then the hang-up
    booked = {**caller, "Event": "UserEvent", "UserEvent": model.CALLBACK_BOOKED}
    apply(st, parse_event(booked), 9.0)
    apply(st, parse_event({**caller, "Event": "Hangup"}), 9.1)
    assert st.callers == {} and st.abandoned == 0
    # another caller who simply hangs up is an abandon
    other = {"Queue": QUEUE, "Uniqueid": "ab.1", "Channel": "Local/s@sim-caller-2;1"}
    apply(st, parse_event({**other, "Event": "QueueCallerJoin", "Position": "1"}), 10.0)
    apply(st, parse_event({**other, "Event": "Hangup"}), 12.0)
    assert st.abandoned == 1


def test_a_member_removed_during_its_call_does_not_come_back_when_the_call_ends() -> None:
    # QueueRemove while the agent talks; AgentComplete follows when the call ends
    st = QueueState(QUEUE)
    base = {"Queue": QUEUE, "Interface": SIM, "MemberName": "sim1"}
    apply(st, parse_event({**base, "Event": "QueueMemberAdded", "Status": "1", "Paused": "0"}), 1)
    apply(st, parse_event({**base, "Event": "QueueCallerJoin", "Uniqueid": "u.1"}), 2)
    apply(st, parse_event({**base, "Event": "AgentConnect", "Uniqueid": "u.1"}), 3)
    apply(st, parse_event({**base, "Event": "QueueMemberRemoved"}), 4)
    apply(
        st, parse_event({**base, "Event": "AgentComplete", "Uniqueid": "u.1", "TalkTime": "5"}), 8
    )
    assert st.agents == {}
    assert st.handle_times == [5.0]  # the call still counts
