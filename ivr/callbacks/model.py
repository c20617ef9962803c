"""A callback request: the citizen keeps a virtual place in line (original arrival)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class CallbackStatus(StrEnum):
    PENDING = "pending"  # waiting for its place to come up (or for next_attempt_at)
    DIALING = "dialing"  # an instance is calling the citizen now (accepted: past the 1)
    CONNECTED = "connected"  # the citizen pressed 1 and was put in the queue at the head
    FAILED = "failed"  # no answer / no 1 after the last attempt; stays visible
    CANCELLED = "cancelled"  # by a supervisor


@dataclass
class CallbackRequest:
    id: str
    queue: str
    hotline: str
    number: str  # raw Thai number, national format (0XXXXXXXXX); masked by readers
    arrived_at: float  # original arrival of the citizen's call: its place in line
    requested_at: float
    topic: str = ""
    language: str = "th"
    status: CallbackStatus = CallbackStatus.PENDING
    attempts: int = 0
    next_attempt_at: float = 0.0  # not before (retry delay, next opening)
    dialing_until: float = 0.0  # a DIALING claim expires then (crash safety)
    dialing_by: str = ""  # instance id holding the claim
    # the citizen pressed 1 on this attempt (before "connecting you"): never dialled again
    accepted_at: float = 0.0
    last_result: str = ""  # answered, no-answer, busy, no-confirm, failed, ...
    call_uniqueid: str = ""  # the original call
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallbackRequest:
        return cls(**{**d, "status": CallbackStatus(d.get("status", "pending"))})
