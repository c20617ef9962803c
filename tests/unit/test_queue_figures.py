"""Today's figures from AMI events: the Bangkok day, short abandons counted apart,
the service-level boundary and the figures derived from the counters."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ivr.ami.events import (
    AgentComplete,
    AgentConnect,
    Hangup,
    QueueCallerAbandon,
    QueueCallerJoin,
)
from ivr.queues.figures import Figures, Targets, day_of, increment

BKK = ZoneInfo("Asia/Bangkok")
T = Targets(service_level_s=30, service_level_target=0.8, short_abandon_s=5)


def bkk(year: int, month: int, day: int, hour: int, minute: int, second: int) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=BKK).timestamp()


NOON = bkk(2026, 11, 29, 12, 0, 0)


def test_bangkok_day_boundary() -> None:
    before = QueueCallerJoin(
        queue="complaint", uniqueid="1.1", timestamp=bkk(2026, 11, 29, 23, 59, 59)
    )
    after = QueueCallerJoin(queue="complaint", uniqueid="1.2", timestamp=bkk(2026, 11, 30, 0, 0, 1))
    a, b = increment(before, T, 0), increment(after, T, 0)
    assert a is not None and b is not None
    assert (a.day, b.day) == ("2026-11-29", "2026-11-30")
    # both are on the 29th in UTC (16:59:59 and 17:00:01): one UTC day, two Bangkok days
    assert after.timestamp is not None
    assert datetime.fromtimestamp(after.timestamp, ZoneInfo("UTC")).day == 29


def test_day_of_uses_bangkok_not_utc() -> None:
    assert day_of(bkk(2026, 11, 30, 6, 59, 0)) == "2026-11-30"  # still the 29th in UTC


def test_no_timestamp_uses_the_clock() -> None:
    inc = increment(QueueCallerJoin(queue="q", uniqueid="1.1"), T, NOON)
    assert inc is not None and inc.day == "2026-11-29"


def test_join_is_offered_with_an_id_stable_across_turns() -> None:
    first = increment(QueueCallerJoin(queue="q", uniqueid="1.1", timestamp=NOON), T, 0)
    again = increment(QueueCallerJoin(queue="q", uniqueid="1.1", timestamp=NOON + 30), T, 0)
    assert first is not None and again is not None
    assert first.counts == {"offered": 1}
    assert first.event_id == again.event_id == "1.1:QueueCallerJoin:q"


def test_service_level_boundary() -> None:
    at = increment(AgentConnect(queue="q", uniqueid="1", hold_time=30, timestamp=NOON), T, 0)
    over = increment(AgentConnect(queue="q", uniqueid="2", hold_time=31, timestamp=NOON), T, 0)
    assert at is not None and over is not None
    assert at.counts == {"answered": 1, "answered_within_sl": 1, "hold_s": 30}
    assert over.counts == {"answered": 1, "answered_within_sl": 0, "hold_s": 31}


def test_whole_wait_since_the_original_arrival() -> None:
    # this Queue() turn reports 10 s, but the caller arrived 40 s ago
    ev = AgentConnect(queue="q", uniqueid="1", hold_time=10, timestamp=NOON)
    inc = increment(ev, T, 0, arrived_at=NOON - 40)
    assert inc is not None and inc.counts["answered_within_sl"] == 0
    assert inc.counts["hold_s"] == 40


def test_short_abandons_counted_apart() -> None:
    short = increment(
        QueueCallerAbandon(queue="q", uniqueid="1", hold_time=4, timestamp=NOON), T, 0
    )
    limit = increment(
        QueueCallerAbandon(queue="q", uniqueid="2", hold_time=5, timestamp=NOON), T, 0
    )
    unknown = increment(QueueCallerAbandon(queue="q", uniqueid="3", timestamp=NOON), T, 0)
    assert short is not None and limit is not None and unknown is not None
    assert short.counts == {"short_abandoned": 1}
    assert limit.counts == {"abandoned": 1}
    assert unknown.counts == {"abandoned": 1}


def test_complete_adds_talk_time() -> None:
    ev = AgentComplete(queue="q", uniqueid="1", hold_time=3, talk_time=125, timestamp=NOON)
    inc = increment(ev, T, 0)
    assert inc is not None and inc.counts == {"handled": 1, "talk_s": 125}


def test_other_events_and_missing_queue_count_for_nothing() -> None:
    assert increment(Hangup(uniqueid="1"), T, NOON) is None
    assert increment(QueueCallerJoin(queue="", uniqueid="1"), T, NOON) is None
    assert increment(QueueCallerJoin(queue="q", uniqueid=""), T, NOON) is None


def test_derived_figures() -> None:
    f = Figures(
        offered=12,
        answered=8,
        answered_within_sl=6,
        abandoned=2,
        short_abandoned=1,
        hold_s=160,
        handled=6,
        talk_s=900,
    )
    assert f.service_level == 0.6  # 6 / (8 + 2): short abandons left out
    assert f.abandon_rate == 0.2
    assert f.asa_s == 20.0
    assert f.aht_s == 150.0
    body = f.to_dict("2026-11-29", T)
    assert body["day"] == "2026-11-29" and body["offered"] == 12
    assert body["service_level_target"] == 0.8 and body["service_level_s"] == 30


def test_no_calls_no_figures() -> None:
    f = Figures(offered=1, short_abandoned=1)
    assert (f.service_level, f.abandon_rate, f.asa_s, f.aht_s) == (None, None, None, None)


def test_from_counts_reads_stored_text() -> None:
    f = Figures.from_counts({"offered": "3", "hold_s": "12", "talk_s": "bad", "other": "1"})
    assert (f.offered, f.hold_s, f.talk_s, f.answered) == (3, 12, 0, 0)


def test_only_a_callback_failed_for_good_counts() -> None:
    from ivr.callbacks.model import CallbackRequest, CallbackStatus
    from ivr.lineup.figures import callback_increment

    req = CallbackRequest(
        id="cb1",
        queue="complaint",
        hotline="1111",
        number="0812345678",
        arrived_at=0.0,
        requested_at=0.0,
    )
    noon = 1_795_928_400.0  # 2026-11-29 12:00 in Bangkok
    assert callback_increment(req, noon) is None  # pending
    for status in (CallbackStatus.DIALING, CallbackStatus.CONNECTED, CallbackStatus.CANCELLED):
        req.status = status
        assert callback_increment(req, noon) is None
    req.status = CallbackStatus.FAILED
    inc = callback_increment(req, noon)
    assert inc is not None
    assert (inc.queue, inc.day, inc.counts) == ("complaint", "2026-11-29", {"callbacks_failed": 1})
    again = callback_increment(req, noon + 60)  # told twice: the same id, counted once
    assert again is not None and again.event_id == inc.event_id
