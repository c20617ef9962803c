"""The two reports from the history database: :func:`daily_report` (a Bangkok day)
and :func:`monthly_report` (a Bangkok month), the dicts the API returns and the
renderers draw. I/O here (PostgreSQL, the hotline files); the figures are
:mod:`ivr.reports.figures`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg

from ivr.config import Settings, queue_settings
from ivr.hotlines import HotlineRegistry
from ivr.menus.model import Hotline
from ivr.queues.figures import Targets
from ivr.reports.dates import day_bounds, month_bounds
from ivr.reports.figures import daily_figures, monthly_figures
from ivr.reports.query import fetch_history
from ivr.reports.rows import History, HotlineInfo

__all__ = [
    "ReportUnavailable",
    "daily_report",
    "hotline_infos",
    "monthly_report",
]


class ReportUnavailable(Exception):
    """No report can be built now; the message names the fix."""


def hotline_infos(hotlines: Mapping[str, Hotline]) -> dict[str, HotlineInfo]:
    """Each hotline's Thai title and queues, as the reports name them."""
    out = {}
    for hid, h in hotlines.items():
        queues = sorted({*h.queues, *([h.default_queue] if h.default_queue else [])})
        out[hid] = HotlineInfo(h.name_th or h.id, tuple(queues))
    return out


def _hotlines_of(settings: Settings) -> dict[str, HotlineInfo]:
    registry = HotlineRegistry(settings.hotlines_dir, settings.prompts_dir)
    registry.reload()
    return hotline_infos(registry.hotlines)


def _targets(settings: Settings) -> tuple[Callable[[str], Targets], Targets]:
    return (lambda queue: queue_settings(settings, queue, Targets)), Targets(
        settings.service_level_s, settings.service_level_target, settings.short_abandon_s
    )


async def _fetch(dsn: str, start: dt.datetime, end: dt.datetime, *, day: bool) -> History:
    if not dsn:
        raise ReportUnavailable(
            "ประวัติการโทรปิดอยู่: ตั้ง [history] dsn ในไฟล์ตั้งค่า "
            "(history is off: set [history] dsn in the settings)"
        )
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
        raise ReportUnavailable(
            "ติดต่อฐานข้อมูลประวัติ (PostgreSQL) ไม่ได้: ตรวจว่า PostgreSQL ทำงานและ "
            f"[history] dsn ถูกต้อง (history database not reachable: {e})"
        ) from e
    try:
        return await fetch_history(conn, start, end, day=day)
    except asyncpg.UndefinedColumnError as e:
        raise ReportUnavailable(
            "ฐานข้อมูลประวัติยังไม่ได้ปรับรุ่น: เริ่ม ivr serve หรือสั่ง ivr history purge "
            f"หนึ่งครั้ง (history schema not migrated yet: start the server once; {e})"
        ) from e
    finally:
        await conn.close()


async def daily_report(
    dsn: str,
    day: dt.date,
    settings: Settings,
    hotlines: Mapping[str, HotlineInfo] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The daily report of the Bangkok day ``day``; ReportUnavailable naming the fix
    when the history is off or its database away. ``hotlines``: the hotlines in
    force (else read from the settings' hotline files)."""
    start, end = day_bounds(day)
    history = await _fetch(dsn, start, end, day=True)
    targets, defaults = _targets(settings)
    return daily_figures(
        day,
        history,
        _hotlines_of(settings) if hotlines is None else hotlines,
        targets,
        defaults,
        now or dt.datetime.now(dt.UTC),
    )


async def monthly_report(
    dsn: str,
    year: int,
    month: int,
    settings: Settings,
    hotlines: Mapping[str, HotlineInfo] | None = None,
) -> dict[str, Any]:
    """The monthly report (each hotline's days side by side); errors as daily_report."""
    start, end = month_bounds(year, month)
    history = await _fetch(dsn, start, end, day=False)
    targets, defaults = _targets(settings)
    infos = _hotlines_of(settings) if hotlines is None else hotlines
    return monthly_figures(year, month, history, infos, targets, defaults)
