"""The fan-out's routes and what it wants (ivr.ami.fanout), and typed records built
without the frozen dataclass's ``__init__`` (ivr.ami.events)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from ivr.ami.events import _TYPED, AmiEvent, AnyEvent, Hangup, QueueCallerJoin, parse_event
from ivr.ami.fanout import EventFanOut


def test_wanted_follows_subscriptions_and_waits() -> None:
    told: list[frozenset[str] | None] = []
    fan = EventFanOut("test")
    fan.on_interest = lambda: told.append(fan.wanted)
    assert fan.wanted == frozenset()
    off_join = fan.subscribe("queuecallerjoin", lambda e: None)
    off_hangup = fan.subscribe("hangup", lambda e: None)
    fan.subscribe("hangup", lambda e: None)()  # a second handler of the same name
    assert fan.wanted == {"queuecallerjoin", "hangup"}
    off_star = fan.subscribe("*", lambda e: None)
    assert fan.wanted is None
    off_star()
    off_join()
    off_hangup()
    assert fan.wanted == frozenset()
    assert told == [
        frozenset({"queuecallerjoin"}),
        frozenset({"queuecallerjoin", "hangup"}),
        None,
        frozenset({"queuecallerjoin", "hangup"}),
        frozenset({"hangup"}),
        frozenset(),
    ]


async def test_a_wait_wants_its_names_or_everything_while_it_waits() -> None:
    fan = EventFanOut("test")
    fan.subscribe("hangup", lambda e: None)
    named = asyncio.ensure_future(fan.wait(lambda e: True, 5, names=["userevent"]))
    await asyncio.sleep(0)
    assert fan.wanted == frozenset({"hangup", "userevent"})
    anything = asyncio.ensure_future(fan.wait(lambda e: e.name == "Newexten", 5))
    await asyncio.sleep(0)
    assert fan.wanted is None
    fan.dispatch(parse_event({"Event": "Newexten"}))
    assert (await anything).name == "Newexten"
    assert _wanted(fan) == frozenset({"hangup", "userevent"})
    fan.dispatch(parse_event({"Event": "UserEvent"}))
    await named
    assert fan.wanted == {"hangup"}


def test_named_handlers_then_every_event_handlers_in_order() -> None:
    fan = EventFanOut("test")
    got: list[str] = []
    fan.subscribe("*", lambda e: got.append(f"*{e.name}"))
    fan.subscribe("hangup", lambda e: got.append(f"1{e.name}"))
    off = fan.subscribe("hangup", lambda e: got.append(f"2{e.name}"))

    def leaves(_e: AnyEvent) -> None:
        off()  # unsubscribing during a dispatch changes the next event only
        got.append("left")

    fan.subscribe("hangup", leaves)
    fan.dispatch(parse_event({"Event": "Hangup"}))
    fan.dispatch(parse_event({"Event": "Hangup"}))
    fan.dispatch(parse_event({"Event": "VarSet"}))
    assert got == [
        *("1Hangup", "2Hangup", "left", "*Hangup"),
        *("1Hangup", "left", "*Hangup"),
        "*VarSet",
    ]


@pytest.mark.parametrize("cls", _TYPED)
def test_typed_records_are_the_records_their_constructor_makes(cls: type[AmiEvent]) -> None:
    raw = {"Event": cls.EVENT, "Timestamp": "1718000000.5", "Uniqueid": "1.2", "Queue": "q"}
    event = parse_event(raw)
    assert type(event) is cls and event.raw is raw
    built = cls(**{f.name: getattr(event, f.name) for f in dataclasses.fields(cls)})
    assert event == built and hash(event) == hash(built) and repr(event) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.timestamp = 1.0  # type: ignore[misc]


def test_lower_case_headers_given_are_used_as_they_are() -> None:
    raw = {"Event": "QueueCallerJoin", "Position": "3", "Uniqueid": "9.1"}
    lower = {k.lower(): v for k, v in raw.items()}
    joined = QueueCallerJoin(position=3, uniqueid="9.1")
    assert parse_event(raw, lower) == parse_event(raw) == joined
    assert parse_event({"Event": "Hangup", "uniqueid": "1.1"}).get("UNIQUEID") == "1.1"
    twice = parse_event({"Event": "X", "Foo": "1", "foo": "2"})
    assert (twice.get("FOO"), twice.get("foo"), twice.get("bar", "-")) == ("1", "2", "-")
    assert parse_event(raw, lower).get("POSITION") == "3"
    assert isinstance(parse_event({"Event": "hangup"}), Hangup)


def _wanted(fan: EventFanOut) -> frozenset[str] | None:
    return fan.wanted  # read again (mypy narrows the attribute after an `is None`)
