"""YAML an admin writes, read keeping every line number, and checked against a shape.

One place for what hotline files and the prompt catalogue share:

- :func:`read_yaml` / :func:`parse_yaml`: the file's bytes, UTF-8 and YAML syntax,
  each mistake a :class:`~ivr.problems.Problem` with its line;
- :class:`NodeReader`: typed reads of YAML nodes (mappings with known keys,
  text, numbers, true/false, lists) that record a problem, with its line and
  its fix, instead of raising, so that every problem of a file is reported at
  once. Domain readers (hotline files, the catalogue) build on it.

PyYAML's node tree (``yaml.compose``) is used rather than a schema library:
it keeps the line of every key and value, which the messages need, and the
checks report all problems of a file rather than stopping at the first.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr.problems import Problem

__all__ = [
    "BOOL",
    "FLOAT",
    "INT",
    "NULL",
    "STR",
    "TIMESTAMP",
    "Entry",
    "NodeReader",
    "YamlDoc",
    "did_you_mean",
    "is_null",
    "kind_of",
    "line_of",
    "listing",
    "parse_yaml",
    "read_yaml",
]

STR: Final = "tag:yaml.org,2002:str"
INT: Final = "tag:yaml.org,2002:int"
FLOAT: Final = "tag:yaml.org,2002:float"
BOOL: Final = "tag:yaml.org,2002:bool"
NULL: Final = "tag:yaml.org,2002:null"
TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"

_KINDS: Final = {
    STR: "text",
    INT: "a whole number",
    FLOAT: "a number",
    BOOL: "true/false",
    NULL: "empty",
    TIMESTAMP: "a date",
}


def line_of(node: Node) -> int:
    """The 1-based line a node starts on (0 if unknown)."""
    mark = node.start_mark
    return int(mark.line) + 1 if mark is not None else 0


def kind_of(node: Node) -> str:
    """What a node is, in words an admin reads (``a mapping``, ``text``...)."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _KINDS.get(node.tag, "a value")


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``did you mean `x`?`` for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


def listing(names: Iterable[str]) -> str:
    items = sorted(names)
    return ", ".join(items) if items else "none"


# -- reading ------------------------------------------------------------------


@dataclass
class YamlDoc:
    """A YAML file read: its node tree (None when empty or unreadable), the first
    12 hex digits of the sha256 of its bytes, and the problems met reading it."""

    file: str
    root: Node | None = None
    version: str = ""
    problems: list[Problem] = field(default_factory=list)


def read_yaml(
    path: Path,
    *,
    missing_fix: str = "check the path and permissions",
    point_at_opening: bool = True,
) -> YamlDoc:
    """Read and compose one YAML file; never raises for a bad file."""
    doc = YamlDoc(str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        doc.problems.append(Problem(doc.file, 0, "file not found", missing_fix))
        return doc
    except OSError as e:
        doc.problems.append(
            Problem(
                doc.file,
                0,
                f"cannot read the file ({e.strerror or e})",
                "check the path and permissions",
            )
        )
        return doc
    doc.version = hashlib.sha256(raw).hexdigest()[:12]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        doc.problems.append(
            Problem(doc.file, line, "the file is not UTF-8 text", "save the file as UTF-8")
        )
        return doc
    doc.root, doc.problems = parse_yaml(text, doc.file, point_at_opening=point_at_opening)
    return doc


_TOO_DEEP_FIX = "nest at most a few levels, as the examples do"


def parse_yaml(
    text: str, file: str, *, point_at_opening: bool = True
) -> tuple[Node | None, list[Problem]]:
    """The node tree of YAML ``text`` (None when empty), or the syntax problem.

    When the file ends inside something left open (a quote, a bracket), the
    problem points at the line that opened it if ``point_at_opening``, else
    at the end of the file (the message names both lines).
    """
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), []
    except yaml.MarkedYAMLError as e:
        return None, [_syntax_problem(e, file, point_at_opening)]
    except yaml.YAMLError as e:
        return None, [Problem(file, 0, f"YAML error: {e}", "fix the file's YAML syntax")]
    except RecursionError:  # PyYAML composes recursively: "[[[[…" a thousand deep
        return None, [Problem(file, 0, "lists or maps nested too deeply", _TOO_DEEP_FIX)]


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str, point_at_opening: bool) -> Problem:
    problem, context = exc.problem_mark, exc.context_mark
    mark = problem or context
    at_end = "end of stream" in (exc.problem or "") or "<stream end>" in (exc.problem or "")
    if context is not None and (problem is None or (point_at_opening and at_end)):
        mark = context
    what = exc.problem or "invalid YAML"
    if exc.context:
        opened = f" on line {context.line + 1}" if context is not None else ""
        what += f" ({exc.context}{opened})"
    how = (
        "indent with spaces, not tabs"
        if "'\\t'" in what
        else "check indentation, colons, brackets and quotes on this line and the one "
        'before; quote values holding ": ", "*" or "#"'
    )
    line = mark.line + 1 if mark is not None else 0
    return Problem(file, line, f"YAML syntax error: {what}", how)


# -- typed reads --------------------------------------------------------------


@dataclass
class Entry:
    """One ``key: value`` pair of a mapping, with both nodes."""

    key: str
    key_node: Node
    node: Node

    @property
    def line(self) -> int:
        return line_of(self.key_node)


@dataclass
class NodeReader:
    """Typed reads of one file's nodes; each mistake is added to ``problems``
    and the read returns None, so the caller goes on and finds the others."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def problem(self, line: int, message: str, fix: str = "") -> None:
        self.problems.append(Problem(self.file, line, message, fix))

    def entries(self, node: Node, what: str) -> list[Entry] | None:
        """The key/value pairs of a mapping, duplicates reported and dropped."""
        if not isinstance(node, MappingNode):
            self.problem(
                line_of(node),
                f"{what} must be a mapping, not {kind_of(node)}",
                "write `key: value` lines, indented under it",
            )
            return None
        out: list[Entry] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(
                    line_of(key_node),
                    f"a key in {what} must be text, not {kind_of(key_node)}",
                    "write a plain name before the colon",
                )
                continue
            key = str(key_node.value)
            if key in seen:
                self.problem(
                    line_of(key_node),
                    f"`{key}` is given twice in {what} (first at line {seen[key]})",
                    "keep only one of them",
                )
                continue
            seen[key] = line_of(key_node)
            out.append(Entry(key, key_node, value_node))
        return out

    def fields(
        self, node: Node, what: str, allowed: dict[str, bool], owner_line: int
    ) -> dict[str, Entry] | None:
        """A mapping with known keys (``allowed``: key -> required): unknown keys
        and missing required keys reported, the latter at ``owner_line``."""
        entries = self.entries(node, what)
        if entries is None:
            return None
        out: dict[str, Entry] = {}
        for e in entries:
            if e.key not in allowed:
                hint = did_you_mean(e.key, allowed)
                self.problem(
                    e.line,
                    f"unknown key `{e.key}` in {what}",
                    hint or f"the keys of {what} are: {listing(allowed)}",
                )
                continue
            out[e.key] = e
        line = owner_line or line_of(node)
        for key, required in allowed.items():
            if required and key not in out:
                self.problem(line, f"{what} has no `{key}`", f"add `{key}:` to {what}")
        return out

    def text(self, node: Node, what: str, allow_empty: bool = False) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag not in (STR, INT):
            self.problem(
                line_of(node),
                f"{what} must be text, not {kind_of(node)}",
                "write a single value on the same line (quote it if needed)",
            )
            return None
        value = str(node.value).strip()
        if not value and not allow_empty:
            self.problem(line_of(node), f"{what} is empty", "write a value")
            return None
        return value

    def number(self, node: Node, what: str, lo: float, hi: float) -> float | None:
        if not isinstance(node, ScalarNode) or node.tag not in (INT, FLOAT):
            self.problem(
                line_of(node),
                f"{what} must be a number, not {kind_of(node)}",
                f"write a number of seconds from {lo:g} to {hi:g}, unquoted",
            )
            return None
        value = float(node.value)
        if not lo <= value <= hi:
            self.problem(line_of(node), f"{what} is {node.value}", f"use {lo:g} to {hi:g}")
            return None
        return value

    def integer(self, node: Node, what: str, lo: int, hi: int) -> int | None:
        if not isinstance(node, ScalarNode) or node.tag != INT:
            self.problem(
                line_of(node),
                f"{what} must be a whole number, not {kind_of(node)}",
                f"write a whole number from {lo} to {hi}, unquoted",
            )
            return None
        value = int(node.value)
        if not lo <= value <= hi:
            self.problem(line_of(node), f"{what} is {value}", f"use {lo} to {hi}")
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        if not isinstance(node, ScalarNode) or node.tag != BOOL:
            self.problem(
                line_of(node),
                f"{what} must be true or false, not {kind_of(node)}",
                "write true or false, unquoted",
            )
            return None
        return str(node.value).lower() in ("true", "yes", "on", "y")

    def items(self, node: Node, what: str) -> list[Node] | None:
        """A list, or a single value taken as a list of one."""
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode) and node.tag != NULL:
            return [node]
        if is_null(node):
            return []
        self.problem(
            line_of(node),
            f"{what} must be a list, not {kind_of(node)}",
            "write [a, b] or one `- item` line per item",
        )
        return None
