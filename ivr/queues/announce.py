"""When to announce a caller's place and wait, and when to offer a callback.

Pure functions, no I/O.

An announcement is worth playing only when it tells the caller something new:
the first time, when the place changed, or when enough time has passed that
hearing it again reassures rather than annoys (``min_repeat_s``). It is never
played while an agent is being rung for this caller: the caller would be
talking over the agent's answer. ``min_gap_s`` (optional) spaces announcements
even when the place changes quickly, like app_queue's
``min-announce-frequency``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["AnnouncePolicy", "LastAnnouncement", "decide", "offer_callback"]


@dataclass(frozen=True)
class LastAnnouncement:
    """What a caller was last told, and when (kept between turns of the queue loop)."""

    at: float  # epoch seconds
    place: int
    estimate_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LastAnnouncement:
        est = d.get("estimate_s")
        return cls(
            at=float(d["at"]),
            place=int(d["place"]),
            estimate_s=None if est is None else float(est),
        )


@dataclass(frozen=True)
class AnnouncePolicy:
    min_repeat_s: float = 60.0  # say it again without news after this long
    min_gap_s: float = 0.0  # never two announcements closer than this

    def __post_init__(self) -> None:
        if self.min_repeat_s < 0 or self.min_gap_s < 0:
            raise ValueError("announcement intervals must not be negative")

    def decide(
        self,
        last: LastAnnouncement | None,
        place: int,
        estimate: float | None,
        ringing: bool,
        now: float,
    ) -> bool:
        """Whether to announce now (see the module documentation).

        ``estimate`` is accepted for symmetry with :class:`LastAnnouncement`; a
        new estimate alone is not news (it moves with the place or with time).
        """
        del estimate
        if ringing:
            return False
        if last is None:
            return True
        since = now - last.at
        if since < self.min_gap_s:
            return False
        return place != last.place or since >= self.min_repeat_s

    def record(self, place: int, estimate: float | None, now: float) -> LastAnnouncement:
        """The :class:`LastAnnouncement` to keep after announcing."""
        return LastAnnouncement(at=now, place=place, estimate_s=estimate)


def decide(
    last: LastAnnouncement | None,
    place: int,
    estimate: float | None,
    ringing: bool,
    now: float,
    policy: AnnouncePolicy | None = None,
) -> bool:
    """:meth:`AnnouncePolicy.decide` with ``policy`` (default: the default policy)."""
    return (policy or AnnouncePolicy()).decide(last, place, estimate, ringing, now)


def offer_callback(
    estimate_s: float | None, threshold_s: float, offers_made: int, max_offers: int
) -> bool:
    """Offer a callback when the estimated wait exceeds the queue's threshold.

    Not when the wait is unknown (no agent staffed: the offer would promise a
    call back nobody can make), and at most ``max_offers`` times per call.
    """
    if estimate_s is None or offers_made >= max_offers:
        return False
    return estimate_s > threshold_s
