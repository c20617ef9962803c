"""Every Redis key the server writes, in one place (prefix ``ivr:``)."""

from __future__ import annotations

PREFIX = "ivr:"

TRACE = PREFIX + "trace:{uniqueid}"  # JSON of one call's trace, expires after trace_ttl_s
TRACES_BY_TIME = PREFIX + "traces"  # sorted set: uniqueid scored by start time


def trace(uniqueid: str) -> str:
    return TRACE.format(uniqueid=uniqueid)


# Callback requests (ivr.store.callbacks)
CALLBACK = PREFIX + "callback:{id}"  # hash: one request's fields; expires once finished
CALLBACK_HISTORY = PREFIX + "callback:{id}:history"  # list of JSON transitions; same expiry
CALLBACK_BY_NUMBER = PREFIX + "callback-number:{number}"  # id of the live request for a number
CALLBACKS_PENDING = PREFIX + "callbacks:pending:{queue}"  # zset: live ids by arrived_at
CALLBACKS_DIALING = PREFIX + "callbacks:dialing"  # zset: DIALING ids by dialing_until
CALLBACKS_BY_TIME = PREFIX + "callbacks"  # zset: every id by requested_at (listing)
CALLBACKS_BY_QUEUE_TIME = PREFIX + "callbacks:queue:{queue}"  # zset: a queue's ids by requested_at


def callback(request_id: str) -> str:
    return CALLBACK.format(id=request_id)


def callback_history(request_id: str) -> str:
    return CALLBACK_HISTORY.format(id=request_id)


def callback_by_number(number: str) -> str:
    return CALLBACK_BY_NUMBER.format(number=number)


def callbacks_pending(queue: str) -> str:
    return CALLBACKS_PENDING.format(queue=queue)


def callbacks_by_queue_time(queue: str) -> str:
    return CALLBACKS_BY_QUEUE_TIME.format(queue=queue)


# API tokens (ivr.store.tokens): only the sha256 of a token is kept
TOKEN = PREFIX + "token:{sha256}"  # hash: id, role, name, created_at
TOKEN_IDS = PREFIX + "tokens"  # hash: short id -> sha256

# Leader leases (ivr.store.lease): the holder's instance id, expiring after the lease TTL
LEASE = PREFIX + "lease:{name}"


def lease(name: str) -> str:
    return LEASE.format(name=name)


QUEUE = PREFIX + "queue:{name}"  # JSON of a queue's live state (ivr.store.queues)
QUEUES = PREFIX + "queues"  # set of queue names
# ... of a queue on one of several Asterisk nodes: ivr:queue:complaint@a, ivr:queues@a
# Waiting callers (ivr.store.waiting)
ARRIVAL = PREFIX + "arrival:{uniqueid}"  # a waiting caller's original arrival and topic
ANNOUNCED = PREFIX + "announced:{uniqueid}"  # last announcement made to a waiting caller


def queue(name: str, node: str = "") -> str:
    return QUEUE.format(name=f"{name}@{node}" if node else name)


def queues(node: str = "") -> str:
    return f"{QUEUES}@{node}" if node else QUEUES


def arrival(uniqueid: str) -> str:
    return ARRIVAL.format(uniqueid=uniqueid)


def announced(uniqueid: str) -> str:
    return ANNOUNCED.format(uniqueid=uniqueid)


# Supervisor actions (ivr.store.audit): newest first, capped
AUDIT = PREFIX + "audit"  # list of JSON entries, LPUSH then LTRIM
# Live changes for the supervisors' stream (ivr.store.events): a Redis Stream whose
# entry ids are the SSE event ids; trimmed to about EVENTS_MAXLEN entries
EVENTS = PREFIX + "events"

# Today's figures (ivr.store.figures)
FIGURES = PREFIX + "figures:{day}:{queue}"  # hash: a queue's counters on a Bangkok day
FIGURES_SEEN = PREFIX + "figures:seen:{event_id}"  # set once an event is counted; expires


def figures(day: str, queue: str) -> str:
    return FIGURES.format(day=day, queue=queue)


def figures_seen(event_id: str) -> str:
    return FIGURES_SEEN.format(event_id=event_id)


MEMBERS = PREFIX + "members"  # hash: "<queue> <interface>" -> JSON of a member added by the API
# Supervisors' overrides of the hotline files (ivr.store.overrides)
HOTLINE_OVERRIDE = PREFIX + "override:hotline:{hotline}"  # hash: mode, emergency, by, at
QUEUE_OVERRIDES = PREFIX + "override:queues"  # hash: queue -> mode ("closed", "open")
OVERRIDES_CHANGED = PREFIX + "override:changed"  # channel: a hotline id (or queue) at each change


def hotline_override(hotline: str) -> str:
    return HOTLINE_OVERRIDE.format(hotline=hotline)


# Reachability probes (ivr.store.probes): the last results of a hotline, newest first
PROBES = PREFIX + "probes:{hotline}"


def probes(hotline: str) -> str:
    return PROBES.format(hotline=hotline)
