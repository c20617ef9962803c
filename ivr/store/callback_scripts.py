"""The Lua scripts of :class:`ivr.store.callbacks.CallbackStore`: one script per
change of a callback request's status (create, claim, accept, release, finish,
reclaim), and
the supervisors' transitions with their result type (cancel a PENDING request, retry
a FAILED one now, move a PENDING one's time), which the store prefixes with the shared prelude.

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
  'dialing_by', '', 'dialing_until', '0', 'accepted_at', '0')
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('SET', KEYS[5], ARGV[1])
redis.call('ZADD', KEYS[4], h[2], ARGV[1])
hist({}, {event = 'retry-now', status = 'pending', by = ARGV[4]})
return {1, 'pending'}
"""

# ARGV[4] by, ARGV[5] the new next_attempt_at
MOVE_PENDING = """
local st = redis.call('HGET', KEYS[1], 'status')
if st ~= 'pending' then return {0, st or ''} end
redis.call('HSET', KEYS[1], 'next_attempt_at', ARGV[5])
hist({next_attempt_at = ARGV[5]}, {event = 'moved', status = 'pending', by = ARGV[4]})
return {1, 'pending'}
"""


# -- Lua --------------------------------------------------------------------------
# Every script but CREATE takes KEYS = hash, history, dialing zset, pending zset of
# the queue, number index; ARGV[1] = id, ARGV[2] = now, ARGV[3] = retention (s).

PRELUDE = """
local function hist(nums, strs)
  local parts = {'"at":' .. ARGV[2]}
  for k, v in pairs(nums) do parts[#parts + 1] = '"' .. k .. '":' .. v end
  local body = cjson.encode(strs)
  if body ~= '{}' then parts[#parts + 1] = string.sub(body, 2, -2) end
  redis.call('RPUSH', KEYS[2], '{' .. table.concat(parts, ',') .. '}')
end
local function finish(status, result)
  redis.call('HSET', KEYS[1], 'status', status, 'dialing_by', '', 'dialing_until', '0')
  if result ~= '' then redis.call('HSET', KEYS[1], 'last_result', result) end
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  if redis.call('GET', KEYS[5]) == ARGV[1] then redis.call('DEL', KEYS[5]) end
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
"""

# KEYS: hash, history, number, pending, by time, by queue and time
# ARGV: id, arrived_at, requested_at, hash key prefix, n, n history entries, field, value, ...
CREATE = """
local live = redis.call('GET', KEYS[3])
if live then
  local st = redis.call('HGET', ARGV[4] .. live, 'status')
  if st == 'pending' or st == 'dialing' then return {0, live} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, ARGV[1]} end
local n = tonumber(ARGV[5])
for i = 6, 5 + n do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 6 + n))
redis.call('SET', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[6], ARGV[3], ARGV[1])
return {1, ARGV[1]}
"""

# ARGV[4] instance, ARGV[5] claim until
CLAIM = (
    PRELUDE
    + """
local h = redis.call('HMGET', KEYS[1], 'status', 'next_attempt_at', 'accepted_at')
if h[1] ~= 'pending' then return 0 end
if tonumber(h[2] or '0') > tonumber(ARGV[2]) then return 0 end
if tonumber(h[3] or '0') > 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'dialing', 'dialing_by', ARGV[4], 'dialing_until', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
hist({attempt = n, dialing_until = ARGV[5]}, {event = 'claimed', status = 'dialing', by = ARGV[4]})
return 1
"""
)

# The citizen pressed 1 (before "connecting you"): ``accepted_at`` is set and the
# request is never dialled again (claim, release and reclaim respect it). Its claim now
# ends at ARGV[5] (or earlier, if it already did): the route reports connected well
# before; when it never does, RECLAIM closes it as connected. A request whose claim
# expired meanwhile (PENDING, not claimed again) is taken back by the accepting
# instance. Only for the attempt the citizen answered (ARGV[6]; '' any), so a change
# run again late never marks a later attempt. Run twice, it finds its work done.
# ARGV[4] instance, ARGV[5] claim until, ARGV[6] attempt
ACCEPT = (
    PRELUDE
    + """
local h = redis.call('HMGET', KEYS[1], 'status', 'dialing_until', 'accepted_at', 'attempts')
if h[1] ~= 'dialing' and h[1] ~= 'pending' then return 0 end
if ARGV[6] ~= '' and (h[4] or '0') ~= ARGV[6] then return 0 end
if tonumber(h[3] or '0') > 0 then return 1 end
local untl = ARGV[5]
if h[1] == 'dialing' then
  local cur = tonumber(h[2] or '0')
  if cur > 0 and cur < tonumber(ARGV[5]) then untl = h[2] end
else
  redis.call('HSET', KEYS[1], 'status', 'dialing', 'dialing_by', ARGV[4])
end
redis.call('HSET', KEYS[1], 'accepted_at', ARGV[2], 'dialing_until', untl)
redis.call('ZADD', KEYS[3], untl, ARGV[1])
hist({dialing_until = untl}, {event = 'accepted', status = 'dialing', by = ARGV[4]})
return 1
"""
)

# ARGV[4] instance, ARGV[5] result, ARGV[6] retry at ('' = no retry), ARGV[7] max attempts
# (never a request the citizen accepted: its claim ends in RECLAIM, as connected)
RELEASE = (
    PRELUDE
    + """
local h = redis.call('HMGET', KEYS[1], 'status', 'dialing_by', 'attempts', 'accepted_at')
if h[1] ~= 'dialing' or h[2] ~= ARGV[4] then return false end
if tonumber(h[4] or '0') > 0 then return false end
local n = tonumber(h[3] or '0')
if ARGV[6] == '' or n >= tonumber(ARGV[7]) then
  finish('failed', ARGV[5])
  hist({attempt = n}, {event = 'failed', status = 'failed', result = ARGV[5], by = ARGV[4]})
  return 'failed'
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'pending', 'next_attempt_at', ARGV[6],
  'last_result', ARGV[5], 'dialing_by', '', 'dialing_until', '0')
hist({attempt = n, next_attempt_at = ARGV[6]},
  {event = 'retry', status = 'pending', result = ARGV[5], by = ARGV[4]})
return 'pending'
"""
)

# ARGV[4] final status, ARGV[5] result ('' keeps last_result), ARGV[6] event, ARGV[7] by
FINISH = (
    PRELUDE
    + """
local st = redis.call('HGET', KEYS[1], 'status')
if st ~= 'pending' and st ~= 'dialing' then return false end
finish(ARGV[4], ARGV[5])
hist({}, {event = ARGV[6], status = ARGV[4], result = ARGV[5], by = ARGV[7]})
return ARGV[4]
"""
)

# An expired claim: back to PENDING ('pending'), or, when the citizen had pressed 1
# (accepted) and no "connected" came (the instance died during "connecting you"; the
# dialplan queued the citizen all the same), CONNECTED ('connected'), never dialled again.
RECLAIM = (
    PRELUDE
    + """
local h = redis.call('HMGET', KEYS[1], 'status', 'dialing_until', 'dialing_by', 'accepted_at')
if h[1] ~= 'dialing' then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
if tonumber(h[2] or '0') > tonumber(ARGV[2]) then return 0 end
if tonumber(h[4] or '0') > 0 then
  finish('connected', 'answered')
  hist({accepted_at = h[4]}, {event = 'connected', status = 'connected', result = 'answered',
    by = h[3] or '', unreported = true})
  return 'connected'
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'pending', 'last_result', 'interrupted',
  'dialing_by', '', 'dialing_until', '0')
hist({}, {event = 'interrupted', status = 'pending', result = 'interrupted', by = h[3] or ''})
return 'pending'
"""
)
