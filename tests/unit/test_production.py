"""deploy/production/: the example settings file in step with ivr/config.py, the
systemd unit accepted by ``systemd-analyze verify``, and the Asterisk snippets in
step with the settings they mirror (AMI user and secret, wrap-up, AGI address)."""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from ivr.config import PROJECT_ROOT, Settings, _flatten, line_of, load_settings

PRODUCTION = PROJECT_ROOT / "deploy" / "production"
EXAMPLE = PRODUCTION / "ivr.toml.example"
ASTERISK = PRODUCTION / "asterisk"
#: settings that are no plain key of the file: where it came from, and the
#: [queues.<name>] tables (shown as a commented example)
NOT_KEYS = {"source", "queue_overrides"}


def _keys(text: str) -> dict[str, int]:
    """Setting name -> line of its key, as :func:`ivr.config.load_settings` reads them."""
    return {k: line for k, (_v, line) in _flatten(tomllib.loads(text), text).items()}


def test_example_names_every_setting_and_no_other() -> None:
    keys = set(_keys(EXAMPLE.read_text(encoding="utf-8")))
    settings = {f.name for f in fields(Settings)} - NOT_KEYS
    assert sorted(settings - keys) == [], "settings missing from the example: add them"
    assert sorted(keys - settings) == [], "keys of the example that are no setting"


def test_example_loads_as_it_is() -> None:
    s = load_settings(EXAMPLE)
    assert s.run_dir == Path("/run/ivr")
    assert s.dialplans_dir == Path("/etc/ivr/dialplans")
    assert s.history_dsn == ""  # off until the admin gives a database


def test_every_key_of_the_example_is_commented() -> None:
    """Each key says what it is: a comment on its line, or a comment line above it and
    the keys (and section headers) between them."""
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = text.splitlines()
    bare_key = re.compile(r"^[A-Za-z0-9_\"]+\s*=[^#]*$|^\[[^\]]+\]$")
    undocumented = []
    for name, line in _keys(text).items():
        if line == 0:  # a table of tables ([probe.hotlines]): its header
            line = line_of(text, None, name.replace("_", ".", 1))
        if "#" in lines[line - 1]:
            continue
        above = line - 2
        while above >= 0 and bare_key.match(lines[above].strip()):
            above -= 1
        if above < 0 or not lines[above].lstrip().startswith("#"):
            undocumented.append(f"{line}: {name}")
    assert undocumented == [], "say what each of these is, on its line or the line above"


def _conf(name: str) -> dict[str, dict[str, str]]:
    """An Asterisk config file as {section: {key: value}} (last value wins)."""
    out: dict[str, dict[str, str]] = {}
    section = ""
    for raw in (ASTERISK / name).read_text(encoding="utf-8").splitlines():
        line = raw.split(";", 1)[0].strip()
        if m := re.match(r"^\[([^\]]+)\]", line):
            section = m[1]
            out.setdefault(section, {})
        elif "=" in line:
            key, _, value = line.partition("=")
            out.setdefault(section, {})[key.strip()] = value.strip().lstrip(">").strip()
    return out


def test_snippets_agree_with_the_example_settings() -> None:
    s = load_settings(EXAMPLE)
    manager = _conf("ivr_manager.conf")
    assert manager[s.ami_username]["secret"] == s.ami_secret
    assert manager["general"]["channelvars"] == "IVR_PROBE"
    globals_ = _conf("ivr_globals.conf")[""]
    assert globals_["IVR_AGI"] == f"agi://{s.agi_host}:{s.agi_port}"
    assert globals_["IVR_QUEUE_INTERVAL"] == str(s.queue_interval_s)
    queues = _conf("ivr_queues.conf")
    assert float(queues["ivr-queue-base"]["wrapuptime"]) == s.queue_wrapup_s


def test_ami_user_has_no_right_beyond_what_the_server_uses() -> None:
    user = _conf("ivr_manager.conf")["ivr-server"]
    assert set(user["read"].split(",")) == {"system", "call", "agent", "user", "dialplan"}
    assert set(user["write"].split(",")) == {"call", "agent", "originate", "reporting"}
    assert user["deny"] == "0.0.0.0/0.0.0.0"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    """``systemd-analyze verify`` of the shipped unit, its /opt/ivr read as this tree
    (verify wants the commands to exist); any warning fails the test."""
    unit = tmp_path / "ivr.service"
    text = (PRODUCTION / "ivr.service").read_text(encoding="utf-8")
    unit.write_text(text.replace("/opt/ivr", str(PROJECT_ROOT)), encoding="utf-8")
    run = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert (run.returncode, run.stderr.strip()) == (0, "")
    assert "Restart=always" in text and "User=ivr" in text


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate is not installed")
def test_logrotate_file_is_read_without_error(tmp_path: Path) -> None:
    """``logrotate --debug`` (nothing rotated) of the shipped file, the log folder and
    the ``su`` user read as a scratch folder and this test's user."""
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "server.log").write_text("{}\n", encoding="utf-8")
    text = (PRODUCTION / "logrotate" / "ivr").read_text(encoding="utf-8")
    me = f"{getpass.getuser()} {grp.getgrgid(os.getgid()).gr_name}"
    conf = tmp_path / "ivr"
    conf.write_text(
        text.replace("/var/log/ivr", str(tmp_path / "log")).replace("su ivr ivr", f"su {me}"),
        encoding="utf-8",
    )
    run = subprocess.run(
        ["logrotate", "--debug", "--state", str(tmp_path / "state"), str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "error" not in (run.stdout + run.stderr).lower(), run.stderr
    assert "su ivr ivr" in text and "copytruncate" in text


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd is not installed")
def test_sysusers_file_makes_the_units_user(tmp_path: Path) -> None:
    """``systemd-sysusers`` into a scratch root makes the user the unit runs as,
    without a login shell."""
    (tmp_path / "etc").mkdir()
    conf = PRODUCTION / "sysusers.d" / "ivr.conf"
    run = subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    passwd = (tmp_path / "etc" / "passwd").read_text(encoding="utf-8").split(":")
    unit = (PRODUCTION / "ivr.service").read_text(encoding="utf-8")
    assert f"User={passwd[0]}" in unit and f"Group={passwd[0]}" in unit
    assert passwd[5] == "/var/lib/ivr" and passwd[6].strip().endswith("nologin")
