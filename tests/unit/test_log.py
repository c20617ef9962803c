"""The JSON log line: a field given as JSON text is written as it is, and the time
stamp is the record's own (second cached, milliseconds not)."""

from __future__ import annotations

import json
import logging

from ivr.log import JsonFormatter, RawJson


def record(created: float, **fields: object) -> logging.LogRecord:
    r = logging.LogRecord("ivr.call", logging.INFO, __file__, 1, "call ended", (), None)
    r.created = created
    r.msecs = int((created - int(created)) * 1000) + 0.0
    r.fields = fields
    return r


def test_a_raw_json_field_is_the_same_data_as_a_dict_field() -> None:
    f = JsonFormatter()
    trace = {"uniqueid": "1.1", "topic": "ร้องเรียน", "steps": [{"at": 0.1}], "ended_at": None}
    as_dict = f.format(record(1700000000.5, call="1.1", trace=trace))
    text = json.dumps(trace, ensure_ascii=False)
    as_raw = f.format(record(1700000000.5, call="1.1", trace=RawJson(text)))
    assert json.loads(as_raw) == json.loads(as_dict)
    assert "ร้องเรียน" in as_raw


def test_the_time_stamp_follows_each_record() -> None:
    f = JsonFormatter()
    stamps = [json.loads(f.format(record(t)))["ts"] for t in (1700000000.125, 1700000000.5)]
    stamps.append(json.loads(f.format(record(1700000001.0)))["ts"])
    assert stamps == [
        "2023-11-14T22:13:20.125Z",
        "2023-11-14T22:13:20.500Z",
        "2023-11-14T22:13:21.000Z",
    ]
