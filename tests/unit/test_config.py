"""Settings files: sections, per-queue tables and the errors an admin sees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config import ConfigError, load_settings, queue_setting
from ivr.config_checks import unknown_queue_tables


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ivr.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_queue_table_overrides_only_that_queue(tmp_path: Path) -> None:
    s = load_settings(
        write(
            tmp_path,
            "[queues]\ncallback_threshold_s = 300\nannounce_repeat_s = 60\n"
            "[queues.complaint]\ncallback_threshold_s = 120\ncallback_max_offers = 1\n",
        )
    )
    assert s.callback_threshold_s == 300.0
    assert queue_setting(s, "complaint", "callback_threshold_s") == 120.0
    assert queue_setting(s, "complaint", "callback_max_offers") == 1
    assert queue_setting(s, "complaint", "announce_repeat_s") == 60.0  # not set: global
    assert queue_setting(s, "operator", "callback_threshold_s") == 300.0


def test_a_setting_that_is_not_per_queue_is_refused_with_the_fix(tmp_path: Path) -> None:
    p = write(tmp_path, "[queues.complaint]\nqueue_interval_s = 10\n")
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    msg = str(e.value)
    assert f"{p}:2: [queues.complaint]" in msg and "queue_interval_s" in msg  # file:line
    assert "callback_threshold_s" in msg  # says what may be set


@pytest.mark.parametrize("value", ['"soon"', "-5"])
def test_a_bad_per_queue_value_names_the_table(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"toml:2: \[queues\.operator\].*callback_threshold_s"):
        load_settings(write(tmp_path, f"[queues.operator]\ncallback_threshold_s = {value}\n"))


def test_unknown_setting_and_bad_toml_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ivr\.toml:3: unknown setting 'colour'") as e:
        load_settings(write(tmp_path, "[queues]\nannounce_repeat_s = 30\ncolour = 'blue'\n"))
    assert "queue_overrides" not in str(e.value)  # internal names are not offered
    with pytest.raises(ConfigError, match="fix the TOML syntax"):
        load_settings(write(tmp_path, "[queues\n"))


def test_the_sandbox_file_loads() -> None:
    s = load_settings()
    assert s.ami_username and s.callback_threshold_s > 0


def test_a_queue_table_for_no_hotlines_queue_is_reported_with_its_line(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "[queues]\ncallback_threshold_s = 300\n\n"
        "[queues.complaint]\ncallback_threshold_s = 120\n\n"
        "[queues.complain]\ncallback_threshold_s = 60\n",
    )
    s = load_settings(p)
    [problem] = unknown_queue_tables(s, {"complaint", "operator"})
    assert problem.startswith(f"{p}:7: [queues.complain] names no queue of any hotline")
    assert "complaint, operator" in problem  # the fix: the queues there are
    assert unknown_queue_tables(s, {"complaint", "complain"}) == []


def test_ivr_check_fails_on_a_queue_table_with_a_typo(tmp_path: Path) -> None:
    p = write(tmp_path, "[queues.complain]\ncallback_threshold_s = 60\n")
    run = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "--config", str(p), "check", "--no-audio"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert f"{p}:1: [queues.complain] names no queue of any hotline" in run.stderr
