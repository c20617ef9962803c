"""Places in line by original arrival: live callers and pending callbacks together."""

from __future__ import annotations

import random

import pytest

from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.lineup.places import place_of, places, queue_position
from ivr.queues.state import Caller, CallerState, QueueState

Q = "complaint"


def state(*callers: Caller) -> QueueState:
    st = QueueState(Q)
    for c in callers:
        st.callers[c.uniqueid] = c
    return st


def cb(
    id_: str,
    arrived_at: float,
    status: CallbackStatus = CallbackStatus.PENDING,
    queue: str = Q,
    call_uniqueid: str = "",
) -> CallbackRequest:
    return CallbackRequest(
        id=id_,
        queue=queue,
        hotline="1111",
        number="0812345678",
        arrived_at=arrived_at,
        requested_at=arrived_at + 60,
        status=status,
        call_uniqueid=call_uniqueid,
    )


def test_live_caller_behind_three_pending_callbacks_hears_place_4() -> None:
    st = state(Caller("me", arrived_at=100.0))
    callbacks = [cb("a", 10.0), cb("b", 20.0), cb("c", 30.0, CallbackStatus.DIALING)]
    assert place_of(st, "me", callbacks) == 4
    # but Asterisk's queue has nobody ahead: it enters Queue() at the head
    assert queue_position(st, 100.0, "me") == 1


def test_place_counts_every_live_state_and_only_earlier_arrivals() -> None:
    st = state(
        Caller("w", arrived_at=1.0, state=CallerState.WAITING),
        Caller("a", arrived_at=2.0, state=CallerState.ANNOUNCING),
        Caller("r", arrived_at=3.0, state=CallerState.RINGING),
        Caller("me", arrived_at=4.0),
        Caller("late", arrived_at=5.0),
    )
    assert place_of(st, "me", []) == 4
    assert place_of(st, "w", []) == 1
    assert place_of(st, "late", []) == 5
    # Asterisk's position counts only callers inside Queue(): not the announcing one
    assert queue_position(st, 4.0, "me") == 3
    assert queue_position(st, 2.0, "a") == 2


@pytest.mark.parametrize(
    "status",
    [CallbackStatus.CONNECTED, CallbackStatus.FAILED, CallbackStatus.CANCELLED],
)
def test_finished_callbacks_hold_no_place(status: CallbackStatus) -> None:
    st = state(Caller("me", arrived_at=100.0))
    assert place_of(st, "me", [cb("x", 1.0, status)]) == 1


def test_callbacks_of_other_queues_and_later_arrivals_do_not_count() -> None:
    st = state(Caller("me", arrived_at=100.0))
    callbacks = [cb("other", 1.0, queue="operator"), cb("later", 200.0), cb("same", 100.0)]
    # "same" arrived at the same second: the tie goes by uniqueid ("me" < "same")
    assert place_of(st, "me", callbacks) == 1


def test_own_callback_does_not_count_against_the_caller() -> None:
    st = state(Caller("me", arrived_at=100.0))
    assert place_of(st, "me", [cb("mine", 100.0, call_uniqueid="me")]) == 1


def test_ties_are_broken_by_uniqueid() -> None:
    st = state(Caller("1700.2", arrived_at=50.0), Caller("1700.1", arrived_at=50.0))
    assert place_of(st, "1700.1", []) == 1
    assert place_of(st, "1700.2", []) == 2
    assert queue_position(st, 50.0, "1700.2") == 2
    assert queue_position(st, 50.0, "1700.1") == 1


def test_unknown_caller_goes_after_everyone() -> None:
    st = state(Caller("a", arrived_at=1.0), Caller("b", arrived_at=2.0))
    assert place_of(st, "nobody", [cb("x", 3.0)]) == 4


def test_queue_position_without_uniqueid_and_empty_queue() -> None:
    assert queue_position(QueueState(Q), 10.0) == 1
    st = state(Caller("a", arrived_at=1.0), Caller("b", arrived_at=20.0))
    assert queue_position(st, 10.0) == 2


def test_many_callers_places_are_a_permutation_in_arrival_order() -> None:
    callers = [Caller(f"u{i:03d}", arrived_at=float(1000 - i)) for i in range(100)]
    st = state(*callers)
    callbacks = [cb(f"cb{i}", float(1000 - i) + 0.5) for i in range(0, 100, 10)]
    places = {c.uniqueid: place_of(st, c.uniqueid, callbacks) for c in callers}
    assert sorted(places.values()) == sorted(set(places.values()))
    by_arrival = sorted(callers, key=lambda c: c.arrived_at)
    assert [places[c.uniqueid] for c in by_arrival] == sorted(places.values())
    assert places[by_arrival[-1].uniqueid] == 100 + len(callbacks) - 1  # cb0 arrived last


@pytest.mark.parametrize("seed", range(20))
def test_all_places_at_once_are_each_callers_place(seed: int) -> None:
    """``places`` gives every caller what ``place_of`` gives it: ties on arrival,
    callers holding no place, callbacks of the caller itself, of another queue, done."""
    rng = random.Random(seed)
    times = [float(rng.randrange(20)) for _ in range(8)]  # few values: many ties
    callers = [
        Caller(
            f"u{rng.randrange(100):02d}",
            arrived_at=rng.choice(times),
            state=rng.choice([*CallerState, CallerState.WAITING]),
        )
        for _ in range(rng.randrange(40))
    ]
    st = state(*callers)
    uids = [c.uniqueid for c in callers] + ["", "gone"]
    callbacks = [
        cb(
            f"cb{rng.randrange(100)}",
            rng.choice(times),
            rng.choice(list(CallbackStatus)),
            rng.choice([Q, Q, Q, "other"]),
            rng.choice(uids),
        )
        for _ in range(rng.randrange(15))
    ]
    assert places(st, callbacks) == {u: place_of(st, u, callbacks) for u in st.callers}
