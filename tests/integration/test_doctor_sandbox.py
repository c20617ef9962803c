"""``ivr doctor`` against the sandbox: all ok with the server running; a wrong AMI
secret and a queue Asterisk lacks are each reported with their fix."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ivr.app import HotlineApp
from ivr.config import Settings
from ivr.doctor.findings import Finding, exit_code, render_text
from ivr.doctor.run import run_doctor

# PostgreSQL: the sandbox's settings have a [history] dsn, which the doctor checks
pytestmark = [pytest.mark.sandbox, pytest.mark.postgres]


def _by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


async def test_all_ok_on_the_sandbox_with_the_server_running(
    app: HotlineApp, settings: Settings
) -> None:
    findings = await run_doctor(settings)
    assert exit_code(findings) == 0, render_text(findings)
    found = _by_check(findings)
    assert "running server" in found["fastagi"].detail
    for check in ("ami.write", "ami.read", "dialplan.hotlines", "queue.operator", "clock.asterisk"):
        assert found[check].ok


async def test_a_wrong_ami_secret_is_reported_with_its_fix(settings: Settings) -> None:
    findings = await run_doctor(replace(settings, ami_secret="wrong-secret"))
    assert exit_code(findings) == 1
    login = _by_check(findings)["ami.login"]
    assert not login.ok and "[ami] username and secret" in login.fix
    assert [f.check for f in findings if not f.ok] == ["ami.login"]


async def test_a_queue_asterisk_lacks_is_reported_with_its_fix(
    settings: Settings, hotlines_dir: Path
) -> None:
    hotline = hotlines_dir / "hotlines" / "1111.yaml"
    hotline.write_text(hotline.read_text().replace("complaint", "complaint-north"))
    findings = await run_doctor(settings)
    assert [f.check for f in findings if not f.ok] == ["queue.complaint-north"], render_text(
        findings
    )
    missing = _by_check(findings)["queue.complaint-north"]
    assert "hotline 1111" in missing.detail and "queues.conf" in missing.fix
    assert "the doctor answered in its place" in _by_check(findings)["fastagi"].detail
