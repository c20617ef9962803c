"""Supervisor transitions of callbacks: the result type and the Lua bodies, which
:class:`ivr.store.callbacks.CallbackStore` prefixes with its shared prelude: cancel
a PENDING request, retry a FAILED one now.

Each returns ``{1, status}`` when done and ``{0, status}`` when the request is in a
state that forbids it (a request being dialled is never cancelled); retry returns
``{0, 'booked', id}`` when the number has another live request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ivr.callbacks.model import CallbackRequest


@dataclass(frozen=True)
class Transition:
    """What a supervisor's transition did: ``done``, or why not (``status`` is the
    request's state then, or "booked" when its number has the live request ``other``)."""

    done: bool
    status: str
    other: str
    request: CallbackRequest | None

    @classmethod
    def of(cls, reply: Sequence[Any], request: CallbackRequest | None) -> Transition:
        """From a script's reply ``{done, status[, other]}``."""
        text = [v.decode() if isinstance(v, bytes) else str(v) for v in reply]
        return cls(text[0] == "1", text[1], text[2] if len(text) > 2 else "", request)


# KEYS as every transition: hash, history, dialing zset, pending zset, number index
# ARGV[1] id, ARGV[2] now, ARGV[3] retention, ARGV[4] by
CANCEL_PENDING = """
local st = redis.call('HGET', KEYS[1], 'status')
if st ~= 'pending' then return {0, st or ''} end
finish('cancelled', '')
hist({}, {event = 'cancelled', status = 'cancelled', by = ARGV[4]})
return {1, 'cancelled'}
"""

# ARGV[4] by, ARGV[5] the hash key prefix (to read the number's live request)
RETRY_FAILED = """
local h = redis.call('HMGET', KEYS[1], 'status', 'arrived_at')
if h[1] ~= 'failed' then return {0, h[1] or ''} end
local live = redis.call('GET', KEYS[5])
if live and live ~= ARGV[1] then
  local st = redis.call('HGET', ARGV[5] .. live, 'status')
  if st == 'pending' or st == 'dialing' then return {0, 'booked', live} end
end
redis.call('HSET', KEYS[1], 'status', 'pending', 'next_attempt_at', ARGV[2],
  'dialing_by', '', 'dialing_until', '0')
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('SET', KEYS[5], ARGV[1])
redis.call('ZADD', KEYS[4], h[2], ARGV[1])
hist({}, {event = 'retry-now', status = 'pending', by = ARGV[4]})
return {1, 'pending'}
"""
