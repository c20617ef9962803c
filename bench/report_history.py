"""A generated day of call history for :mod:`bench.report_build` (pure: rows as
tuples in the history tables' column order, ready for PostgreSQL's COPY).

The day (Bangkok) has a realistic shape and mix, from a fixed seed:

* arrivals per half hour follow an office day: a few calls at night, a morning
  peak (09:00–11:30) and an afternoon one (13:30–15:30), 20 times the night's rate;
* four hotlines, two queues each (:data:`HOTLINES`), shares 45/25/20/10 %;
* per call: self-service after an information page (7 %), a hang-up in the menus
  (4 %), a transfer (1 %), closed (0.5 %), an error (0.2 %); the rest join a queue
  (70/30 between the hotline's two). There: a callback booked (3 %, of which 80 %
  connected, 15 % failed, the rest pending), answered (82 % of the others) or
  abandoned; waits are exponential with a mean that grows with the half hour's
  load (15 s at night, 60 s at the peaks), talk times lognormal (mean about 200 s);
  the no-agent rule acts on 1 % of the queued, the maximum wait on 0.5 %;
* menus' events: every call visits ``main``, 20 % also ``track``; 5 % time out
  once or more, 4 % press a wrong key;
* each queue's staffing sampled each minute (agents following the load); each
  hotline probed every 5 minutes (99 % answered in about a second).

The day before is generated too, with a tenth of the calls, so that the report's
queries pick their day out of a bigger table as they would in production.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ivr.reports.dates import BANGKOK
from ivr.reports.rows import HotlineInfo

__all__ = ["CALL_COLUMNS", "HOTLINES", "GeneratedDay", "generate", "hotline_infos"]

HOTLINES: dict[str, tuple[str, tuple[str, str], float]] = {
    "1111": ("ศูนย์บริการประชาชน", ("complaint", "operator"), 0.45),
    "1300": ("ศูนย์ช่วยเหลือสังคม", ("help", "abuse"), 0.25),
    "1555": ("สายด่วนตัวอย่าง เวลาราชการ", ("licence", "general"), 0.20),
    "1422": ("สายด่วนสุขภาพ", ("health", "vaccine"), 0.10),
}
CALL_COLUMNS = (
    "uniqueid", "hotline", "menu_path", "queue", "topic", "arrived_at", "answered_at",
    "ended_at", "outcome", "agent", "wait_s", "talk_s", "number", "language", "probe",
    "rule", "rule_action", "self_service", "menu_events",
)  # fmt: skip
CALLBACK_COLUMNS = (
    "id", "queue", "hotline", "call_uniqueid", "requested_at", "status", "attempts",
    "first_attempt_at", "last_attempt_at", "connected_at", "last_result", "number",
)  # fmt: skip
PROBE_COLUMNS = ("id", "hotline", "at", "ok", "result", "answer_s", "detail")
STAFFING_COLUMNS = ("queue", "at", "staffed", "available", "paused")

Row = tuple[Any, ...]


@dataclass
class GeneratedDay:
    calls: list[Row] = field(default_factory=list)
    callbacks: list[Row] = field(default_factory=list)
    probes: list[Row] = field(default_factory=list)
    staffing: list[Row] = field(default_factory=list)


def hotline_infos() -> dict[str, HotlineInfo]:
    return {h: HotlineInfo(name, queues) for h, (name, queues, _) in HOTLINES.items()}


def load_curve() -> list[float]:
    """Relative arrival rate of each half hour (0 = 00:00 … 47 = 23:30)."""
    out = []
    for slot in range(48):
        hour = slot / 2
        peaks = math.exp(-(((hour - 10.0) / 1.3) ** 2)) + math.exp(-(((hour - 14.5) / 1.3) ** 2))
        office = 1.0 if 8 <= hour < 17 else 0.0
        out.append(1.0 + 19.0 * peaks + 4.0 * office)
    return out


@dataclass
class _Gen:
    rnd: random.Random
    out: GeneratedDay
    curve: list[float]
    day_start: dt.datetime
    n: int = 0

    def uid(self) -> str:
        self.n += 1
        return f"{self.day_start.timestamp():.0f}.{self.n}"

    def number(self) -> str:
        return f"08{self.rnd.randrange(10**8):08d}"

    def at(self, seconds: float) -> dt.datetime:
        return self.day_start + dt.timedelta(seconds=seconds)


def _menus(g: _Gen, path: list[str]) -> str:
    r = g.rnd.random
    visits = {"main": 1, **({"track": 1} if r() < 0.2 else {})}
    events: dict[str, dict[str, int]] = {"visits": visits, "timeouts": {}, "invalid": {}}
    if r() < 0.05:
        events["timeouts"]["main"] = 1 + int(r() < 0.3) + int(r() < 0.1)
    if r() < 0.04:
        events["invalid"]["main"] = 1 + int(r() < 0.2)
    if "track" in visits:
        path += ["3", "track"]
    return json.dumps(events)


def _queued(g: _Gen, row: dict[str, Any], queue: str, t: float, load: float) -> None:
    """A caller in ``queue``: a callback booked, answered or abandoned."""
    r, rnd = g.rnd.random, g.rnd
    row.update(queue=queue, topic=queue, outcome="queue")
    if r() < 0.01:
        row.update(rule="no-agent", rule_action="callback")
    elif r() < 0.005:
        row.update(rule="max-wait", rule_action="callback")
    wait = rnd.expovariate(1 / (15.0 + 45.0 * load))
    if row["rule"] or r() < 0.03:  # a callback booked
        requested = t + wait
        p = r()
        status = "connected" if p < 0.8 else "failed" if p < 0.95 else "pending"
        first = requested + rnd.expovariate(1 / 300)
        connected = first + 10 if status == "connected" else None
        attempts = 1 if status != "failed" else 3
        g.out.callbacks.append((
            f"cb{row['uniqueid']}", queue, row["hotline"], row["uniqueid"], g.at(requested),
            status, attempts, g.at(first), g.at(first + 300 * (attempts - 1)),
            g.at(connected) if connected else None,
            {"connected": "answered", "failed": "no-answer"}.get(status, ""), row["number"],
        ))  # fmt: skip
        return
    if r() < 0.82:
        talk = rnd.lognormvariate(5.15, 0.55)
        row.update(
            outcome="answered", answered_at=g.at(t + wait), ended_at=g.at(t + wait + talk),
            agent=f"agent{rnd.randrange(1, 40)}", wait_s=round(wait), talk_s=round(talk),
        )  # fmt: skip
    else:
        gone = min(wait, rnd.expovariate(1 / 40))
        row.update(outcome="abandoned", ended_at=g.at(t + gone), wait_s=round(gone))


def _call(g: _Gen, t: float, load: float, hotlines: Sequence[str], shares: Sequence[float]) -> Row:
    r = g.rnd.random
    hotline = g.rnd.choices(hotlines, shares)[0]
    path = ["main"]
    row: dict[str, Any] = dict.fromkeys(CALL_COLUMNS)
    row.update(uniqueid=g.uid(), hotline=hotline, arrived_at=g.at(t), number=g.number(),
               language="th" if r() < 0.97 else "en", probe=False, self_service=False)  # fmt: skip
    row["menu_events"] = _menus(g, path)
    kind = r()
    if kind < 0.07:
        path.append("1")
        row.update(outcome="hangup", self_service=True, ended_at=g.at(t + 40 + 60 * r()))
    elif kind < 0.117:
        end = {0: "hangup", 1: "transfer", 2: "closed", 3: "error"}
        pick = 0 if kind < 0.11 else 1 if kind < 0.115 else 2 if kind < 0.1165 else 3
        row.update(outcome=end[pick], ended_at=g.at(t + 20 * r()))
    else:
        queues = HOTLINES[hotline][1]
        queue = queues[0] if r() < 0.7 else queues[1]
        path.append("2" if queue == queues[0] else "0")
        _queued(g, row, queue, t, load)
    row["menu_path"] = path
    return tuple(row[c] for c in CALL_COLUMNS)


def _day_calls(g: _Gen, calls: int) -> None:
    hotlines = list(HOTLINES)
    shares = [HOTLINES[h][2] for h in hotlines]
    top = max(g.curve)
    slots = g.rnd.choices(range(48), g.curve, k=calls)
    for slot in sorted(slots):
        t = slot * 1800 + g.rnd.random() * 1800
        g.out.calls.append(_call(g, t, g.curve[slot] / top, hotlines, shares))


def _samples(g: _Gen) -> None:
    top = max(g.curve)
    for minute in range(1440):
        load = g.curve[minute // 30] / top
        at = g.at(minute * 60)
        for _, queues, share in HOTLINES.values():
            for q, part in zip(queues, (0.7, 0.3), strict=True):
                staffed = max(1, round(60 * share * part * load + g.rnd.gauss(0, 0.7)))
                g.out.staffing.append((q, at, staffed, max(0, staffed // 4), staffed // 8))
    for tick in range(288):
        for h in HOTLINES:
            ok = g.rnd.random() < 0.99
            answer = round(g.rnd.uniform(0.4, 1.6), 2) if ok else None
            detail = json.dumps({"hotline": h, "outcome": "ok" if ok else "not_answered"})
            g.out.probes.append((f"p{g.day_start:%Y%m%d}-{tick}-{h}", h, g.at(tick * 300 + 7), ok,
                                 "ok" if ok else "not_answered", answer, detail))  # fmt: skip


def generate(day: dt.date, calls: int, seed: int = 1) -> GeneratedDay:
    """``calls`` calls on the Bangkok day ``day`` (and a tenth of that the day
    before), with their callbacks, the staffing samples and the probes."""
    rnd = random.Random(seed)
    out = GeneratedDay()
    start = dt.datetime.combine(day, dt.time(), BANGKOK)
    for d, n in ((start - dt.timedelta(days=1), calls // 10), (start, calls)):
        g = _Gen(rnd, out, load_curve(), d)
        _day_calls(g, n)
        _samples(g)
    return out
