"""One admin-error type: how a problem reads, and every problem reported at once
for hotline files, the prompt catalogue and the settings file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config import ConfigError, load_settings
from ivr.menus.loader import MenuError, check_all, load_all
from ivr.problems import AdminError, Problem
from ivr.speech.catalogue import PROMPT_ID_RE, CatalogueError, load_catalogue, parse_catalogue
from tests.unit.shipped import HOTLINES, PROMPTS

ROOT = Path(__file__).resolve().parents[2]


def test_a_problem_reads_file_line_problem_fix() -> None:
    p = Problem("prompts/catalogue.yaml", 7, "bad prompt id 'A_b'", "use lowercase letters")
    assert str(p) == "prompts/catalogue.yaml:7: bad prompt id 'A_b' — use lowercase letters"
    assert p.where == "prompts/catalogue.yaml:7"


def test_a_problem_without_line_or_fix() -> None:
    assert str(Problem("ivr.toml", 0, "no such file", "pass --config")) == (
        "ivr.toml: no such file — pass --config"
    )
    assert str(Problem("ivr.toml", 3, "odd")) == "ivr.toml:3: odd"


def test_the_error_carries_every_problem_one_a_line() -> None:
    problems = [Problem("a.yaml", 1, "one", "fix one"), Problem("b.yaml", 0, "two", "fix two")]
    e = AdminError(problems)
    assert e.problems == problems
    assert str(e) == "a.yaml:1: one — fix one\nb.yaml: two — fix two"


@pytest.mark.parametrize("kind", [MenuError, CatalogueError, ConfigError])
def test_each_kind_of_admin_file_raises_the_one_type(kind: type[AdminError]) -> None:
    assert issubclass(kind, AdminError)
    e = kind([Problem("x", 2, "wrong", "right")])
    assert str(e) == "x:2: wrong — right"


# -- menus ----------------------------------------------------------------------


def test_menus_report_every_problem_of_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "hotlines"
    shutil.copytree(HOTLINES, folder)
    one = folder / "1111.yaml"
    one.write_text(
        one.read_text(encoding="utf-8")
        .replace("greeting: greeting-1111", "greeting: greeting_1111")
        .replace("default_queue:", "default_queu:"),
        encoding="utf-8",
    )
    other = folder / "1555.yaml"
    other.write_text(other.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    with pytest.raises(MenuError) as e:
        load_all(folder, PROMPTS)
    rendered = [str(p) for p in e.value.problems]
    assert len(rendered) == 4, rendered
    assert sum(r.startswith(f"{one}:") for r in rendered) == 3  # missing, unknown, bad id
    assert any("`greeting_1111` is not a prompt id" in r for r in rendered)
    assert any("did you mean `default_queue`?" in r for r in rendered)
    assert any(r.startswith(f"{other}:") and "unknown key `colour`" in r for r in rendered)
    assert all(" — " in r for r in rendered)
    assert check_all(folder, PROMPTS) == e.value.problems


# -- the prompt catalogue -------------------------------------------------------


def test_one_prompt_id_pattern_everywhere() -> None:
    assert PROMPT_ID_RE.match("menu-main-1111")
    assert not PROMPT_ID_RE.match("menu_main")  # ids become file names: no `_`
    assert not PROMPT_ID_RE.match("Menu")


def test_the_catalogue_reports_every_problem_at_once(tmp_path: Path) -> None:
    source = "a_b:\n  th: x\nok:\n  fr: y\n  th: ได้\nempty:\n  th: ''\n"
    with pytest.raises(CatalogueError) as e:
        parse_catalogue(source, tmp_path, where="catalogue.yaml")
    assert [p.where for p in e.value.problems] == [
        "catalogue.yaml:1",
        "catalogue.yaml:4",
        "catalogue.yaml:7",
    ]
    assert all(p.fix for p in e.value.problems)


def test_a_missing_catalogue_is_one_problem_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as e:
        load_catalogue(tmp_path)
    [p] = e.value.problems
    assert p.file == str(tmp_path / "catalogue.yaml") and p.line == 0
    assert p.message == "file not found" and p.fix


# -- settings -------------------------------------------------------------------


def test_settings_report_every_problem_at_once_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ivr.toml"
    path.write_text(
        "colour = 'blue'\n"
        "[agi]\nport = 'many'\n"
        "[queues.complaint]\nqueue_interval_s = 10\ncallback_threshold_s = -1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    got = [(p.line, p.message) for p in e.value.problems]
    assert [line for line, _ in got] == [1, 3, 5, 6], got
    assert "unknown setting 'colour'" in got[0][1]
    assert "agi_port = 'many' is not valid" in got[1][1]
    assert "'queue_interval_s' cannot be set per queue" in got[2][1]
    assert "callback_threshold_s = -1 must not be negative" in got[3][1]
    assert all(p.file == str(path) and p.fix for p in e.value.problems)


def test_a_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ivr.toml"
    path.write_text("[agi]\nport = 4573\nhost = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    [p] = e.value.problems
    assert p.line == 3 and p.fix == "fix the TOML syntax"


def test_settings_from_the_environment_are_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ivr.toml"
    path.write_text("colour = 1\n", encoding="utf-8")
    monkeypatch.setenv("IVR_HTTP_PORT", "eighty")
    with pytest.raises(ConfigError) as e:
        load_settings(path)
    assert [p.file for p in e.value.problems] == [str(path), "$IVR_HTTP_PORT"]


# -- ivr check ------------------------------------------------------------------


def test_ivr_check_prints_every_problem_of_a_broken_file(tmp_path: Path) -> None:
    dialplans = tmp_path / "dialplans"
    shutil.copytree(HOTLINES, dialplans / "hotlines")
    broken = dialplans / "hotlines" / "1111.yaml"
    broken.write_text(
        broken.read_text(encoding="utf-8")
        .replace("greeting: greeting-1111", "greeting: greeting_1111")
        .replace("name_th:", "nam_th:"),
        encoding="utf-8",
    )
    config = tmp_path / "ivr.toml"
    config.write_text(
        f'[paths]\ndialplans_dir = "{dialplans}"\nprompts_dir = "{ROOT / "prompts"}"\n',
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "--config", str(config), "check", "--no-audio"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    lines = run.stderr.splitlines()
    assert lines[-1] == "3 problem(s): nothing was loaded", lines
    assert all(line.startswith(f"{broken}:") and " — " in line for line in lines[:-1]), lines
    assert "unknown key `nam_th`" in run.stderr and "has no `name_th`" in run.stderr
    assert "`greeting_1111` is not a prompt id" in run.stderr
