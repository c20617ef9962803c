"""The daily and monthly reports as plain dicts, from the history's rows (pure: the
rows come from :mod:`ivr.reports.query`, the dict goes to the API and the renderers).

One pass over the rows: each call is classified once (:func:`ivr.reports.counting.seen`)
and added to its half hour, its queue's day and its hotline's day. A call belongs to
its hotline (the hotline file it came through; without one, the hotline whose file
hands calls to its queue; else ``unknown``), to the Bangkok day and half hour of its
arrival, and to its queue's figures when it joined one. Probe calls never count.
The figures are defined in :mod:`ivr.reports.counting` and the README ("Reports:
definitions"); the rest:

- **calls** of a hotline: ``arrived`` every call (queue or not), ``self_service``
  the calls that heard an information page and ended in the menus, ``queued`` those
  that joined a queue, ``transferred``, ``closed`` (outside the hours or closed by a
  supervisor), ``hangup_in_menu`` (hung up in the menus, not self-service),
  ``error``.
- **menus**: per menu, ``visits`` (times entered), ``timeouts`` (no key pressed in
  time) and ``wrong_keys`` (a key the menu does not know).
- **probes**: the reachability probes of the hotline's published number that day,
  ``ok`` and ``failed``, and the median time to answer of those that were answered.
- **staffed** of a half hour: the mean of the queue's samples in it (members taking
  calls, sampled each minute); **needed**: the agents Erlang C asks for the slot's
  arrivals (its offered callers) at its handle time (the slot's aht, else the
  queue's day) to reach the queue's service-level target (0 without arrivals, null
  without any handle time measured).
- **targets**: the report's ``targets`` are the defaults (the global settings); each
  daily queue entry has its own ``targets`` (its ``[queues.<name>]`` settings over
  the defaults), the ones its figures and its ``needed`` were counted against. A
  monthly hotline has ``queue_targets`` (each of its queues with its targets) and
  ``targets``: the ones all its queues share (the defaults without a queue), null
  when they differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from ivr.queues.figures import Targets
from ivr.reports.book import UNKNOWN, Book, day_number, slot_number, targets_dict
from ivr.reports.dates import BANGKOK, thai_date, thai_month
from ivr.reports.rows import History, HotlineInfo

__all__ = ["UNKNOWN", "daily_figures", "monthly_figures", "targets_dict"]

TargetsOf = Callable[[str], Targets]


def _in_days(at: dt.datetime | None, first: int, last: int) -> tuple[int, int] | None:
    if at is None:
        return None
    day, slot = slot_number(at)
    return (day, slot) if first <= day <= last else None


def _fill(book: Book, history: History, first: int, last: int) -> None:
    """Every row of the period into ``book`` (one pass per table)."""
    for c in history.calls:
        if not c.probe and (where := _in_days(c.arrived_at, first, last)) is not None:
            book.call(c, *where)
    for cb in history.callbacks:
        if (where := _in_days(cb.requested_at, first, last)) is not None:
            book.callback(cb, *where)
    for p in history.probes:
        if _in_days(p.at, first, last) is not None:
            book.probe(p)
    for s in history.staffing:
        if (where := _in_days(s.at, first, last)) is not None:
            book.staffing(s, where[1])


def daily_figures(
    day: dt.date,
    history: History,
    hotlines: Mapping[str, HotlineInfo],
    targets: TargetsOf,
    defaults: Targets,
    generated_at: dt.datetime,
) -> dict[str, Any]:
    """The daily report of the Bangkok day ``day`` (format: the module docstring and
    the README)."""
    book = Book(hotlines, targets, defaults=defaults)
    n = day_number(day)
    _fill(book, history, n, n)
    out = [book.daily_hotline(h) for h in book.hotline_ids()]
    staffing = [
        {"hotline": h["hotline"], "queue": q["queue"], **row}
        for h in out
        for q in h["queues"]
        for row in q.pop("_staffing")
    ]
    return {
        "kind": "daily",
        "date": day.isoformat(),
        "date_th": thai_date(day),
        "timezone": "Asia/Bangkok",
        "generated_at": generated_at.astimezone(BANGKOK).isoformat(timespec="seconds"),
        "targets": targets_dict(defaults),
        "hotlines": out,
        "staffing": staffing,
    }


def _days(year: int, month: int) -> list[dt.date]:
    first = dt.date(year, month, 1)
    after = dt.date(year + month // 12, month % 12 + 1, 1)
    return [first + dt.timedelta(days=i) for i in range((after - first).days)]


def monthly_figures(
    year: int,
    month: int,
    history: History,
    hotlines: Mapping[str, HotlineInfo],
    targets: TargetsOf,
    defaults: Targets,
) -> dict[str, Any]:
    """The monthly report: each hotline's month and each of its days, side by side."""
    days = _days(year, month)
    book = Book(hotlines, targets, monthly=True, defaults=defaults)
    first = day_number(days[0])
    _fill(book, history, first, first + len(days) - 1)
    return {
        "kind": "monthly",
        "month": f"{year:04d}-{month:02d}",
        "month_th": thai_month(year, month),
        "targets": targets_dict(defaults),
        "hotlines": [book.monthly_hotline(h, days) for h in book.hotline_ids()],
    }
