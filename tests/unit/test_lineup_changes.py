"""The changes the live stream announces, computed from two states of a queue."""

from __future__ import annotations

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.lineup.changes import Change, callback_change, changes
from ivr.queues.state import Agent, AgentState, Caller, CallerState, QueueState


def queue(*callers: Caller, agents: tuple[Agent, ...] = (), answered: int = 0,
          abandoned: int = 0) -> QueueState:  # fmt: skip
    return QueueState(
        name="complaint",
        callers={c.uniqueid: c for c in callers},
        agents={a.interface: a for a in agents},
        answered=answered,
        abandoned=abandoned,
    )


def caller(uid: str, arrived: float, state: CallerState = CallerState.WAITING) -> Caller:
    return Caller(uniqueid=uid, arrived_at=arrived, caller_id="0811111111", state=state)


def kinds(found: list[Change]) -> list[tuple[str, str]]:
    key = {"caller": "uniqueid", "agent": "interface", "callback": "id"}
    return [
        (c.kind, str(c.data.get(key[c.kind.split(".")[0]], c.data.get("moved", "")))) for c in found
    ]


def moved(change: Change) -> list[tuple[str, int, int]]:
    return [(m["uniqueid"], m["place"], m["was"]) for m in change.data["moved"]]


def test_nothing_changed_is_no_change() -> None:
    st = queue(caller("a", 1.0), agents=(Agent("PJSIP/1"),))
    assert changes(st, QueueState.from_dict(st.to_dict())) == []


def test_first_state_announces_everyone() -> None:
    found = changes(None, queue(caller("a", 1.0), agents=(Agent("PJSIP/1"),)))
    assert kinds(found) == [("caller.joined", "a"), ("agent.state", "PJSIP/1")]
    assert found[0].data["place"] == 1
    assert found[0].data["number"] == "0811111111"  # raw here: readers mask it
    assert found[1].data["was"] is None


def test_join_moves_no_one_but_an_earlier_arrival_does() -> None:
    before = queue(caller("a", 10.0))
    after = queue(caller("a", 10.0), caller("b", 20.0))
    assert kinds(changes(before, after)) == [("caller.joined", "b")]
    earlier = queue(caller("a", 10.0), caller("c", 5.0))
    found = changes(before, earlier)
    assert [c.kind for c in found] == ["caller.joined", "caller.place"]
    assert moved(found[1]) == [("a", 2, 1)]


def test_one_place_event_for_everyone_moved() -> None:
    line = [caller(f"c{i}", float(i)) for i in range(5)]
    found = changes(queue(*line), queue(*line[1:]))
    assert [c.kind for c in found] == ["caller.left", "caller.place"]
    assert moved(found[1]) == [(f"c{i}", i, i + 1) for i in range(1, 5)]


def test_left_answered_when_an_agent_talks_to_it() -> None:
    before = queue(caller("a", 1.0), caller("b", 2.0), agents=(Agent("PJSIP/1"),))
    talking = Agent("PJSIP/1", state=AgentState.IN_CALL, caller_uniqueid="a")
    after = queue(caller("b", 2.0), agents=(talking,), answered=1)
    found = changes(before, after)
    assert [c.kind for c in found] == ["caller.left", "caller.place", "agent.state"]
    assert moved(found[1]) == [("b", 1, 2)]
    assert found[0].data["reason"] == "answered"
    assert found[2].data["state"] == "in_call" and found[2].data["was"] == "available"


def test_left_abandoned_from_the_counter() -> None:
    before = queue(caller("a", 1.0))
    found = changes(before, queue(abandoned=1))
    assert [(c.kind, c.data["reason"]) for c in found] == [("caller.left", "abandoned")]


def test_left_with_a_hint_and_without_any_clue() -> None:
    before = queue(caller("a", 1.0), caller("b", 2.0))
    found = changes(before, queue(abandoned=1), {"b": "callback"})
    assert {c.data["uniqueid"]: c.data["reason"] for c in found} == {
        "a": "abandoned",
        "b": "callback",
    }
    assert changes(queue(caller("a", 1.0)), queue())[0].data["reason"] == "left"


def test_caller_state_change() -> None:
    before = queue(caller("a", 1.0))
    found = changes(before, queue(caller("a", 1.0, CallerState.ANNOUNCING)))
    assert kinds(found) == [("caller.state", "a")]
    assert (found[0].data["state"], found[0].data["was"]) == ("announcing", "waiting")


def test_agent_pause_reason_and_removal() -> None:
    before = queue(agents=(Agent("PJSIP/1"), Agent("PJSIP/2")))
    paused = Agent("PJSIP/1", state=AgentState.PAUSED, paused_reason="lunch")
    found = changes(before, queue(agents=(paused,)))
    assert kinds(found) == [("agent.removed", "PJSIP/2"), ("agent.state", "PJSIP/1")]
    assert found[1].data["paused_reason"] == "lunch"
    other = Agent("PJSIP/1", state=AgentState.PAUSED, paused_reason="meeting")
    assert kinds(changes(queue(agents=(paused,)), queue(agents=(other,)))) == [
        ("agent.state", "PJSIP/1")
    ]


def request(status: CallbackStatus, *events: str) -> CallbackRequest:
    return CallbackRequest(
        id="cb1",
        queue="complaint",
        hotline="1111",
        number="0899999999",
        arrived_at=1.0,
        requested_at=2.0,
        status=status,
        history=[{"event": e} for e in events],
    )


def test_callback_transitions() -> None:
    cases = {
        ("requested",): (CallbackStatus.PENDING, "callback.requested"),
        ("requested", "claimed"): (CallbackStatus.DIALING, "callback.dialling"),
        ("requested", "claimed", "retry"): (CallbackStatus.PENDING, "callback.retry"),
        ("requested", "claimed", "interrupted"): (CallbackStatus.PENDING, "callback.retry"),
        ("requested", "claimed", "connected"): (CallbackStatus.CONNECTED, "callback.connected"),
        ("requested", "claimed", "failed"): (CallbackStatus.FAILED, "callback.failed"),
        ("requested", "cancelled"): (CallbackStatus.CANCELLED, "callback.cancelled"),
    }
    for events, (status, kind) in cases.items():
        change = callback_change(request(status, *events))
        assert (change.kind, change.queue) == (kind, "complaint"), events
        assert change.data["id"] == "cb1" and change.data["event"] == events[-1]
