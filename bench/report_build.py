"""How long the daily report takes over 100,000 calls, beside reading the same rows.

    .venv/bin/python -m bench.report_build [--calls 100000] [--runs 5] [--seed 1] [--keep]

Needs the sandbox's PostgreSQL (``ivr sandbox up``): the bench makes a database of
its own there (``ivr_bench``, dropped at the end unless ``--keep``), fills it with a
generated day (:mod:`bench.report_history`: ``--calls`` calls on one Bangkok day
over four hotlines and eight queues, a tenth of that the day before, callbacks,
staffing sampled each minute, probes every 5 minutes) by COPY, then times, median
of ``--runs`` after one warm-up each:

* **daily_report**: :func:`ivr.reports.build.daily_report` as the API and
  ``ivr report`` call it (connect, the four queries, the figures);
* **baseline, bare SELECT**: a new asyncpg connection and the report's own calls
  query (same columns, same day, ``jsonb`` left as text), nothing else: what
  reading the rows costs by itself;
* **fetch_history**: the report's queries with the rows made into dataclasses
  (:func:`ivr.reports.query.fetch_history`);
* **daily_figures alone**: the pure figures on those rows already in memory;
* the **peak Python memory** (tracemalloc) of one daily_report, beside that of
  the bare SELECT's rows;
* **HTML** and **PDF** of the report (``ivr report``'s own ``write_report``, once
  each: a PDF takes seconds), beside ``json.dumps`` of the same dict.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg

from bench.report_history import (
    CALL_COLUMNS,
    CALLBACK_COLUMNS,
    PROBE_COLUMNS,
    STAFFING_COLUMNS,
    GeneratedDay,
    generate,
    hotline_infos,
)
from ivr.cli_report import write_report
from ivr.config import Settings, load_settings, queue_settings
from ivr.history import schema
from ivr.queues.figures import Targets
from ivr.reports.build import daily_report
from ivr.reports.dates import day_bounds
from ivr.reports.figures import daily_figures
from ivr.reports.query import CALLS_SQL, fetch_history

DB = "ivr_bench"
DAY = dt.date(2026, 11, 27)  # a Friday


def _with_db(dsn: str, db: str) -> str:
    return urlunparse(urlparse(dsn)._replace(path=f"/{db}"))


async def _median_s(runs: int, work: Callable[[], Awaitable[Any]]) -> float:
    await work()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        await work()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


async def fill(dsn: str, data: GeneratedDay) -> float:
    """A fresh database ``ivr_bench`` with the history schema and ``data``; seconds."""
    t = time.perf_counter()
    admin = await asyncpg.connect(_with_db(dsn, "postgres"), timeout=10)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DB}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(_with_db(dsn, DB))
    try:
        await schema.apply(conn)
        for table, columns, rows in (
            ("calls", CALL_COLUMNS, data.calls),
            ("callbacks", CALLBACK_COLUMNS, data.callbacks),
            ("probes", PROBE_COLUMNS, data.probes),
            ("staffing", STAFFING_COLUMNS, data.staffing),
        ):
            await conn.copy_records_to_table(table, records=rows, columns=list(columns))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - t


async def drop(dsn: str) -> None:
    admin = await asyncpg.connect(_with_db(dsn, "postgres"), timeout=10)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    finally:
        await admin.close()


async def bare_select(dsn: str) -> list[Any]:
    start, end = day_bounds(DAY)
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[Any] = await conn.fetch(CALLS_SQL.format(menu_events="menu_events"), start, end)
        return rows
    finally:
        await conn.close()


async def peak_mib(work: Callable[[], Awaitable[Any]]) -> float:
    tracemalloc.start()
    try:
        await work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _row(name: str, seconds: float, base: float | None = None, how: str = "median") -> str:
    ratio = f"  x{seconds / base:6.2f} baseline" if base else ""
    return f"{name:<48} {how:<6} {seconds * 1000:9.1f} ms{ratio}"


def _pages(pdf: Path) -> str:
    """The PDF's page count as pdfinfo (poppler-utils) tells it, else "?"."""
    tool = shutil.which("pdfinfo")
    if tool is None:
        return "?"
    info = subprocess.run([tool, str(pdf)], capture_output=True, text=True, timeout=30).stdout
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


async def time_report(dsn: str, settings: Settings, runs: int) -> dict[str, Any]:
    """The figures of the report's build; the report itself under "report"."""
    infos = hotline_infos()
    report = await daily_report(dsn, DAY, settings, infos)
    start, end = day_bounds(DAY)
    conn = await asyncpg.connect(dsn)
    try:
        history = await fetch_history(conn, start, end, day=True)

        async def fetch() -> Any:
            return await fetch_history(conn, start, end, day=True)

        fetch_s = await _median_s(runs, fetch)
    finally:
        await conn.close()

    defaults = Targets(settings.service_level_s, settings.service_level_target,
                       settings.short_abandon_s)  # fmt: skip

    async def figures() -> Any:
        return daily_figures(DAY, history, infos, lambda q: queue_settings(settings, q, Targets),
                             defaults, dt.datetime.now(dt.UTC))  # fmt: skip

    return {
        "report": report,
        "calls": len(history.calls),
        "build_s": await _median_s(runs, lambda: daily_report(dsn, DAY, settings, infos)),
        "bare_s": await _median_s(runs, lambda: bare_select(dsn)),
        "fetch_s": fetch_s,
        "figures_s": await _median_s(runs, figures),
        "build_mib": await peak_mib(lambda: daily_report(dsn, DAY, settings, infos)),
        "bare_mib": await peak_mib(lambda: bare_select(dsn)),
    }


def time_render(report: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        t = time.perf_counter()
        write_report(report, out, "bench", ["html"])
        html_s = time.perf_counter() - t
        t = time.perf_counter()
        write_report(report, out, "bench", ["pdf"])  # the HTML again, then the PDF
        pdf_s = time.perf_counter() - t
        pages = _pages(out / "bench.pdf")
    t = time.perf_counter()
    json.dumps(report, ensure_ascii=False)
    return {"html_s": html_s, "pdf_s": pdf_s, "json_s": time.perf_counter() - t, "pages": pages}


async def main(calls: int, runs: int, seed: int, keep: bool) -> None:
    settings = load_settings()
    base = settings.history_dsn or "postgresql://ivr@127.0.0.1:5433/ivr"
    t = time.perf_counter()
    data = generate(DAY, calls, seed)
    gen_s = time.perf_counter() - t
    fill_s = await fill(base, data)
    dsn = _with_db(base, DB)
    print(f"generated {len(data.calls):,} calls ({calls:,} on {DAY}), {len(data.callbacks):,} "
          f"callbacks, {len(data.staffing):,} staffing samples, {len(data.probes):,} probes "
          f"in {gen_s:.1f} s; written by COPY in {fill_s:.1f} s")  # fmt: skip
    del data
    try:
        got = await time_report(dsn, settings, runs)
    finally:
        if not keep:
            await drop(base)
    print(f"daily report of {DAY}: {got['calls']:,} calls; median of {runs} runs")
    print(_row("baseline: bare SELECT of the day's calls", got["bare_s"]))
    print(_row("fetch_history (rows as dataclasses)", got["fetch_s"], got["bare_s"]))
    print(_row("daily_figures alone (rows in memory)", got["figures_s"], got["bare_s"]))
    print(_row("daily_report (connect, queries, figures)", got["build_s"], got["bare_s"]))
    print(f"{'peak Python memory: daily_report':<44} {got['build_mib']:9.1f} MiB  "
          f"(bare SELECT's rows: {got['bare_mib']:.1f} MiB)")  # fmt: skip
    r = time_render(got["report"])
    size = len(json.dumps(got["report"], ensure_ascii=False).encode())
    print(_row(f"baseline: json.dumps of the report ({size:,} bytes)", r["json_s"]))
    print(_row("HTML page (write_report, html)", r["html_s"], r["json_s"], "once"))
    print(_row(f"PDF, {r['pages']} pages (write_report, pdf)", r["pdf_s"], r["json_s"], "once"))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the ivr_bench database")
    a = p.parse_args()
    asyncio.run(main(a.calls, a.runs, a.seed, a.keep))
