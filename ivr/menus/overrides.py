"""Supervisors' overrides of a hotline file, as one call sees them. Pure, no I/O.

A supervisor may, without editing the hotline file (the API, kept in Redis by
:class:`ivr.store.overrides.OverrideStore`):

* close a hotline now (``closed``), or open it even outside its business hours
  (``open``); ``none`` leaves the file's hours in force. A closed hotline plays
  its closed prompt and runs its closed action, as outside business hours;
* close a queue now (``closed``) or open it (``open``, ``none``: the same for
  callers, who reach a queue only through its hotline's menu, so a closed hotline
  closes its queues too): a caller whose choice leads to a closed queue hears the
  hotline's closed prompt and its closed action instead of joining. Callers
  already waiting in it stay;
* set an emergency announcement: a catalogue prompt whose id starts with
  ``emergency-``. It is played where the file's ``emergency:`` is played (first,
  before the greeting or the closed prompt, not interruptible) and replaces the
  file's one while it is set.

A call reads the overrides once, when it starts (:class:`CallOverrides`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from ivr.menus.model import CLOSED_NOW, ClosedPolicy, Hotline

__all__ = [
    "EMERGENCY_PREFIX",
    "MODES",
    "NO_OVERRIDES",
    "CallOverrides",
    "HotlineOverride",
    "OverrideMode",
    "closed_policy",
    "emergency_prompts",
    "is_open",
    "parse_mode",
]

OverrideMode = Literal["none", "closed", "open"]
MODES: Final[tuple[OverrideMode, ...]] = ("none", "closed", "open")
#: Catalogue prompts a supervisor may set as a hotline's emergency announcement.
EMERGENCY_PREFIX: Final = "emergency-"


def parse_mode(value: object) -> OverrideMode | None:
    """``value`` as a mode, or None when it is not one of :data:`MODES`."""
    for mode in MODES:
        if value == mode:
            return mode
    return None


def is_open(hours_open: bool, mode: OverrideMode) -> bool:
    """What callers get: the override when there is one, else the business hours."""
    if mode == "closed":
        return False
    return mode == "open" or hours_open


def emergency_prompts(ids: Iterable[str]) -> list[str]:
    """The catalogue ids allowed as an emergency announcement, in catalogue order."""
    return [i for i in ids if i.startswith(EMERGENCY_PREFIX)]


def closed_policy(hotline: Hotline) -> ClosedPolicy:
    """What a caller hears when the hotline or their queue is closed: the file's
    ``closed:``, or the generic ``closed-now`` then goodbye for a file without one."""
    return hotline.closed if hotline.closed is not None else ClosedPolicy(CLOSED_NOW)


@dataclass(frozen=True)
class HotlineOverride:
    """A hotline's overrides as kept in Redis (``set_by``/``set_at``: of the emergency)."""

    mode: OverrideMode = "none"
    emergency: str | None = None
    set_by: str = ""
    set_at: float = 0.0
    mode_by: str = ""
    mode_at: float = 0.0


@dataclass(frozen=True)
class CallOverrides:
    """The overrides in force for one call: its hotline's, and every queue's mode."""

    hotline: HotlineOverride = field(default_factory=HotlineOverride)
    queues: Mapping[str, OverrideMode] = field(default_factory=dict)

    def emergency(self, hotline: Hotline) -> str | None:
        """The announcement to play first: the override's, else the file's."""
        return self.hotline.emergency or hotline.emergency

    def hotline_open(self, hours_open: bool) -> bool:
        return is_open(hours_open, self.hotline.mode)

    def closed_why(self) -> str:
        """How a closed call's trace says why: "override", or "" for the hours."""
        return "override" if self.hotline.mode == "closed" else ""

    def queue_closed(self, queue: str) -> bool:
        return self.queues.get(queue, "none") == "closed"


#: No override at all (Redis away, or nothing set).
NO_OVERRIDES: Final = CallOverrides()
