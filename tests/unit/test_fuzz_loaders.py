"""Fuzz the hotline file loader and the settings loader with bad files.

Whatever an admin writes, :func:`load_hotline` returns a hotline or raises
:class:`MenuError`, and :func:`load_settings` returns settings or raises
:class:`ConfigError`; every problem names the file and a line inside it (0 for the
whole file). Valid files still load.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from ivr.config import ConfigError, load_settings
from ivr.menus.loader import MenuError, load_hotline
from ivr.problems import AdminError
from tests.unit.shipped import HOTLINES, PROMPTS

_ROOT = Path(__file__).resolve().parents[2]
_DIR = Path(tempfile.mkdtemp(prefix="ivr-fuzz-"))
_SHIPPED = {p.name: p.read_text(encoding="utf-8") for p in sorted(HOTLINES.glob("*.yaml"))}
_SETTINGS = (_ROOT / "deploy" / "sandbox" / "ivr.toml").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file alone decides: no IVR_* variable of the shell running the tests."""
    for name in list(os.environ):
        if name.startswith("IVR_") and name != "IVR_FUZZ":
            monkeypatch.delenv(name)


def _write(name: str, data: str | bytes) -> Path:
    path = _DIR / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(data)
    return path


def _assert_clear(err: AdminError, path: Path, text: str) -> None:
    assert err.problems, "an error without a problem says nothing"
    lines = text.count("\n") + 2
    for p in err.problems:
        assert p.file == str(path), str(p)
        assert 0 <= p.line <= lines, str(p)
        assert p.message, str(p)


# ------------------------------------------------------------------ line mutations

_JUNK = st.sampled_from(
    [
        "",
        ":",
        "- ",
        "  ",
        "{",
        "}",
        "[",
        "]",
        '"',
        "'",
        "&a",
        "*a",
        "!!python/none",
        "\t",
        "? ",
        "---",
        "...",
        "%YAML 1.1",
        "=",
        "[[",
        "1e999",
        "nan",
        "inf",
        "\\",
        "#",
        ",",
    ]
)


@st.composite
def _mutated_lines(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        op = draw(st.sampled_from(["delete", "duplicate", "junk", "cut", "indent", "swap"]))
        if op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "junk":
            lines.insert(i, draw(_JUNK) + draw(st.text(max_size=6)))
        elif op == "cut" and lines:
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + draw(_JUNK)
        elif op == "indent" and lines:
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


# ------------------------------------------------------------ structural mutations

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "1",
            "0",
            "*",
            "#",
            "main",
            "operator",
            "goodbye",
            "24:00",
            "mon-fri",
            "08:30-16:30",
            "25:61-00:00",
            "2026-02-30",
            "thai",
            "Asia/Bangkok",
            "x/y",
        ]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    ),
    max_leaves=6,
)


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        out.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, out)
    return out


@st.composite
def _mutated_tree(draw: st.DrawFn, text: str) -> str:
    tree = yaml.safe_load(text)
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(_containers(tree, [])))
        if not target:
            continue
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        key = draw(st.sampled_from(keys))
        op = draw(st.sampled_from(["replace", "delete", "rename", "wrap"]))
        if op == "replace":
            target[key] = draw(_VALUES)
        elif op == "delete":
            del target[key]
        elif op == "rename" and isinstance(target, dict):
            target[draw(st.text(max_size=8))] = target.pop(key)
        elif op == "wrap":
            target[key] = [target[key]]
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


def _load_hotline(text: str) -> None:
    path = _write("fuzz.yaml", text)
    try:
        load_hotline(path, PROMPTS)
    except MenuError as err:
        _assert_clear(err, path, text)


_HOTLINE_TEXTS = st.sampled_from(sorted(_SHIPPED.values()))


@given(_HOTLINE_TEXTS.flatmap(_mutated_tree))
def test_a_structurally_mutated_hotline_file_loads_or_says_why(text: str) -> None:
    _load_hotline(text)


@given(_HOTLINE_TEXTS.flatmap(_mutated_lines))
def test_a_hotline_file_with_mangled_lines_loads_or_says_why(text: str) -> None:
    _load_hotline(text)


@given(st.one_of(st.text(max_size=200), _VALUES.map(lambda v: yaml.safe_dump(v))))
@example("&a [*a]")
@example("[" * 600)  # RecursionError in PyYAML's composer
@example("- " * 3000 + "x")
@example("a: &x {b: *x}")
def test_any_yaml_text_loads_or_says_why(text: str) -> None:
    _load_hotline(text)


@given(st.binary(max_size=100))
def test_any_bytes_load_or_say_why(raw: bytes) -> None:
    path = _write("fuzz.yaml", raw)
    try:
        load_hotline(path, PROMPTS)
    except MenuError as err:
        _assert_clear(err, path, raw.decode("utf-8", errors="replace"))


@pytest.mark.parametrize("name", sorted(_SHIPPED))
def test_the_shipped_hotline_files_still_load_after_a_yaml_round_trip(name: str) -> None:
    tree = yaml.safe_load(_SHIPPED[name])
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    assert load_hotline(_write(name, text), PROMPTS).id == tree["hotline"]


# -------------------------------------------------------------------- settings

_TOML_VALUES = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(),
        st.text(max_size=12),
        st.sampled_from(["1", "0", "true", "callback", "overflow:x", "a,b", "/tmp", ""]),
    ),
    lambda inner: st.lists(inner, min_size=1, max_size=3),
    max_leaves=4,
)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return (
            ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
            if not math.isfinite(v)
            else repr(v)
        )
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


_SETTING_KEYS = st.sampled_from(
    [
        line.split("=")[0].strip()
        for line in _SETTINGS.splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    ]
    + ["no_agent", "unknown", "callback_threshold_s"]
)
_SECTIONS = st.sampled_from(
    [
        "",
        "agi",
        "ami",
        "redis",
        "http",
        "api",
        "paths",
        "server",
        "queues",
        "callbacks",
        "queues.operator",
        "metrics",
        "nonsense",
    ]
)


@st.composite
def _settings_texts(draw: st.DrawFn) -> str:
    out: list[str] = []
    for section in draw(st.lists(_SECTIONS, max_size=4, unique=True)):
        if section:
            out.append(f"[{section}]")
        for key in draw(st.lists(_SETTING_KEYS, max_size=4, unique=True)):
            out.append(f"{key} = {_toml_value(draw(_TOML_VALUES))}")
    return "\n".join(out) + "\n"


def _load_settings(text: str) -> None:
    path = _write("fuzz.toml", text)
    try:
        load_settings(path)
    except ConfigError as err:
        _assert_clear(err, path, text)


@given(_settings_texts())
@example("[agi]\nport = inf\n")
@example("a = " + "[" * 100_000)  # RecursionError in tomllib
@example("a = " + "{b = " * 3000 + "1" + "}" * 3000)
def test_any_settings_values_load_or_say_why(text: str) -> None:
    _load_settings(text)


@given(_mutated_lines(_SETTINGS))
def test_a_settings_file_with_mangled_lines_loads_or_says_why(text: str) -> None:
    _load_settings(text)


@given(st.text(max_size=200))
def test_any_text_as_settings_loads_or_says_why(text: str) -> None:
    _load_settings(text)


@given(st.binary(max_size=100))
@example(b"\xdc")
def test_any_bytes_as_settings_load_or_say_why(raw: bytes) -> None:
    path = _write("fuzz.toml", raw)
    try:
        load_settings(path)
    except ConfigError as err:
        _assert_clear(err, path, raw.decode("utf-8", errors="replace"))


def test_the_sandbox_settings_still_load() -> None:
    assert load_settings(_write("ivr.toml", _SETTINGS)).agi_port == 4573


def test_a_folder_given_as_the_settings_file_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_settings(_DIR)
