"""GET /api/reports/daily and /monthly: dates, history off or away, token scope."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from ivr.api.auth import TOKEN_INFO
from ivr.api.errors import BadRequest, Unavailable
from ivr.api.reports import REPORT_DEPS, ReportDeps, daily, monthly
from ivr.api.scope import HOTLINE_QUEUES
from ivr.reports.build import ReportUnavailable
from ivr.store.tokens import TokenInfo

asked: list[Any] = []


async def _daily(day: dt.date) -> dict[str, Any]:
    asked.append(day)
    return {
        "kind": "daily",
        "hotlines": [{"hotline": "1111"}, {"hotline": "1300"}],
        "staffing": [{"hotline": "1111", "queue": "a"}, {"hotline": "1300", "queue": "b"}],
    }


async def _monthly(year: int, month: int) -> dict[str, Any]:
    asked.append((year, month))
    return {"kind": "monthly", "hotlines": [{"hotline": "1111"}, {"hotline": "1300"}]}


async def _away(day: dt.date) -> dict[str, Any]:
    raise ReportUnavailable("ติดต่อฐานข้อมูลประวัติ (PostgreSQL) ไม่ได้")


def _request(path: str, deps: ReportDeps, hotlines: tuple[str, ...] = ()) -> web.Request:
    app = web.Application()
    app[REPORT_DEPS] = deps
    app[HOTLINE_QUEUES] = lambda: {"1111": ["a"], "1300": ["b"]}
    request = make_mocked_request("GET", path, app=app)
    request[TOKEN_INFO] = TokenInfo("t1", "viewer", "wall", 0.0, None, hotlines)
    return request


def _body(response: web.StreamResponse) -> Any:
    assert isinstance(response, web.Response) and isinstance(response.body, bytes)
    return json.loads(response.body)


async def test_a_buddhist_era_day_gives_the_report() -> None:
    asked.clear()
    response = await daily(_request("/reports/daily?date=2569-11-29", ReportDeps(_daily)))
    assert asked == [dt.date(2026, 11, 29)]
    assert [h["hotline"] for h in _body(response)["hotlines"]] == ["1111", "1300"]


async def test_a_month_in_either_era() -> None:
    asked.clear()
    deps = ReportDeps(monthly=_monthly)
    await monthly(_request("/reports/monthly?month=2569-11", deps))
    await monthly(_request("/reports/monthly?month=2026-10", deps))
    assert asked == [(2026, 11), (2026, 10)]


@pytest.mark.parametrize("query", ["", "?date=29/11/2569", "?date=2569-11-29&x=1"])
async def test_a_bad_date_is_400_with_an_example(query: str) -> None:
    with pytest.raises(BadRequest) as e:
        await daily(_request(f"/reports/daily{query}", ReportDeps(_daily)))
    assert "2569-11-29" in e.value.message or "allowed: date" in e.value.message


async def test_history_off_or_away_is_503_naming_the_fix() -> None:
    with pytest.raises(Unavailable, match=r"\[history\] dsn") as off:
        await daily(_request("/reports/daily?date=2026-11-29", ReportDeps()))
    assert off.value.error_id == "history-off"
    with pytest.raises(Unavailable, match="PostgreSQL") as away:
        await daily(_request("/reports/daily?date=2026-11-29", ReportDeps(_away)))
    assert away.value.error_id == "history-unavailable"


async def test_a_token_limited_to_a_hotline_sees_only_it() -> None:
    request = _request("/reports/daily?date=2026-11-29", ReportDeps(_daily), hotlines=("1300",))
    body = _body(await daily(request))
    assert [h["hotline"] for h in body["hotlines"]] == ["1300"]
    assert body["staffing"] == [{"hotline": "1300", "queue": "b"}]
    request = _request("/reports/monthly?month=2026-11", ReportDeps(monthly=_monthly), ("1111",))
    assert [h["hotline"] for h in _body(await monthly(request))["hotlines"]] == ["1111"]
