"""When a waiting caller hears its place and wait again, and when a callback is offered."""

from __future__ import annotations

import json

import pytest

from ivr.queues.announce import AnnouncePolicy, LastAnnouncement, decide, offer_callback

POLICY = AnnouncePolicy(min_repeat_s=60.0)


def test_first_announcement_is_made() -> None:
    assert POLICY.decide(None, 5, 300.0, ringing=False, now=0.0)
    assert POLICY.decide(None, 5, None, ringing=False, now=0.0)


def test_never_while_an_agent_is_rung() -> None:
    assert not POLICY.decide(None, 1, 0.0, ringing=True, now=0.0)
    last = LastAnnouncement(at=0.0, place=3)
    assert not POLICY.decide(last, 2, 60.0, ringing=True, now=1000.0)


def test_same_place_is_not_repeated_until_min_repeat() -> None:
    last = LastAnnouncement(at=100.0, place=4, estimate_s=240.0)
    assert not POLICY.decide(last, 4, 240.0, ringing=False, now=100.0)
    assert not POLICY.decide(last, 4, 200.0, ringing=False, now=159.9)
    assert POLICY.decide(last, 4, 200.0, ringing=False, now=160.0)


def test_a_new_place_is_news() -> None:
    last = LastAnnouncement(at=100.0, place=4)
    assert POLICY.decide(last, 3, 180.0, ringing=False, now=101.0)
    # moving back (a callback with an earlier arrival came in) is news too
    assert POLICY.decide(last, 5, 300.0, ringing=False, now=101.0)


def test_min_gap_spaces_announcements_even_when_the_place_changes() -> None:
    policy = AnnouncePolicy(min_repeat_s=60.0, min_gap_s=20.0)
    last = LastAnnouncement(at=100.0, place=4)
    assert not policy.decide(last, 3, None, ringing=False, now=110.0)
    assert policy.decide(last, 3, None, ringing=False, now=120.0)


def test_module_decide_uses_the_default_or_given_policy() -> None:
    last = LastAnnouncement(at=0.0, place=2)
    assert not decide(last, 2, None, False, 30.0)
    assert decide(last, 2, None, False, 60.0)
    assert decide(last, 2, None, False, 30.0, AnnouncePolicy(min_repeat_s=30.0))


def test_record_and_round_trip() -> None:
    last = POLICY.record(7, 420.0, now=1234.5)
    assert last == LastAnnouncement(at=1234.5, place=7, estimate_s=420.0)
    again = LastAnnouncement.from_dict(json.loads(json.dumps(last.to_dict())))
    assert again == last
    assert LastAnnouncement.from_dict({"at": 1, "place": 2}).estimate_s is None


def test_negative_intervals_are_refused() -> None:
    with pytest.raises(ValueError):
        AnnouncePolicy(min_repeat_s=-1)
    with pytest.raises(ValueError):
        AnnouncePolicy(min_gap_s=-1)


def test_a_caller_looping_every_20_s_hears_only_news() -> None:
    """Queue() times out every 20 s; the caller moves up now and then."""
    places = [6, 6, 6, 5, 5, 5, 5, 5, 4, 4, 3, 3, 3, 3, 3, 3, 3]
    last: LastAnnouncement | None = None
    said: list[tuple[float, int]] = []
    for i, place in enumerate(places):
        now = 20.0 * i
        if POLICY.decide(last, place, None, ringing=False, now=now):
            last = POLICY.record(place, None, now)
            said.append((now, place))
    assert said == [
        (0.0, 6),
        (60.0, 5),
        (120.0, 5),  # a minute without news
        (160.0, 4),
        (200.0, 3),
        (260.0, 3),
        (320.0, 3),
    ]


@pytest.mark.parametrize(
    ("estimate", "offers", "expected"),
    [
        (None, 0, False),  # unknown wait: no promise to call back
        (100.0, 0, False),
        (300.0, 0, False),  # at the threshold: not beyond it
        (301.0, 0, True),
        (900.0, 1, True),
        (900.0, 2, False),  # offered enough times
    ],
)
def test_offer_callback(estimate: float | None, offers: int, expected: bool) -> None:
    assert offer_callback(estimate, 300.0, offers, max_offers=2) is expected
