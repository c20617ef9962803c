"""``ivr report``: dates and formats refused with an example (exit 2), history off or
away said with the fix (exit 1), the files written printed one a line. The report
itself is stubbed here (tests/integration builds one from PostgreSQL); the renderers
also draw what ``ivr.reports.figures`` really makes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ivr import cli_report
from ivr.cli import main
from ivr.reports.build import ReportUnavailable
from ivr.reports.figures import daily_figures, monthly_figures
from ivr.reports.labels import FIG
from ivr.reports.render_csv import write_csv
from ivr.reports.render_html import daily_html, monthly_html
from tests.unit import report_sample
from tests.unit import test_report_figures as hand


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "ivr.toml"
    path.write_text('[history]\ndsn = "postgresql://ivr@127.0.0.1:1/ivr"\n', encoding="utf-8")
    return str(path)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The reports asked for (daily: the day; monthly: year, month), answered by the
    hand-made reports."""
    asked: list[Any] = []

    async def daily(dsn: str, day: dt.date, settings: Any, hotlines: Any = None) -> Any:
        asked.append(day)
        return report_sample.daily()

    async def monthly(dsn: str, year: int, month: int, settings: Any, hotlines: Any = None) -> Any:
        asked.append((year, month))
        return report_sample.monthly()

    monkeypatch.setattr(cli_report, "daily_report", daily)
    monkeypatch.setattr(cli_report, "monthly_report", monthly)
    return asked


@pytest.mark.parametrize("date", ["29/11/2569", "2569-13-01", "yesterday", "2569-11"])
def test_a_date_not_understood_is_refused_with_an_example(
    date: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--date", date]) == 2
    err = capsys.readouterr().err
    assert "2569-11-29" in err and "2026-11-29" in err


def test_a_month_or_format_not_understood_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--month", "11/2569"]) == 2
    assert "2569-11" in capsys.readouterr().err
    assert main(["report", "--month", "2569-11", "--format", "html,docx"]) == 2
    assert "html,pdf,csv" in capsys.readouterr().err


def test_history_off_says_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    off = tmp_path / "off.toml"
    off.write_text('[history]\ndsn = ""\n', encoding="utf-8")
    assert main(["--config", str(off), "report", "--date", "2569-11-29"]) == 1
    assert "[history] dsn" in capsys.readouterr().err


def test_history_away_says_the_fix(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def away(*_args: Any, **_kw: Any) -> Any:
        raise ReportUnavailable("ติดต่อฐานข้อมูลประวัติ (PostgreSQL) ไม่ได้ (not reachable)")

    monkeypatch.setattr(cli_report, "daily_report", away)
    assert main(["--config", config, "report", "--date", "2026-11-29"]) == 1
    assert "PostgreSQL" in capsys.readouterr().err


def test_daily_files_written_and_printed(
    config: str, built: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["--config", config, "report", "--date", "2569-11-29", "--out", str(out)]
    assert main([*args, "--format", "html,csv"]) == 0
    assert built == [dt.date(2026, 11, 29)]
    printed = capsys.readouterr()
    assert "29 พฤศจิกายน 2569" in printed.err
    names = [Path(line).name for line in printed.out.splitlines()]
    assert names == [
        "report-2026-11-29.html", "report-2026-11-29-hotlines.csv", "report-2026-11-29-queues.csv",
        "report-2026-11-29-half-hours.csv", "report-2026-11-29-menus.csv",
        "report-2026-11-29-staffing.csv",
    ]  # fmt: skip
    assert all((out / n).stat().st_size > 0 for n in names)


def test_monthly_in_iso(
    config: str, built: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--config", config, "report", "--month", "2026-11", "--out", str(tmp_path)]
    assert main([*args, "--format", "csv"]) == 0
    assert built == [(2026, 11)]
    assert capsys.readouterr().out.split() == [
        str(tmp_path / "report-2026-11-hotlines.csv"),
        str(tmp_path / "report-2026-11-days.csv"),
    ]


def test_the_renderers_draw_what_the_figures_make(tmp_path: Path) -> None:
    """The contract between the two halves: every figure the core makes has a label
    here, and its real reports render."""
    daily = daily_figures(hand.DAY, hand.HISTORY, hand.HOTLINES, hand.targets, hand.DEFAULT,
                          hand.NOW)  # fmt: skip
    monthly = monthly_figures(2026, 11, hand.HISTORY, hand.HOTLINES, hand.targets, hand.DEFAULT)
    assert set(daily["hotlines"][0]["totals"]) == {key for key, _, _ in FIG}
    assert "สายด่วนทดสอบ" in daily_html(daily) and "สายด่วนทดสอบ" in monthly_html(monthly)
    assert len(write_csv(daily, tmp_path, "d")) == 5
    assert len(write_csv(monthly, tmp_path, "m")) == 2
