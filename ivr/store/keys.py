"""Every Redis key the server writes, in one place (prefix ``ivr:``)."""

from __future__ import annotations

PREFIX = "ivr:"

TRACE = PREFIX + "trace:{uniqueid}"  # JSON of one call's trace, expires after trace_ttl_s
TRACES_BY_TIME = PREFIX + "traces"  # sorted set: uniqueid scored by start time


def trace(uniqueid: str) -> str:
    return TRACE.format(uniqueid=uniqueid)
