"""What a probe saw and what it means: pure, no I/O.

A probe call is placed with ``Originate`` (its ``ActionID`` known) and marked with
the channel variables ``IVR_PROBE=1`` and ``IVR_PROBE_ID``. :class:`ProbeWatch`
is fed the AMI events of that call and says when the outcome is known:

* ``OriginateResponse`` (our ActionID): ``Success`` once the hotline answered,
  ``Failure`` when it was never answered (busy, no such number, ring timeout);
* ``VarSet IVR_PROBE_GREETING`` = our probe id: the hotline route of the
  application took the call and its greeting starts;
* ``VarSet IVR_PROBE_FALLBACK`` = our probe id: the dialplan's no-dead-air
  fallback took the call: the application was not reached;
* ``Hangup`` of the probe channel.

:func:`classify` turns that into one of the :data:`OUTCOMES`; :func:`alert_step`
is the alert's state machine (it fires once after ``alert_after`` failures in a
row, and clears once on the first success).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ivr.ami.events import AnyEvent, Hangup, OriginateResponse, VarSet

__all__ = [
    "OUTCOMES",
    "AlertState",
    "ProbeResult",
    "ProbeWatch",
    "alert_step",
    "classify",
]

Outcome = Literal["ok", "fallback", "not_answered", "error"]

#: Each outcome: (English, Thai). "error": the probe itself could not be placed
#: (the AMI away): it says nothing of the hotline and neither fires nor clears an alert.
OUTCOMES: dict[str, tuple[str, str]] = {
    "ok": ("ok", "ปกติ: รับสายและเริ่มคำทักทาย"),
    "fallback": (
        "answered by the fallback, application unreachable",
        "รับสายโดยระบบสำรอง เข้าถึงแอปพลิเคชันไม่ได้",
    ),
    "not_answered": ("not answered", "ไม่มีการรับสาย"),
    "error": ("probe not placed", "ทดสอบโทรไม่ได้"),
}

GREETING_VARIABLE = "IVR_PROBE_GREETING"  # set by the hotline route (ivr.calls.hotline)
FALLBACK_VARIABLE = "IVR_PROBE_FALLBACK"  # set by the dialplan's fallback


# Asterisk's Originate failure reasons (the AST_CONTROL_* the call ended with)
_REASONS = {0: "no route or refused", 1: "hung up before answering", 3: "rang out",
            5: "busy", 8: "congestion"}  # fmt: skip


@dataclass
class ProbeWatch:
    """The events of one probe call, as they arrive (times in monotonic seconds)."""

    action_id: str
    probe_id: str
    started: float
    channel: str = ""
    answered_at: float | None = None
    refused: bool = False  # OriginateResponse: Failure
    reason: str = ""
    greeting_at: float | None = None
    fallback_at: float | None = None
    hung_up: bool = False

    def feed(self, event: AnyEvent, now: float) -> None:
        """Take one AMI event into account (events of other calls are ignored)."""
        if isinstance(event, OriginateResponse):
            if event.action_id != self.action_id:
                return
            if event.success:
                self.channel = event.channel
                self.answered_at = self.answered_at or now
            else:
                self.refused = True
                why = _REASONS.get(event.reason or 0, "failed")
                self.reason = f"{why} (originate reason {event.reason})"
        elif isinstance(event, Hangup):
            if self.channel and event.channel == self.channel:
                self.hung_up = True
        elif isinstance(event, VarSet) and event.value == self.probe_id:
            if event.variable == GREETING_VARIABLE and self.greeting_at is None:
                self.greeting_at = now
            elif event.variable == FALLBACK_VARIABLE and self.fallback_at is None:
                self.fallback_at = now

    def decided(self, now: float, greeting_timeout_s: float) -> bool:
        """True once the outcome is known: greeting or fallback seen, never answered,
        hung up, or answered ``greeting_timeout_s`` ago without a greeting."""
        seen = [t for t in (self.greeting_at, self.fallback_at) if t is not None]
        if seen:  # the OriginateResponse (the channel to hang up) follows at once
            return self.answered_at is not None or self.refused or now - min(seen) > 2.0
        if self.refused or self.hung_up:
            return True
        return self.answered_at is not None and now - self.answered_at >= greeting_timeout_s


def classify(watch: ProbeWatch) -> tuple[Outcome, float | None, str]:
    """(outcome, seconds to answer or None, detail) of a probe whose events are in."""
    answered = watch.answered_at
    if watch.greeting_at is not None:
        at = answered if answered is not None else watch.greeting_at
        return "ok", round(at - watch.started, 3), "greeting started"
    if answered is None:
        if watch.fallback_at is not None:  # answered without an OriginateResponse yet
            return "fallback", round(watch.fallback_at - watch.started, 3), "fallback took the call"
        return "not_answered", None, watch.reason or "never answered"
    answer_s = round(answered - watch.started, 3)
    if watch.fallback_at is not None:
        return "fallback", answer_s, "the dialplan's fallback took the call"
    if watch.hung_up:
        return "fallback", answer_s, "answered, then hung up before any greeting"
    return "fallback", answer_s, "answered, but no greeting from the application"


@dataclass(frozen=True)
class ProbeResult:
    """One probe of one hotline, as kept, shown and pushed on the stream."""

    id: str
    hotline: str
    published: str  # the published number dialled (public, never a citizen's)
    outcome: str
    answer_s: float | None
    at: float  # epoch seconds the probe started
    duration_s: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def failed(self) -> bool:
        """A failure of the hotline (an ``error`` of the probe itself is not one)."""
        return self.outcome in ("fallback", "not_answered")

    def label(self) -> str:
        return OUTCOMES.get(self.outcome, (self.outcome, self.outcome))[0]

    def to_dict(self) -> dict[str, Any]:
        en, th = OUTCOMES.get(self.outcome, (self.outcome, self.outcome))
        return {
            "id": self.id,
            "hotline": self.hotline,
            "published": self.published,
            "outcome": self.outcome,
            "ok": self.ok,
            "label": en,
            "label_th": th,
            "answer_s": self.answer_s,
            "at": self.at,
            "duration_s": self.duration_s,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProbeResult:
        answer = d.get("answer_s")
        return cls(
            id=str(d.get("id", "")),
            hotline=str(d.get("hotline", "")),
            published=str(d.get("published", "")),
            outcome=str(d.get("outcome", "error")),
            answer_s=None if answer is None else float(answer),
            at=float(d.get("at", 0.0)),
            duration_s=float(d.get("duration_s", 0.0)),
            detail=str(d.get("detail", "")),
        )


@dataclass(frozen=True)
class AlertState:
    """One hotline's run of failures and whether its alert is out."""

    failures: int = 0
    alerting: bool = False
    last: dict[str, Any] = field(default_factory=dict, compare=False)


AlertAction = Literal["fire", "clear"] | None


def alert_step(
    state: AlertState, result: ProbeResult, alert_after: int
) -> tuple[AlertState, AlertAction]:
    """The next state after ``result`` and what to send: ``"fire"`` once, when the
    failures in a row reach ``alert_after``; ``"clear"`` once, on the first success
    after that; None otherwise. An ``error`` of the probe itself changes nothing."""
    if result.ok:
        return AlertState(), ("clear" if state.alerting else None)
    if not result.failed:
        return state, None
    failures = state.failures + 1
    if not state.alerting and failures >= max(1, alert_after):
        return replace(state, failures=failures, alerting=True), "fire"
    return replace(state, failures=failures), None
