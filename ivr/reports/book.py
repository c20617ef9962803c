"""The running tallies behind the reports (pure): per hotline its calls, menus and
probes; per hotline and queue its day, its half hours or its days, its staffing
samples. :mod:`ivr.reports.figures` fills a :class:`Book` in one pass and asks it
for each hotline's part of the report."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Mapping
from typing import Any

from ivr.queues.figures import Targets
from ivr.reports.counting import Fig, seen
from ivr.reports.dates import SLOTS, slot_start
from ivr.reports.erlang import agents_needed
from ivr.reports.rows import CallbackRow, CallRow, HotlineInfo, MenuEvents, ProbeRow, StaffingRow

__all__ = ["UNKNOWN", "Book", "day_number", "slot_number", "targets_dict"]

UNKNOWN = "unknown"  # the hotline of a call that names none and whose queue no file has
UNKNOWN_NAME = "ไม่ทราบสายด่วน (unknown hotline)"
_BANGKOK_S = 7 * 3600  # UTC+07:00 all year
_EPOCH = dt.date(1970, 1, 1)
_CALL_KINDS = ("arrived", "self_service", "queued", "transferred", "closed",
               "hangup_in_menu", "error")  # fmt: skip
_MENU_KINDS = (("visits", "visits"), ("timeouts", "timeouts"), ("invalid", "wrong_keys"))


def targets_dict(t: Targets) -> dict[str, Any]:
    """A queue's (or the defaults') targets as the report writes them."""
    return {
        "service_level_s": t.service_level_s,
        "service_level_target": t.service_level_target,
        "short_abandon_s": t.short_abandon_s,
    }


def slot_number(at: dt.datetime) -> tuple[int, int]:
    """(days since 1970-01-01, half hour 0..47) of ``at`` in Bangkok time (fast)."""
    s = int(at.timestamp()) + _BANGKOK_S
    return s // 86400, s % 86400 // 1800


def day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def _menus(menus: dict[str, dict[str, int]], events: MenuEvents) -> None:
    for name, out in _MENU_KINDS:
        per = events.get(name)
        if not per:
            continue
        for menu, n in per.items():
            counts = menus.get(menu)
            if counts is None:
                counts = menus[menu] = {"visits": 0, "timeouts": 0, "wrong_keys": 0}
            counts[out] += int(n)


def _call_kind(c: CallRow) -> str | None:
    """Which of the hotline's call counts (besides ``arrived``) a call adds to."""
    if c.self_service:
        return "self_service"
    if c.queue:
        return "queued"
    return {"transfer": "transferred", "closed": "closed", "error": "error",
            "hangup": "hangup_in_menu"}.get(c.outcome or "hangup")  # fmt: skip


class QueueTally:
    """A queue's half hours (daily reports); its day is their total."""

    def __init__(self) -> None:
        self.slots: dict[int, Fig] = {}

    @property
    def totals(self) -> Fig:
        return Fig.total(self.slots.values())

    def at(self, slot: int) -> Fig:
        fig = self.slots.get(slot)
        if fig is None:
            fig = self.slots[slot] = Fig()
        return fig


class HotlineTally:
    """A hotline's calls, menus, probes and queues (daily) or days (monthly)."""

    def __init__(self, info: HotlineInfo) -> None:
        self.info = info
        self.unqueued = Fig()  # callbacks that name no queue
        self.days: dict[int, Fig] = {}
        self.calls = dict.fromkeys(_CALL_KINDS, 0)
        self.menus: dict[str, dict[str, int]] = {}
        self.probes: list[ProbeRow] = []
        self.queues: dict[str, QueueTally] = {q: QueueTally() for q in info.queues}

    def queue(self, name: str) -> QueueTally:
        tally = self.queues.get(name)
        if tally is None:
            tally = self.queues[name] = QueueTally()
        return tally

    def totals(self, monthly: bool) -> Fig:
        parts = self.days.values() if monthly else (q.totals for q in self.queues.values())
        return Fig.total(parts).merge(self.unqueued)

    def day(self, n: int) -> Fig:
        fig = self.days.get(n)
        if fig is None:
            fig = self.days[n] = Fig()
        return fig


class Book:
    """Filled call by call; a daily book counts per queue and half hour, a monthly
    one per hotline and day (totals are sums of those)."""

    def __init__(
        self,
        hotlines: Mapping[str, HotlineInfo],
        targets: Callable[[str], Targets],
        monthly: bool = False,
        defaults: Targets | None = None,
    ) -> None:
        self.monthly = monthly
        self.defaults = defaults or Targets()
        self.hotlines = {h: HotlineTally(info) for h, info in hotlines.items()}
        self.owner = {q: h for h, info in sorted(hotlines.items()) for q in reversed(info.queues)}
        self._targets = targets
        self.targets: dict[str, Targets] = {}
        self.staff: dict[str, dict[int, list[float]]] = {}  # queue -> slot -> [sum, n]

    def target(self, queue: str) -> Targets:
        t = self.targets.get(queue)
        if t is None:
            t = self.targets[queue] = self._targets(queue)
        return t

    def hotline(self, name: str | None, queue: str | None) -> HotlineTally:
        key = name or (self.owner.get(queue) if queue else None) or UNKNOWN
        tally = self.hotlines.get(key)
        if tally is None:
            info = HotlineInfo(UNKNOWN_NAME if key == UNKNOWN else key)
            tally = self.hotlines[key] = HotlineTally(info)
        return tally

    def hotline_ids(self) -> list[str]:
        return sorted(self.hotlines)

    # -- filling -------------------------------------------------------------------------
    def call(self, c: CallRow, day: int, slot: int) -> None:
        h = self.hotline(c.hotline, c.queue)
        h.calls["arrived"] += 1
        kind = _call_kind(c)
        if kind is not None:
            h.calls[kind] += 1
        if c.menu_events:
            _menus(h.menus, c.menu_events)
        if c.queue:
            s = seen(c, self.target(c.queue))
            tally = h.queue(c.queue)  # a monthly book keeps it for the queue's targets
            (h.day(day) if self.monthly else tally.at(slot)).add(s)

    def callback(self, cb: CallbackRow, day: int, slot: int) -> None:
        h = self.hotline(cb.hotline, cb.queue)
        if self.monthly:
            h.day(day).add_callback(cb)
        elif cb.queue:
            h.queue(cb.queue).at(slot).add_callback(cb)
        else:
            h.unqueued.add_callback(cb)

    def probe(self, p: ProbeRow) -> None:
        self.hotline(p.hotline, None).probes.append(p)

    def staffing(self, s: StaffingRow, slot: int) -> None:
        if s.staffed is None:
            return
        got = self.staff.setdefault(s.queue, {}).setdefault(slot, [0.0, 0])
        got[0] += s.staffed
        got[1] += 1

    # -- the report's parts ---------------------------------------------------------------
    def daily_hotline(self, hotline: str) -> dict[str, Any]:
        h = self.hotlines[hotline]
        return {
            "hotline": hotline,
            "name": h.info.name,
            "totals": h.totals(monthly=False).to_dict(),
            "calls": dict(h.calls),
            "menus": [{"menu": m, **h.menus[m]} for m in sorted(h.menus)],
            "probes": _probes(h.probes),
            "queues": [self._daily_queue(name, h.queues[name]) for name in sorted(h.queues)],
        }

    def _daily_queue(self, name: str, q: QueueTally) -> dict[str, Any]:
        """A queue's day and half hours; ``_staffing`` (taken out by the caller) are
        the rows of the report's staffing table."""
        t = self.target(name)
        staff = self.staff.get(name, {})
        totals = q.totals
        day_aht = totals.aht_s
        half_hours, staffing = [], []
        for slot in range(SLOTS):
            fig = q.slots.get(slot) or Fig()
            got = staff.get(slot)
            staffed = round(got[0] / got[1], 1) if got else None
            aht = fig.aht_s if fig.aht_s is not None else day_aht
            needed = _needed(fig.arrivals, aht, t)
            start = slot_start(slot)
            half_hours.append(
                {"start": start, **fig.to_dict(), "staffed": staffed, "needed": needed}
            )
            if fig.arrivals or staffed is not None:
                staffing.append({"start": start, "arrivals": fig.arrivals,
                                 "aht_s": aht if fig.arrivals else None,
                                 "needed": needed, "staffed": staffed})  # fmt: skip
        return {"queue": name, "targets": targets_dict(t), "totals": totals.to_dict(),
                "half_hours": half_hours, "_staffing": staffing}  # fmt: skip

    def monthly_hotline(self, hotline: str, days: list[dt.date]) -> dict[str, Any]:
        h = self.hotlines[hotline]
        out_days = []
        for day in days:
            fig = h.days.get(day_number(day)) or Fig()
            out_days.append({"date": day.isoformat(), **fig.to_dict()})
        return {"hotline": hotline, "name": h.info.name, **self._month_targets(h),
                "totals": h.totals(monthly=True).to_dict(), "days": out_days}  # fmt: skip

    def _month_targets(self, h: HotlineTally) -> dict[str, Any]:
        """``queue_targets``: each of the hotline's queues with its targets;
        ``targets``: the ones they all share (the defaults without a queue), else None."""
        per = [{"queue": q, **targets_dict(self.target(q))} for q in sorted(h.queues)]
        shared = {self.target(q) for q in h.queues} or {self.defaults}
        targets = targets_dict(shared.pop()) if len(shared) == 1 else None
        return {"targets": targets, "queue_targets": per}


def _needed(arrivals: int, aht_s: float | None, t: Targets) -> int | None:
    """Agents Erlang C asks for: 0 without arrivals, None without a handle time."""
    if not arrivals:
        return 0
    if not aht_s:
        return None
    return agents_needed(arrivals, aht_s, 1800.0, t.service_level_target, t.service_level_s)


def _probes(probes: list[ProbeRow]) -> dict[str, Any]:
    ok = [p for p in probes if p.ok]
    answers = [p.answer_s for p in ok if p.answer_s is not None]
    return {
        "count": len(probes),
        "ok": len(ok),
        "failed": len(probes) - len(ok),
        "median_answer_s": round(statistics.median(answers), 1) if answers else None,
    }
