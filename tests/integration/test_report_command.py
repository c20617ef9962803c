"""``ivr report`` against the sandbox's PostgreSQL, end to end: the history seeded as
tests/integration/test_reports.py seeds it, the command run as an admin runs it, the
files read back."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from ivr.cli import main
from tests.integration import test_reports as seeded

pytestmark = pytest.mark.postgres

dsn = seeded.dsn  # the same fixture: a database of its own with the hand-made history


async def test_ivr_report_writes_the_day_from_postgres(
    dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ivr.toml"
    config.write_text(f'[history]\ndsn = "{dsn}"\n', encoding="utf-8")
    out = tmp_path / "out"
    argv = ["--config", str(config), "report", "--date", "2569-11-29", "--out", str(out),
            "--format", "html,csv"]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    printed = capsys.readouterr()
    assert "29 พฤศจิกายน 2569" in printed.err
    assert len(printed.out.splitlines()) == 6  # the page and five tables
    with (out / "report-2026-11-29-hotlines.csv").open(encoding="utf-8-sig") as f:
        rows = {r[0]: r for r in csv.reader(f)}
    head = rows.pop("สายด่วน (hotline)")
    hotline = dict(zip(head, rows["1111"], strict=True))
    # a answered in 10 s, b abandoned after 50 s (tests/integration/test_reports.py)
    assert hotline["สายที่เข้าคิว (offered)"] == "2"
    assert hotline["ระดับบริการ (service_level)"] == "0.5"
    page = (out / "report-2026-11-29.html").read_text(encoding="utf-8")
    assert "50.0%" in page and "ศูนย์" in page  # the hotline's Thai name, from its file
