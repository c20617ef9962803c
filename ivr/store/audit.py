"""The audit log of supervisor actions in Redis: a capped list, newest first.

Each entry says who acted (token id and name), when, what, on which queue,
agent or callback, and the result (``ok`` or the API error id). Entries never
hold a phone number: a callback is named by its id, and any free text is masked
(:func:`ivr.privacy.mask_phone` on every run of digits long enough to be one).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from redis.asyncio import Redis

from ivr.privacy import mask_phone
from ivr.store import keys

MAX_ENTRIES = 10_000

_DIGITS = re.compile(r"\+?\d[\d -]{7,}\d")


def masked(text: str) -> str:
    """``text`` with every run of digits that could be a phone number masked."""
    return _DIGITS.sub(lambda m: mask_phone(re.sub(r"[ -]", "", m.group())), text)


@dataclass(frozen=True)
class AuditEntry:
    at: float
    token_id: str
    token_name: str
    action: str  # pause, unpause, add-agent, remove-agent, cancel-callback, retry-callback, unmask
    queue: str = ""  # "" when the action spans every queue of the agent
    agent: str = ""
    callback: str = ""
    result: str = "ok"  # or the API error id
    detail: str = ""  # the pause reason, the reason to unmask, Asterisk's message, ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AuditEntry:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def line(self) -> str:
        """One line for a terminal: time (UTC), who, what, on what, result."""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.at))
        target = " ".join(
            f"{k}={v}"
            for k, v in (("queue", self.queue), ("agent", self.agent), ("callback", self.callback))
            if v
        )
        detail = f"  ({self.detail})" if self.detail else ""
        who = f"{self.token_id}:{self.token_name}"
        return f"{when}Z  {who}  {self.action}  {target or '-'}  {self.result}{detail}"


class AuditLog:
    """Redis repository of audit entries (key :data:`ivr.store.keys.AUDIT`)."""

    def __init__(
        self,
        redis: Redis,
        max_entries: int = MAX_ENTRIES,
        on_write: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.redis = redis
        self.max_entries = max_entries
        self.on_write = on_write  # told each entry as written (history)

    async def write(self, entry: AuditEntry) -> None:
        d = entry.to_dict()
        d["detail"] = masked(entry.detail)
        d["token_name"] = masked(entry.token_name)
        body = json.dumps(d, ensure_ascii=False)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(keys.AUDIT, body)
            pipe.ltrim(keys.AUDIT, 0, self.max_entries - 1)
            await pipe.execute()
        if self.on_write is not None:
            self.on_write(d)

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The newest ``limit`` entries, newest first."""
        if limit <= 0:
            return []
        raw = await self.redis.lrange(keys.AUDIT, 0, limit - 1)
        out: list[AuditEntry] = []
        for item in raw:
            try:
                out.append(AuditEntry.from_dict(json.loads(item)))
            except (ValueError, TypeError):
                continue
        return out
