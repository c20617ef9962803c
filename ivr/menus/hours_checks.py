"""The ``hours:`` section of a hotline file: business hours, checked and built.

Window syntax, end after start, overlapping windows, days named twice, dates
that are both closed and open, open dates on a day without usual hours, and a
hotline that is never open. Problems go to the file's reader with their lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import Node, ScalarNode

from ivr.menus.hours import (
    BANGKOK,
    DAY_NAMES,
    BusinessHours,
    HolidayRule,
    HoursError,
    Window,
    check_overlaps,
)
from ivr.menus.schema import HOURS_KEYS, ShapeReader, day_hint, day_range
from ivr.yamlfile import STR, TIMESTAMP, Entry, kind_of, line_of


@dataclass
class _Hours:
    """What the ``hours:`` section says so far; ``ok`` is False after any problem."""

    ok: bool = True
    always: bool = False
    tz: str = BANGKOK
    rule: HolidayRule = "thai"
    weekly: list[tuple[Window, ...]] = field(default_factory=lambda: [() for _ in DAY_NAMES])
    closed_dates: dict[date, int] = field(default_factory=dict)
    open_dates: list[tuple[date, tuple[Window, ...]]] = field(default_factory=list)


def read_hours(r: ShapeReader, entry: Entry) -> BusinessHours | None:
    """The business hours of the ``hours:`` entry, or None after a problem."""
    f = r.fields(entry.node, "hours", HOURS_KEYS, entry.line)
    if f is None:
        return None
    h = _Hours()
    if "always_open" in f:
        value = r.boolean(f["always_open"].node, "hours: always_open")
        h.ok &= value is not None
        h.always = bool(value)
    if "timezone" in f:
        _timezone(r, f["timezone"], h)
    if "holidays" in f:
        _holidays(r, f["holidays"], h)
    if "weekly" in f:
        days = _weekly(r, f["weekly"])
        if days is None:
            h.ok = False
        else:
            h.weekly = days
    if "closed_dates" in f:
        _closed_dates(r, f["closed_dates"], h)
    if "open_dates" in f:
        _open_dates(r, f["open_dates"], h)
    if not h.ok:
        return None
    if not h.always and not any(h.weekly) and not h.open_dates:
        r.problem(
            entry.line,
            "the hotline is never open: no weekly hours",
            "add `weekly:` hours or set `always_open: true`",
        )
        return None
    return BusinessHours(
        weekly=tuple(h.weekly),
        tz=h.tz,
        holidays=h.rule,
        closed_dates=frozenset(h.closed_dates),
        open_dates=tuple(h.open_dates),
        always_open=h.always,
    )


def _timezone(r: ShapeReader, entry: Entry, h: _Hours) -> None:
    name = r.text(entry.node, "hours: timezone")
    if name is None:
        h.ok = False
        return
    try:
        ZoneInfo(name)
        h.tz = name
    except (ZoneInfoNotFoundError, ValueError):
        r.problem(
            entry.line, f"unknown time zone `{name}`", f"use a tz database name such as {BANGKOK}"
        )
        h.ok = False


def _holidays(r: ShapeReader, entry: Entry, h: _Hours) -> None:
    value_text = r.text(entry.node, "hours: holidays")
    if value_text == "none":
        h.rule = "none"
    elif value_text != "thai":
        if value_text is not None:
            r.problem(
                entry.line,
                f"hours: holidays is `{value_text}`",
                "use `thai` (Thai public holidays) or `none`",
            )
        h.ok = False


def _closed_dates(r: ShapeReader, entry: Entry, h: _Hours) -> None:
    for node in r.items(entry.node, "hours: closed_dates") or []:
        day = r.day(node, "hours: closed_dates")
        if day is None:
            h.ok = False
        else:
            h.closed_dates[day] = line_of(node)


def _open_dates(r: ShapeReader, entry: Entry, h: _Hours) -> None:
    for node in r.items(entry.node, "hours: open_dates") or []:
        parsed = _open_date(r, node, h.weekly)
        if parsed is None:
            h.ok = False
            continue
        if parsed[0] in h.closed_dates:
            r.problem(
                line_of(node),
                f"{parsed[0].isoformat()} is both a closed date "
                f"(line {h.closed_dates[parsed[0]]}) and an open date",
                "keep it in one of the two lists",
            )
            h.ok = False
        if any(d == parsed[0] for d, _ in h.open_dates):
            r.problem(
                line_of(node),
                f"open date {parsed[0].isoformat()} is given twice",
                "give each date once",
            )
            h.ok = False
        h.open_dates.append(parsed)


def _weekly(r: ShapeReader, entry: Entry) -> list[tuple[Window, ...]] | None:
    entries = r.entries(entry.node, "hours: weekly")
    if entries is None:
        return None
    ok = True
    week: list[tuple[Window, ...]] = [() for _ in DAY_NAMES]
    given: dict[int, int] = {}
    for e in entries:
        days = day_range(e.key)
        if days is None:
            r.problem(
                e.line,
                f"`{e.key}` is not a day in hours: weekly",
                day_hint(e.key)
                or "use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri",
            )
            ok = False
            continue
        windows = _windows(r, e.node, f"hours: weekly: {e.key}")
        if windows is None:
            ok = False
            continue
        for d in days:
            if d in given:
                r.problem(
                    e.line,
                    f"{DAY_NAMES[d]} is given twice in hours: weekly (first at line {given[d]})",
                    "give each day once",
                )
                ok = False
                continue
            given[d] = e.line
            week[d] = windows
    return week if ok else None


def _windows(r: ShapeReader, node: Node, what: str) -> tuple[Window, ...] | None:
    nodes = r.items(node, what)
    if nodes is None:
        return None
    out: list[Window] = []
    for n in nodes:
        text = r.text(n, what)
        if text is None:
            return None
        parsed = r.window_list(text, line_of(n), what)
        if parsed is None:
            return None
        out.extend(parsed)
    try:
        check_overlaps(tuple(out))
    except HoursError as e:
        r.problem(line_of(node), f"{what}: {e}", "make the windows follow one another")
        return None
    return tuple(sorted(out))


def _open_date(
    r: ShapeReader, node: Node, weekly: list[tuple[Window, ...]]
) -> tuple[date, tuple[Window, ...]] | None:
    what = "hours: open_dates"
    if not isinstance(node, ScalarNode) or node.tag not in (STR, TIMESTAMP):
        r.problem(
            line_of(node),
            f"{what} must be a date, not {kind_of(node)}",
            "write YYYY-MM-DD, or YYYY-MM-DD HH:MM-HH:MM",
        )
        return None
    text = str(node.value).strip()
    day_text, _, hours_text = text.partition(" ")
    day = r.parse_date(day_text, line_of(node), what)
    if day is None:
        return None
    if hours_text.strip():
        windows = r.window_list(hours_text, line_of(node), what)
        if windows is None:
            return None
        try:
            check_overlaps(tuple(windows))
        except HoursError as e:
            r.problem(line_of(node), f"{what}: {e}", "make the windows follow one another")
            return None
        return day, tuple(sorted(windows))
    usual = weekly[day.weekday()]
    if not usual:
        r.problem(
            line_of(node),
            f"{what}: {day_text} is a {DAY_NAMES[day.weekday()]}, which has no weekly hours",
            f'give its hours: "{day_text} 08:30-16:30"',
        )
        return None
    return day, usual
