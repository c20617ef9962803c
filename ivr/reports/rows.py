"""What the reports read from the history: one frozen dataclass per table row, as
:mod:`ivr.reports.query` fetches them (instants are aware datetimes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "CallRow",
    "CallbackRow",
    "History",
    "HotlineInfo",
    "MenuEvents",
    "ProbeRow",
    "StaffingRow",
]

MenuEvents = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class CallRow:
    uniqueid: str
    hotline: str | None
    arrived_at: datetime | None
    queue: str | None = None
    outcome: str | None = None
    wait_s: float | None = None
    talk_s: float | None = None
    probe: bool = False
    rule: str | None = None  # the first rule that acted: no-agent | max-wait
    self_service: bool | None = None
    menu_events: MenuEvents | None = None


@dataclass(frozen=True, slots=True)
class CallbackRow:
    id: str
    queue: str | None
    hotline: str | None
    requested_at: datetime | None
    status: str | None = None  # pending, dialing, connected, failed, cancelled
    connected_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProbeRow:
    id: str
    hotline: str | None
    at: datetime | None
    ok: bool | None
    answer_s: float | None = None


@dataclass(frozen=True, slots=True)
class StaffingRow:
    queue: str
    at: datetime
    staffed: int | None


@dataclass(frozen=True)
class History:
    """The rows of one Bangkok day or month."""

    calls: tuple[CallRow, ...] = ()
    callbacks: tuple[CallbackRow, ...] = ()
    probes: tuple[ProbeRow, ...] = ()
    staffing: tuple[StaffingRow, ...] = ()


@dataclass(frozen=True)
class HotlineInfo:
    """A hotline as the reports name it: its Thai title and the queues it hands to."""

    name: str
    queues: tuple[str, ...] = field(default=())
