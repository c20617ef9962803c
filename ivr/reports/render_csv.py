"""A report's tables as CSV files, one file a table (the report dict in, files out).

Written for Excel and for programs alike:
- UTF-8 with a byte-order mark, so Excel opens the Thai as Thai;
- one header line, each column named in Thai with the report's JSON field in brackets,
  ``ระดับบริการ (service_level)``; a program reads the name between the last brackets
  (figures of a hotline's calls and probes are ``calls.arrived``, ``probes.ok``...);
- numbers as the JSON has them: counts as integers, rates from 0 to 1, times in
  seconds; an empty cell is a figure with nothing to measure (no call answered...).

Daily: ``hotlines`` (each hotline's totals, its calls by outcome and its probes),
``queues`` (each queue's targets and totals), ``half-hours`` (48 slots of each queue, Bangkok
time), ``menus`` (visits, timeouts and wrong keys per menu), ``staffing`` (agents
needed against staffed). Monthly: ``hotlines`` (the targets its queues share, empty
when they differ, and the month's totals) and ``days``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ivr.reports.labels import CALLS, FIG, MENU, PROBES, STAFFING

__all__ = ["Column", "csv_tables", "header", "write_csv"]

Column = tuple[str, str, str]  # key (dotted: a path in the row), Thai label, kind

HOTLINE: list[Column] = [("hotline", "สายด่วน", "text"), ("name", "ชื่อ", "text")]
QUEUE: list[Column] = [("hotline", "สายด่วน", "text"), ("queue", "คิว", "text")]
HALF_HOUR: list[Column] = [
    *QUEUE,
    ("start", "ช่วงเวลา", "text"),
    *FIG,
    ("staffed", "เจ้าหน้าที่ที่มีจริง", "n1"),
    ("needed", "เจ้าหน้าที่ที่ต้องการ", "n"),
]
# the targets a queue's figures were counted against (a monthly hotline's: empty when
# its queues differ)
TARGETS: list[Column] = [
    ("targets.service_level_s", "เป้าเวลารับสาย (วินาที)", "n"),
    ("targets.service_level_target", "เป้าระดับบริการ", "rate"),
    ("targets.short_abandon_s", "วางสายเร็วภายใน (วินาที)", "n"),
]
Table = tuple[list[Column], list[dict[str, Any]]]


def header(column: Column) -> str:
    """``ระดับบริการ (service_level)``."""
    return f"{column[1]} ({column[0]})"


def _prefixed(prefix: str, columns: Sequence[Column]) -> list[Column]:
    return [(f"{prefix}.{k}", label, kind) for k, label, kind in columns]


def _flat(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys: {"calls": {"arrived": 3}} -> {"calls.arrived": 3}."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _daily(report: Mapping[str, Any]) -> dict[str, Table]:
    hotlines, queues, slots, menus = [], [], [], []
    for h in report.get("hotlines", []):
        ids = {"hotline": h["hotline"], "name": h.get("name")}
        hotlines.append(
            ids | h.get("totals", {}) | _flat({"calls": h.get("calls", {})})
            | _flat({"probes": h.get("probes", {})})
        )  # fmt: skip
        menus += [{"hotline": h["hotline"], **m} for m in h.get("menus", [])]
        for q in h.get("queues", []):
            at = {"hotline": h["hotline"], "queue": q["queue"]}
            queues.append(at | _flat({"targets": q.get("targets") or {}}) | q.get("totals", {}))
            slots += [at | s for s in q.get("half_hours", [])]
    return {
        "hotlines": (
            [*HOTLINE, *FIG, *_prefixed("calls", CALLS), *_prefixed("probes", PROBES)],
            hotlines,
        ),
        "queues": ([*QUEUE, *TARGETS, *FIG], queues),
        "half-hours": (HALF_HOUR, slots),
        "menus": ([("hotline", "สายด่วน", "text"), *MENU], menus),
        "staffing": (STAFFING, list(report.get("staffing", []))),
    }


def _monthly(report: Mapping[str, Any]) -> dict[str, Table]:
    totals, days = [], []
    for h in report.get("hotlines", []):
        ids = {"hotline": h["hotline"], "name": h.get("name")}
        totals.append(ids | _flat({"targets": h.get("targets") or {}}) | h.get("totals", {}))
        days += [{"hotline": h["hotline"], **d} for d in h.get("days", [])]
    return {
        "hotlines": ([*HOTLINE, *TARGETS, *FIG], totals),
        "days": ([("hotline", "สายด่วน", "text"), ("date", "วันที่", "text"), *FIG], days),
    }


def csv_tables(report: Mapping[str, Any]) -> dict[str, Table]:
    """The report's tables by name ("hotlines", "queues", ...), columns and rows."""
    return _monthly(report) if report.get("kind") == "monthly" else _daily(report)


def _value(v: Any) -> str:
    return "" if v is None else str(v)


def _write(path: Path, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([header(c) for c in columns])
        for row in rows:
            out.writerow([_value(row.get(c[0])) for c in columns])


def write_csv(report: Mapping[str, Any], out_dir: Path, stem: str) -> list[Path]:
    """Write ``<stem>-<table>.csv`` for every table in ``out_dir``; the files written."""
    written = []
    for name, (columns, rows) in csv_tables(report).items():
        path = out_dir / f"{stem}-{name}.csv"
        _write(path, columns, rows)
        written.append(path)
    return written
