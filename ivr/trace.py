"""The trace every call leaves: the path it took, kept in Redis and logged.

A finished trace is made a dict and serialised once (:meth:`CallTrace.to_json`): the
same text goes to the "call ended" log line and to Redis. :meth:`CallTrace.to_dict`
builds the dict by hand, field by field, in the dataclass's order
(``dataclasses.asdict`` deep-copies every value and cost a seventh of a call's CPU);
``tests/unit/test_trace.py`` checks the two agree.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallTrace", "TraceStep"]

_JSON = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(..., ensure_ascii=False) makes


@dataclass(slots=True)
class TraceStep:
    """One thing that happened, ``at`` seconds after the call reached the server."""

    at: float
    kind: str  # menu, prompt, digit, timeout, invalid, info, language, outcome, hangup, error, rule
    detail: str = ""


@dataclass(slots=True)
class CallTrace:
    uniqueid: str
    hotline: str
    channel: str = ""
    caller: str = ""  # always masked (PDPA): see ivr.privacy.mask_phone
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    outcome: str = ""  # queue, transfer, goodbye, hangup, closed, error
    target: str = ""  # queue name or transfer number
    topic: str = ""
    menu_version: str = ""
    steps: list[TraceStep] = field(default_factory=list)
    _t0: float = field(default_factory=time.monotonic, repr=False, compare=False)

    def add(self, kind: str, detail: str = "") -> None:
        self.steps.append(TraceStep(round(time.monotonic() - self._t0, 3), kind, detail))

    def finish(self, outcome: str, target: str = "") -> None:
        """Record the outcome once; a later call (e.g. a hang-up after hand-off) is ignored."""
        if self.outcome:
            return
        self.outcome = outcome
        self.target = target
        self.add("outcome", f"{outcome} {target}".strip())

    def close(self) -> None:
        if self.ended_at is None:
            self.ended_at = time.time()

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else round(self.ended_at - self.started_at, 3)

    @property
    def path(self) -> list[str]:
        """Menus visited and digits pressed, in order (what the agent sees)."""
        return [s.detail for s in self.steps if s.kind in ("menu", "digit")]

    @property
    def prompts(self) -> list[str]:
        return [s.detail for s in self.steps if s.kind == "prompt"]

    def to_dict(self) -> dict[str, Any]:
        """The trace as plain data: every field but ``_t0``, then ``duration``."""
        return {
            "uniqueid": self.uniqueid,
            "hotline": self.hotline,
            "channel": self.channel,
            "caller": self.caller,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "outcome": self.outcome,
            "target": self.target,
            "topic": self.topic,
            "menu_version": self.menu_version,
            "steps": [{"at": s.at, "kind": s.kind, "detail": s.detail} for s in self.steps],
            "duration": self.duration,
        }

    def to_json(self) -> str:
        return _JSON.encode(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallTrace:
        steps = [TraceStep(**s) for s in d.get("steps", [])]
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "steps"}
        known.pop("_t0", None)
        return cls(**known, steps=steps)
