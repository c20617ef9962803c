"""``GET /api/reports/daily?date=…`` and ``GET /api/reports/monthly?month=…``: the
reports of :mod:`ivr.reports` as JSON, the same dicts the renderers draw.

Dates in the Buddhist era (``2569-11-29``, ``2569-11``) or ISO (``2026-11-29``,
``2026-11``); anything else is 400 with an example. 503 naming the fix when the
history is off (no ``[history] dsn``) or its PostgreSQL is away. A token limited
to some hotlines sees only those hotlines (and their staffing rows). Viewers may
read them: a report holds no phone number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ivr.api.auth import require_role
from ivr.api.errors import BadRequest, Unavailable
from ivr.api.scope import visible_hotlines
from ivr.config import Settings
from ivr.menus.model import Hotline
from ivr.reports.build import ReportUnavailable, daily_report, hotline_infos, monthly_report
from ivr.reports.dates import DAY_EXAMPLE, MONTH_EXAMPLE, parse_day, parse_month

__all__ = ["REPORT_DEPS", "ReportDeps", "report_deps", "routes"]

Daily = Callable[[dt.date], Awaitable[dict[str, Any]]]
Monthly = Callable[[int, int], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ReportDeps:
    """How to build each report; None when the history is off."""

    daily: Daily | None = None
    monthly: Monthly | None = None


def report_deps(settings: Settings, hotlines: Callable[[], Mapping[str, Hotline]]) -> ReportDeps:
    """The reports of the server's history, over the hotlines in force (none when
    the history is off)."""
    dsn = settings.history_dsn
    if not dsn:
        return ReportDeps()
    return ReportDeps(
        daily=lambda day: daily_report(dsn, day, settings, hotline_infos(hotlines())),
        monthly=lambda y, m: monthly_report(dsn, y, m, settings, hotline_infos(hotlines())),
    )


class HistoryOff(Unavailable):
    error_id = "history-off"


class HistoryUnavailable(Unavailable):
    error_id = "history-unavailable"


REPORT_DEPS = web.AppKey("report_deps", ReportDeps)
routes = web.RouteTableDef()

_OFF = (
    "ประวัติการโทรปิดอยู่ จึงยังไม่มีรายงาน: ตั้ง [history] dsn ในไฟล์ตั้งค่าแล้วเริ่มเซิร์ฟเวอร์ใหม่ "
    "(history is off: set [history] dsn in the settings and restart the server)"
)


def _param(request: web.Request, name: str, example: str) -> str:
    for key in request.query:
        if key != name:
            raise BadRequest(f"unknown query parameter `{key}` (allowed: {name})")
    value = request.query.get(name, "").strip()
    if not value:
        raise BadRequest(f"ระบุ ?{name}= เช่น {example} (give ?{name}=, e.g. {example})")
    return value


def _scoped(request: web.Request, report: dict[str, Any]) -> dict[str, Any]:
    """The report with only the hotlines the token sees."""
    names = [h["hotline"] for h in report["hotlines"]]
    seen = set(visible_hotlines(request, names))
    if len(seen) == len(names):
        return report
    out = dict(report, hotlines=[h for h in report["hotlines"] if h["hotline"] in seen])
    if "staffing" in report:
        out["staffing"] = [r for r in report["staffing"] if r["hotline"] in seen]
    return out


async def _built(request: web.Request, build: Awaitable[dict[str, Any]]) -> web.Response:
    try:
        report = await build
    except ReportUnavailable as e:
        raise HistoryUnavailable(str(e)) from None
    return web.json_response(_scoped(request, report))


@routes.get("/reports/daily")
async def daily(request: web.Request) -> web.Response:
    require_role(request, "viewer", "supervisor", "admin")
    text = _param(request, "date", DAY_EXAMPLE)
    try:
        day = parse_day(text)
    except ValueError as e:
        raise BadRequest(str(e), error_id="bad-date") from None
    build = request.app[REPORT_DEPS].daily
    if build is None:
        raise HistoryOff(_OFF)
    return await _built(request, build(day))


@routes.get("/reports/monthly")
async def monthly(request: web.Request) -> web.Response:
    require_role(request, "viewer", "supervisor", "admin")
    text = _param(request, "month", MONTH_EXAMPLE)
    try:
        year, month = parse_month(text)
    except ValueError as e:
        raise BadRequest(str(e), error_id="bad-month") from None
    build = request.app[REPORT_DEPS].monthly
    if build is None:
        raise HistoryOff(_OFF)
    return await _built(request, build(year, month))
