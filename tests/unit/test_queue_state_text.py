"""A queue's JSON remade from the pieces that changed, and copies that share what did not:
always what encoding or copying the whole state gives."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState, same_fields
from ivr.queues.state_text import QueueText


def whole(state: QueueState) -> str:
    return json.dumps(state.to_dict(), ensure_ascii=False)


def line(n: int) -> QueueState:
    state = QueueState("complaint", agents={"PJSIP/1": Agent("PJSIP/1", name="สมชาย")})
    for i in range(n):
        uid = f"1700000000.{i}"
        state.callers[uid] = Caller(uid, channel=f"PJSIP/a-{i}", arrived_at=100.0 + i)
    return state


def test_the_text_is_the_whole_json_and_follows_each_change() -> None:
    state, text = line(3), QueueText()
    assert text.text(state) == whole(state)
    state.callers["1700000000.1"].state = CallerState.ANNOUNCING
    state.callers["1700000000.2"].topic = "ร้องเรียน"  # Thai kept as it is
    del state.callers["1700000000.0"]
    state.answered += 1
    state.agents["PJSIP/1"].state = AgentState.PAUSED
    assert text.text(state) == whole(state)
    state.callers.clear()
    assert text.text(state) == whole(state)
    assert text.text(QueueState("other")) == whole(QueueState("other"))


def test_an_equal_value_of_another_type_is_encoded_again() -> None:
    """1 == 1.0, but their JSON differ: only the very same value keeps a piece."""
    state, text = line(1), QueueText()
    text.text(state)
    state.callers["1700000000.0"].arrived_at = 100
    assert text.text(state) == whole(state)
    assert '"arrived_at": 100,' in text.text(state)


def test_a_forgotten_queue_is_encoded_whole_again() -> None:
    state, text = line(2), QueueText()
    text.text(state)
    text.forget("complaint")
    assert text.text(state) == whole(state)


def test_a_copy_like_an_earlier_one_shares_the_unchanged_callers() -> None:
    state = line(3)
    first = state.copy()
    state.callers["1700000000.1"].last_seen = 5.0
    second = state.copy(like=first)
    assert second == state.copy()
    assert second.callers["1700000000.0"] is first.callers["1700000000.0"]
    assert second.callers["1700000000.1"] is not first.callers["1700000000.1"]
    assert second.callers["1700000000.1"].last_seen == 5.0
    assert second.agents["PJSIP/1"] is first.agents["PJSIP/1"]
    state.callers["1700000000.2"].state = CallerState.RINGING  # the copies do not follow
    assert second.callers["1700000000.2"].state is CallerState.WAITING


def test_same_fields_means_the_very_same_values() -> None:
    a = Caller("1", arrived_at=float("1"))
    b = Caller("1", arrived_at=float("1"))
    assert not same_fields(vars(a), vars(b))  # equal values, not the same objects
    b.__dict__.update(vars(a))
    assert same_fields(vars(a), vars(b))
    b.arrived_at = 1
    assert not same_fields(vars(a), vars(b))
    assert not same_fields(vars(a), vars(Agent("1")))


_values = {
    "channel": st.text(max_size=5),
    "arrived_at": st.one_of(st.floats(allow_nan=False), st.integers(-5, 5)),
    "position": st.one_of(st.none(), st.integers(0, 50)),
    "caller_id": st.text(max_size=5),
    "topic": st.sampled_from(["", "ร้องเรียน", 'a"b\\c', "\u2028"]),
    "state": st.sampled_from(list(CallerState)),
    "last_seen": st.floats(allow_nan=False, allow_infinity=False),
}
_step = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 7), st.sampled_from(sorted(_values)), st.data()),
    st.tuples(st.just("drop"), st.integers(0, 7), st.none(), st.none()),
    st.tuples(st.just("count"), st.integers(0, 3), st.none(), st.none()),
)


@given(st.lists(_step, max_size=30))
def test_any_changes_give_the_whole_json_and_the_whole_copy(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    state, text = line(4), QueueText()
    published = state.copy()
    for op, i, name, data in steps:
        uid = f"1700000000.{i}"
        if op == "set":
            caller = state.callers.setdefault(uid, Caller(uid, arrived_at=float(i)))
            setattr(caller, name, data.draw(_values[name]))
        elif op == "drop":
            state.callers.pop(uid, None)
        else:
            state.answered += i
        assert text.text(state) == whole(state)
        published = state.copy(like=published)
        assert whole(published) == whole(state)
