"""``ivr report``: the daily or monthly report from the call history, written as HTML,
PDF and CSV files.

    ivr report --date 2569-11-29 [--out DIR] [--format html,pdf,csv]
    ivr report --month 2569-11 [--out DIR] [--format ...]

Dates are Buddhist era (2569-11-29) or ISO (2026-11-29). The files written are
printed one a line (``report-2026-11-29.html``, ``.pdf``, ``-hotlines.csv``...), the
report's Thai date on standard error. Exit 2 for a date or format not understood,
1 when the history is off, its database away, or a file cannot be written.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.config import Settings, load_settings
from ivr.hotlines import prompt_sets
from ivr.menus.loader import load_all
from ivr.problems import AdminError
from ivr.reports.build import ReportUnavailable, daily_report, hotline_infos, monthly_report
from ivr.reports.dates import parse_day, parse_month, thai_date, thai_month
from ivr.reports.render_csv import write_csv
from ivr.reports.render_html import daily_html, monthly_html
from ivr.reports.render_pdf import PdfUnavailable, write_pdf
from ivr.reports.rows import HotlineInfo
from ivr.speech.catalogue import load_catalogue

__all__ = ["FORMATS", "add_report_commands", "parse_formats", "write_report"]

FORMATS = ("html", "pdf", "csv")
DEFAULT_OUT = "reports"


def parse_formats(text: str) -> list[str]:
    """``"html,pdf"`` as a list; ValueError with the choices otherwise."""
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    wrong = [f for f in chosen if f not in FORMATS]
    if wrong or not chosen:
        raise ValueError(
            f"รูปแบบไฟล์ {text!r} ไม่รู้จัก: เลือกจาก {','.join(FORMATS)} เช่น --format html,pdf "
            f"(format {text!r} not known: choose from {', '.join(FORMATS)}, e.g. --format html,pdf)"
        )
    return list(dict.fromkeys(chosen))


def write_report(
    report: Mapping[str, Any], out_dir: Path, stem: str, formats: list[str]
) -> list[Path]:
    """Write the report in each of ``formats`` to ``out_dir`` (made if missing) as
    ``<stem>.html``, ``<stem>.pdf``, ``<stem>-<table>.csv``; the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html = monthly_html(report) if report.get("kind") == "monthly" else daily_html(report)
    written = []
    if "html" in formats:
        path = out_dir / f"{stem}.html"
        path.write_text(html, encoding="utf-8")
        written.append(path)
    if "pdf" in formats:
        written.append(write_pdf(html, out_dir / f"{stem}.pdf"))
    if "csv" in formats:
        written += write_csv(report, out_dir, stem)
    return written


def _hotlines(settings: Settings) -> dict[str, HotlineInfo] | None:
    """The hotlines' Thai names and queues from their files, without asking for the
    prompts' audio (a report needs the names only); None (the report reads them its
    own way) when a file has a problem, which ``ivr check`` shows."""
    try:
        known, _ = prompt_sets(load_catalogue(settings.prompts_dir))
        return hotline_infos(load_all(settings.hotlines_dir, known, None))
    except AdminError as e:
        print(f"report: hotline files: {e.problems[0]} (ivr check)", file=sys.stderr)
        return None


@dataclass(frozen=True)
class _Asked:
    """The report asked for: a day, else a (year, month)."""

    day: dt.date | None
    month: tuple[int, int]

    @property
    def stem(self) -> str:
        if self.day:
            return f"report-{self.day.isoformat()}"
        return f"report-{self.month[0]:04d}-{self.month[1]:02d}"

    @property
    def title(self) -> str:
        if self.day:
            return f"รายงานประจำวันที่ {thai_date(self.day)}"
        return f"รายงานประจำเดือน {thai_month(*self.month)}"


def _asked(args: argparse.Namespace) -> _Asked:
    """ValueError with an example for a date or month not understood."""
    if args.date:
        day = parse_day(args.date)
        return _Asked(day, (day.year, day.month))
    return _Asked(None, parse_month(args.month))


async def _build(asked: _Asked, dsn: str, settings: Settings) -> dict[str, Any]:
    hotlines = _hotlines(settings)
    if asked.day:
        return await daily_report(dsn, asked.day, settings, hotlines)
    year, month = asked.month
    return await monthly_report(dsn, year, month, settings, hotlines)


def cmd_report(args: argparse.Namespace) -> int:
    try:
        formats = parse_formats(args.format)
        asked = _asked(args)
    except ValueError as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    settings = load_settings(args.config)
    if not settings.history_dsn:
        print(
            "report: ประวัติการโทรปิดอยู่: ตั้ง [history] dsn ในไฟล์ตั้งค่า "
            "(history is off: set [history] dsn in the settings)",
            file=sys.stderr,
        )
        return 1
    try:
        report = asyncio.run(_build(asked, settings.history_dsn, settings))
        written = write_report(report, Path(args.out), asked.stem, formats)
    except (ReportUnavailable, PdfUnavailable) as e:
        print(f"report: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"report: เขียนไฟล์ไม่ได้ (cannot write the files): {e} — try --out DIR",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"{asked.title}:", file=sys.stderr)
    for path in written:
        print(path)
    return 0


def add_report_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ivr report ...``; ``sub`` is the top-level ``add_subparsers()`` result."""
    sp = sub.add_parser(
        "report",
        help="the daily or monthly report from the call history (HTML, PDF, CSV)",
        description="วันที่แบบ พ.ศ. หรือ ค.ศ.: --date 2569-11-29 หรือ --date 2026-11-29; "
        "--month 2569-11 (Buddhist era or ISO dates)",
    )
    when = sp.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", help="a Bangkok day, e.g. 2569-11-29 or 2026-11-29")
    when.add_argument("--month", help="a month, e.g. 2569-11 or 2026-11")
    sp.add_argument("--out", default=DEFAULT_OUT, help=f"folder for the files ({DEFAULT_OUT})")
    sp.add_argument("--format", default=",".join(FORMATS), help="any of html,pdf,csv")
    sp.set_defaults(func=cmd_report)
