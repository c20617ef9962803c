"""A leader lease in Redis: at most one instance holds a named lease at a time.

The holder's instance id is the value of ``ivr:lease:<name>``, which expires after
``ttl_s`` unless renewed. Acquiring, renewing and releasing are Lua scripts that
compare the value first, so an instance never extends or deletes a lease another
instance took over after its own expired; acquiring sets the key only when there is
none (as ``SET key instance NX PX ttl``) and renews it when it is already ours.

The lease decides who *does the work* (for example who dials callbacks); it is
not, on its own, a guarantee that the work is done once: a paused process may
still believe it leads for a moment after its lease expired. Work that must
happen once is also guarded by an atomic claim (see ``CallbackStore.claim``).
``is_leader`` is therefore conservative: it turns False locally as soon as the
TTL counted from the last successful acquire or renew has passed.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.log import fields, store_log
from ivr.store import keys

# KEYS[1] lease key; ARGV[1] instance id; ARGV[2] ttl (ms): 1 taken, 2 renewed, 0 another's
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 2
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# KEYS[1] lease key; ARGV[1] instance id; ARGV[2] ttl (ms)
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS[1] lease key; ARGV[1] instance id
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaderLease:
    """One instance's view of the lease ``name`` (``ivr:lease:<name>``)."""

    def __init__(self, redis: Redis, name: str, instance_id: str, ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError(f"lease {name!r}: ttl_s must be positive, not {ttl_s}")
        if not instance_id:
            raise ValueError(f"lease {name!r}: instance_id must not be empty")
        self.redis = redis
        self.name = name
        self.instance_id = instance_id
        self.ttl_s = ttl_s
        self.key = keys.lease(name)
        self._ttl_ms = max(1, round(ttl_s * 1000))
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._valid_until = 0.0  # time.monotonic() after which we no longer trust the lease

    @property
    def is_leader(self) -> bool:
        """True while the last acquire or renew succeeded less than ``ttl_s`` ago."""
        return time.monotonic() < self._valid_until

    async def acquire(self) -> bool:
        """Take the lease if it is free, or renew it if it is already ours (one round
        trip: the holders renew theirs every second or so)."""
        started = time.monotonic()
        try:
            got = await self._acquire(keys=[self.key], args=[self.instance_id, self._ttl_ms])
        except RedisError as e:
            return self._lost(e)
        if int(got) == 1:
            return self._won(started, "lease acquired")
        if int(got) == 2:
            return self._won(started, "")
        return self._taken()

    async def renew(self) -> bool:
        """Extend the lease by ``ttl_s`` if it is still ours; False (and not leader) if not."""
        return await self._renew_from(time.monotonic())

    async def release(self) -> None:
        """Give the lease up, only if it is still ours (never another instance's)."""
        was = self.is_leader
        self._valid_until = 0.0
        try:
            await self._release(keys=[self.key], args=[self.instance_id])
        except RedisError as e:
            store_log.warning(
                "lease not released (it will expire)",
                extra=fields(lease=self.name, instance=self.instance_id, error=_describe(e)),
            )
            return
        if was:
            store_log.info(
                "lease released", extra=fields(lease=self.name, instance=self.instance_id)
            )

    async def holder(self) -> str | None:
        """The instance id holding the lease now, if any."""
        value: Any = await self.redis.get(self.key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    # ------------------------------------------------------------------ internals

    async def _renew_from(self, started: float) -> bool:
        try:
            ok = await self._renew(keys=[self.key], args=[self.instance_id, self._ttl_ms])
        except RedisError as e:
            return self._lost(e)
        if int(ok) == 1:
            return self._won(started, "")
        return self._taken()

    def _taken(self) -> bool:
        """The lease is not ours (another instance holds it, or nobody does)."""
        if self._valid_until:
            store_log.warning(
                "lease lost to another instance",
                extra=fields(lease=self.name, instance=self.instance_id),
            )
        self._valid_until = 0.0
        return False

    def _won(self, started: float, message: str) -> bool:
        if message and not self.is_leader:
            store_log.info(message, extra=fields(lease=self.name, instance=self.instance_id))
        # counted from before the request: Redis started the TTL after we sent it
        self._valid_until = started + self.ttl_s
        return True

    def _lost(self, error: BaseException) -> bool:
        if self._valid_until:
            store_log.warning(
                "lease not renewed (Redis error): no longer leader",
                extra=fields(lease=self.name, instance=self.instance_id, error=_describe(error)),
            )
        self._valid_until = 0.0
        return False


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
