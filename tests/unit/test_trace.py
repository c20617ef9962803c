"""The call trace as data: the hand-written dict is what ``dataclasses.asdict`` gave,
and it reads back."""

from __future__ import annotations

import dataclasses
import json

from ivr.trace import CallTrace


def finished() -> CallTrace:
    t = CallTrace("1.1", "1111", channel="PJSIP/a-1", caller="081xxx5678", menu_version="v1")
    t.add("prompt", "greeting-1111")
    t.add("digit", "2")
    t.topic = "ร้องเรียน"
    t.finish("queue", "complaint")
    t.close()
    return t


def test_the_dict_is_asdict_without_t0_plus_the_duration() -> None:
    t = finished()
    expected = dataclasses.asdict(t)
    expected.pop("_t0")
    expected["duration"] = t.duration
    assert t.to_dict() == expected
    assert list(t.to_dict()) == list(expected)  # the same order: the same JSON text


def test_the_json_reads_back() -> None:
    t = finished()
    text = t.to_json()
    assert "ร้องเรียน" in text  # Thai kept as it is, not \u-escaped
    back = CallTrace.from_dict(json.loads(text))
    assert back.to_dict() == t.to_dict()
