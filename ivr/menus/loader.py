"""Hotline files: read them, check them, and say exactly what is wrong and where.

Each hotline is one YAML file, ``dialplans/hotlines/<hotline>.yaml``; its shape
is described in :mod:`ivr.menus.schema`. This module reads the files
(:mod:`ivr.yamlfile`), runs the checks (:mod:`ivr.menus.checks`,
:mod:`ivr.menus.hours_checks`) while building the model
(:mod:`ivr.menus.build`), and checks the files of a folder against each other
(one file per hotline id). A file with any problem is not loaded; every
problem of every file is reported at once, each as
``file:line: what is wrong — how to fix it`` (:class:`~ivr.problems.Problem`).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from ivr.menus.build import build_hotline
from ivr.menus.checks import HotlineCheck
from ivr.menus.model import Hotline
from ivr.problems import AdminError, Problem
from ivr.yamlfile import line_of, read_yaml

__all__ = ["MenuError", "Problem", "check_all", "load_all", "load_hotline"]


class MenuError(AdminError):
    """Hotline files that cannot be loaded; ``problems`` says every reason."""


def _check_file(
    path: Path, known_prompts: AbstractSet[str], prompts_with_audio: AbstractSet[str] | None
) -> tuple[Hotline | None, list[Problem], str | None, int]:
    """Load one file: the hotline (or None), its problems, and the id it claims (with line)."""
    doc = read_yaml(path, point_at_opening=False)
    if doc.problems:
        return None, doc.problems, None, 0
    if doc.root is None:
        empty = Problem(str(path), 0, "the file is empty", 'start with `hotline: "<number>"`')
        return None, [empty], None, 0
    c = HotlineCheck(str(path), known_prompts=known_prompts, prompts_with_audio=prompts_with_audio)
    hotline = build_hotline(c, doc.root, path, doc.version)
    claimed, claimed_line = _claimed_id(doc.root)
    c.problems.sort(key=lambda p: p.line)
    return hotline, c.problems, claimed, claimed_line


def _claimed_id(root: Node) -> tuple[str | None, int]:
    """The ``hotline:`` a file gives, and the line it gives it on."""
    if isinstance(root, MappingNode):
        for key_node, value_node in root.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "hotline":
                if isinstance(value_node, ScalarNode):
                    return str(value_node.value), line_of(key_node)
                break
    return None, 0


def load_hotline(
    path: str | Path,
    known_prompts: AbstractSet[str],
    prompts_with_audio: AbstractSet[str] | None = None,
) -> Hotline:
    """Load and check one hotline file; raise :class:`MenuError` with every problem."""
    hotline, problems, _, _ = _check_file(Path(path), known_prompts, prompts_with_audio)
    if problems or hotline is None:
        raise MenuError(problems)
    return hotline


def _hotline_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def _check_folder(
    folder: str | Path, known_prompts: AbstractSet[str], prompts_with_audio: AbstractSet[str] | None
) -> tuple[dict[str, Hotline], list[Problem]]:
    root = Path(folder)
    if not root.is_dir():
        return {}, [Problem(str(root), 0, "no such folder", "create it or fix the path")]
    files = _hotline_files(root)
    if not files:
        return {}, [
            Problem(
                str(root), 0, "no hotline files", 'add one, e.g. 1111.yaml with hotline: "1111"'
            )
        ]
    hotlines: dict[str, Hotline] = {}
    problems: list[Problem] = []
    first_file: dict[str, str] = {}
    for path in files:
        hotline, found, claimed, claimed_line = _check_file(path, known_prompts, prompts_with_audio)
        problems.extend(found)
        if claimed is not None:
            if claimed in first_file:
                problems.append(
                    Problem(
                        str(path),
                        claimed_line,
                        f"hotline `{claimed}` is also defined in {first_file[claimed]}",
                        "keep one file per hotline",
                    )
                )
                continue
            first_file[claimed] = str(path)
        if hotline is not None:
            hotlines[hotline.id] = hotline
    return hotlines, problems


def check_all(
    folder: str | Path,
    known_prompts: AbstractSet[str],
    prompts_with_audio: AbstractSet[str] | None = None,
) -> list[Problem]:
    """Every problem in every hotline file of ``folder``; never raises for bad files."""
    return _check_folder(folder, known_prompts, prompts_with_audio)[1]


def load_all(
    folder: str | Path,
    known_prompts: AbstractSet[str],
    prompts_with_audio: AbstractSet[str] | None = None,
) -> dict[str, Hotline]:
    """Every hotline of ``folder`` by id; raise :class:`MenuError` if any file has a problem."""
    hotlines, problems = _check_folder(folder, known_prompts, prompts_with_audio)
    if problems:
        raise MenuError(problems)
    return hotlines
