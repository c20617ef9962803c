"""The live state of one queue, as every instance sees it (kept in Redis as JSON).

Pure data: :mod:`ivr.queues.model` changes it from AMI events, the API and the
announcements read it.

A caller held in :attr:`QueueState.callers` is never changed in place: a change puts
a new :class:`Caller` in its place (:meth:`QueueState.change_caller`). So a copy of
the state shares its callers, and a caller that is the same object as in an earlier
copy has not changed: the live queues find the few callers an AMI event changed
without looking at every caller of a long line (:mod:`ivr.queues.state_text`,
:func:`ivr.lineup.changes.changes`). Agents, few in a queue, are changed in place.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

_T = TypeVar("_T", "Caller", "Agent")
_ARRIVAL = operator.attrgetter("arrived_at", "uniqueid")  # the order places are given in


class CallerState(StrEnum):
    WAITING = "waiting"  # in Asterisk's queue
    ANNOUNCING = "announcing"  # out of Queue() for an announcement; keeps its place
    RINGING = "ringing"  # an agent is being rung for this caller


class AgentState(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    IN_CALL = "in_call"
    PAUSED = "paused"
    WRAPUP = "wrapup"
    UNAVAILABLE = "unavailable"  # logged out, unreachable, invalid


@dataclass
class Caller:
    uniqueid: str
    channel: str = ""
    arrived_at: float = 0.0  # original arrival in the queue (epoch s): decides the place
    joined_at: float = 0.0  # this spell in Asterisk's queue
    position: int | None = None  # Asterisk's position in its own queue
    caller_id: str = ""  # raw; masked by every reader not allowed to see it (PDPA)
    topic: str = ""
    state: CallerState = CallerState.WAITING
    last_seen: float = 0.0


@dataclass
class Agent:
    interface: str
    name: str = ""
    state: AgentState = AgentState.AVAILABLE
    since: float = 0.0
    paused_reason: str = ""
    calls_taken: int = 0
    caller_uniqueid: str = ""  # the caller being rung for or talked to, if any
    channel: str = ""  # the agent's own channel in the call it is on (AgentConnect's DestChannel)


@dataclass
class QueueState:
    """One queue: its callers (each replaced, never changed in place: see the module
    docstring) and its agents."""

    name: str
    callers: dict[str, Caller] = field(default_factory=dict)  # by uniqueid
    agents: dict[str, Agent] = field(default_factory=dict)  # by interface
    handle_times: list[float] = field(default_factory=list)  # recent talk+wrap-up, seconds
    hold_times: list[float] = field(default_factory=list)  # recent waits of answered callers
    answered: int = 0
    abandoned: int = 0
    asterisk_holdtime: float | None = None  # app_queue's own average (QueueParams)
    asterisk_talktime: float | None = None
    updated_at: float = 0.0

    def to_dict(self, *, callers: bool = True) -> dict[str, Any]:
        """What ``dataclasses.asdict`` gives, without its deep copy of every field (the
        fields of callers and agents are immutable values): the live queues make it
        for each change. ``callers=False``: ``"callers"`` is left empty (in its
        place), for :class:`ivr.queues.state_text.QueueText`, which has them already."""
        return {
            "name": self.name,
            "callers": {k: dict(vars(c)) for k, c in self.callers.items()} if callers else {},
            "agents": {k: dict(vars(a)) for k, a in self.agents.items()},
            "handle_times": list(self.handle_times),
            "hold_times": list(self.hold_times),
            "answered": self.answered,
            "abandoned": self.abandoned,
            "asterisk_holdtime": self.asterisk_holdtime,
            "asterisk_talktime": self.asterisk_talktime,
            "updated_at": self.updated_at,
        }

    def copy(self) -> QueueState:
        """An independent copy (``from_dict(to_dict())``, without the round trip)."""
        return self._with_callers({k: _clone(c) for k, c in self.callers.items()})

    def snapshot(self) -> QueueState:
        """A copy that later changes of this state leave as it is, sharing its callers
        (never changed in place) and copying the rest: what the live queues keep of
        what they last published, made without copying every caller of a long line."""
        return self._with_callers(dict(self.callers))

    def _with_callers(self, callers: dict[str, Caller]) -> QueueState:
        return QueueState(
            name=self.name,
            callers=callers,
            agents={k: _clone(a) for k, a in self.agents.items()},
            handle_times=list(self.handle_times),
            hold_times=list(self.hold_times),
            answered=self.answered,
            abandoned=self.abandoned,
            asterisk_holdtime=self.asterisk_holdtime,
            asterisk_talktime=self.asterisk_talktime,
            updated_at=self.updated_at,
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QueueState:
        callers = {
            k: Caller(**{**v, "state": CallerState(v.get("state", "waiting"))})
            for k, v in d.get("callers", {}).items()
        }
        agents = {
            k: Agent(**{**v, "state": AgentState(v.get("state", "available"))})
            for k, v in d.get("agents", {}).items()
        }
        rest = {k: v for k, v in d.items() if k not in ("callers", "agents")}
        return cls(**rest, callers=callers, agents=agents)

    def change_caller(self, uniqueid: str, **changes: Any) -> Caller:
        """Put in the place of caller ``uniqueid`` a new caller with ``changes`` made
        (its place in :attr:`callers` kept); the new caller."""
        unknown = changes.keys() - _CALLER_FIELDS
        if unknown:
            raise TypeError(f"a caller has no field {sorted(unknown)}")
        new = _clone(self.callers[uniqueid])
        new.__dict__.update(changes)
        self.callers[uniqueid] = new
        return new

    def callers_in_order(self) -> list[Caller]:
        """Live callers by original arrival (the order places are given in)."""
        return sorted(self.callers.values(), key=_ARRIVAL)

    def agents_by_state(self) -> dict[str, int]:
        out = {s.value: 0 for s in AgentState}
        for a in self.agents.values():
            out[a.state.value] += 1
        return out


_CALLER_FIELDS = frozenset(Caller.__dataclass_fields__)


def _clone(item: _T) -> _T:
    """A shallow copy of a caller or an agent (every field is an immutable value)."""
    new = object.__new__(type(item))
    new.__dict__.update(item.__dict__)
    return new
