"""A long line costs an AMI event little: callers are replaced, never changed in place,
so a queue's JSON is remade from the callers that changed, a snapshot shares the
others, and the changes for the stream are found among those that changed; always
what encoding, copying and comparing the whole state gives."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.ami.events import parse_event
from ivr.lineup.changes import changes
from ivr.queues.model import apply, expire
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState
from ivr.queues.state_text import QueueText
from tests.unit.test_queue_model import QUEUE, WRAPUP, events, ts

RECORDED = ["answered", "abandon", "loop", "redirect", "ring_no_answer"]


def whole(state: QueueState) -> str:
    return json.dumps(state.to_dict(), ensure_ascii=False)


def line(n: int) -> QueueState:
    state = QueueState(QUEUE, agents={"PJSIP/1": Agent("PJSIP/1", name="สมชาย")})
    for i in range(n):
        uid = f"1700000000.{i}"
        state.callers[uid] = Caller(uid, channel=f"PJSIP/a-{i}", arrived_at=100.0 + i)
    return state


def test_the_text_is_the_whole_json_and_follows_each_change() -> None:
    state, text = line(3), QueueText()
    assert text.text(state) == whole(state)
    state.change_caller("1700000000.1", state=CallerState.ANNOUNCING)
    state.change_caller("1700000000.2", topic="ร้องเรียน")  # Thai kept as it is
    del state.callers["1700000000.0"]
    state.answered += 1
    state.agents["PJSIP/1"].state = AgentState.PAUSED  # agents: changed in place
    assert text.text(state) == whole(state)
    state.callers.clear()
    assert text.text(state) == whole(state)
    assert text.text(QueueState("other")) == whole(QueueState("other"))


def test_a_changed_caller_keeps_its_place_and_the_old_one_is_left_as_it_was() -> None:
    state = line(3)
    old = state.callers["1700000000.1"]
    new = state.change_caller("1700000000.1", arrived_at=50)
    assert list(state.callers) == ["1700000000.0", "1700000000.1", "1700000000.2"]
    assert state.callers["1700000000.1"] is new and new.arrived_at == 50
    assert old.arrived_at == 101.0
    assert '"arrived_at": 50,' in QueueText().text(state)  # an int stays an int
    with pytest.raises(TypeError, match="no field"):
        state.change_caller("1700000000.1", colour="red")


def test_a_forgotten_queue_is_encoded_whole_again() -> None:
    state, text = line(2), QueueText()
    text.text(state)
    text.forget(QUEUE)
    assert text.text(state) == whole(state)


def test_a_snapshot_shares_the_callers_and_stays_as_it_was() -> None:
    state = line(2)
    snap = state.snapshot()
    assert snap == state.copy() == state
    assert snap.callers["1700000000.0"] is state.callers["1700000000.0"]
    assert snap.agents["PJSIP/1"] is not state.agents["PJSIP/1"]
    state.change_caller("1700000000.0", state=CallerState.RINGING)
    state.agents["PJSIP/1"].state = AgentState.IN_CALL
    state.answered = 3
    assert snap.callers["1700000000.0"].state is CallerState.WAITING
    assert snap.agents["PJSIP/1"].state is AgentState.AVAILABLE
    assert snap.answered == 0


def recorded_steps() -> Iterator[tuple[str, QueueState]]:
    for name in RECORDED:
        state = QueueState(QUEUE)
        for event in events(name):
            apply(state, event, ts(event), WRAPUP)
            yield name, state


def test_the_model_never_changes_a_caller_in_place() -> None:
    """Every caller object left in the state after an event has the fields it had."""
    seen: dict[int, tuple[Caller, dict[str, object]]] = {}
    for _name, state in recorded_steps():
        for caller in state.callers.values():
            kept = seen.setdefault(id(caller), (caller, dict(vars(caller))))
            assert kept[0] is not caller or vars(caller) == kept[1]


def test_along_recorded_calls_text_snapshot_and_changes_are_those_of_the_whole() -> None:
    text, published, whole_published = QueueText(), None, None
    for _name, state in recorded_steps():
        assert text.text(state) == whole(state)
        snap = state.snapshot()
        full = QueueState.from_dict(json.loads(whole(state)))  # shares nothing
        assert changes(published, snap) == changes(whole_published, full)
        published, whole_published = snap, full


_fields = {
    "state": st.sampled_from(list(CallerState)),
    "arrived_at": st.one_of(st.floats(-5, 5), st.integers(-5, 5)),
    "position": st.one_of(st.none(), st.integers(0, 9)),
    "topic": st.sampled_from(["", "ร้องเรียน", 'a"b\\c', "\u2028"]),
    "last_seen": st.floats(allow_nan=False, allow_infinity=False),
}
_EVENTS = ["QueueCallerJoin", "QueueCallerLeave", "AgentCalled", "AgentRingNoAnswer",
           "AgentConnect", "Hangup"]  # fmt: skip
_step = st.one_of(
    st.tuples(st.just("change"), st.integers(0, 7), st.sampled_from(sorted(_fields)), st.data()),
    st.tuples(st.just("event"), st.integers(0, 7), st.sampled_from(_EVENTS), st.none()),
    st.tuples(st.just("expire"), st.integers(0, 7), st.none(), st.none()),
)


@given(st.lists(_step, max_size=30))
def test_any_changes_give_the_whole_json_and_the_whole_changes(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    state, text = line(4), QueueText()
    published, full_published = state.snapshot(), state.copy()
    for op, i, what, data in steps:
        uid = f"1700000000.{i}"
        if op == "change" and uid in state.callers:
            state.change_caller(uid, **{what: data.draw(_fields[what])})
        elif op == "event":
            raw = {"Event": what, "Queue": QUEUE, "Uniqueid": uid, "Channel": f"PJSIP/a-{i}",
                   "Interface": "PJSIP/1", "MemberName": "สมชาย"}  # fmt: skip
            apply(state, parse_event(raw), float(i), WRAPUP)
        elif op == "expire":
            expire(state, 1000.0 + i, grace_s=float(i))
        assert text.text(state) == whole(state)
        snap, full = state.snapshot(), QueueState.from_dict(json.loads(whole(state)))
        assert changes(published, snap) == changes(full_published, full)
        published, full_published = snap, full
