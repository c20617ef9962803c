"""The package's layers, checked on its source: a lower layer never imports a higher one,
``queues/`` and ``callbacks/`` never import each other, the server never imports the
development tools, and no module grows past its size without saying why.

The layers, bottom to top (README: "How a call flows through the code"):
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "ivr"

# rank of each top-level module or package of ivr/; an import must go to a lower rank
# (or stay inside its own package)
LAYERS: dict[str, int] = {
    # foundation: no I/O of their own beyond logging and reading a file
    "log": 0, "problems": 0, "privacy": 0, "phones": 0,
    "tasks": 1, "yamlfile": 1, "trace": 1, "config": 1, "config_checks": 2,
    "config_redis": 2,
    # protocols: FastAGI and AMI (parsers pure, sockets at the edge)
    "agi": 2, "ami": 2,
    # pure cores
    "speech": 3, "menus": 4, "queues": 5, "callbacks": 5,
    # edges: Redis repositories, hotline files
    "store": 6, "hotlines": 6,
    # features over several cores, then call controllers, then HTTP
    "lineup": 7, "history": 7, "probes": 7, "reports": 7, "doctor": 7, "calls": 8, "api": 9,
    "metrics": 9,
    # wiring and commands
    "app": 10, "cli_tokens": 10, "cli_history": 10, "cli_report": 10, "cli_doctor": 10,
    "sandbox": 10,
    "cli": 11, "__main__": 12,
    # several Asterisk nodes: their settings (foundation), one node's parts (wiring)
    "config_nodes": 2, "app_node": 9,
}  # fmt: skip

# Modules over this many lines (or functions over FUNCTION_LINES) say why in their
# opening docstring, with the words "one piece".
MODULE_LINES = 400
FUNCTION_LINES = 60


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        yield ".".join(rel.parts), path


def top(dotted: str) -> str:
    return dotted.split(".")[0]


def ivr_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module below ``ivr.``) for every import of the package."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ivr":
                for alias in node.names:
                    yield node.lineno, alias.name
            elif node.module.startswith("ivr."):
                yield node.lineno, node.module.removeprefix("ivr.")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ivr."):
                    yield node.lineno, alias.name.removeprefix("ivr.")


def test_every_module_has_a_layer() -> None:
    missing = sorted({top(name) for name, _ in modules()} - set(LAYERS) - {"__init__"})
    assert not missing, f"give {missing} a rank in LAYERS (and the README's picture)"


def test_no_import_goes_up_a_layer() -> None:
    wrong = []
    for name, path in modules():
        here = top(name)
        if here == "__init__":
            continue
        for line, target in ivr_imports(path):
            there = top(target)
            if there != here and LAYERS[there] >= LAYERS[here]:
                wrong.append(f"ivr/{path.relative_to(PACKAGE)}:{line}: {here} imports {there}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("a", "b"), [("queues", "callbacks"), ("callbacks", "queues")])
def test_queues_and_callbacks_never_import_each_other(a: str, b: str) -> None:
    found = [
        f"{name}:{line}"
        for name, path in modules()
        if top(name) == a
        for line, target in ivr_imports(path)
        if top(target) == b
    ]
    assert not found


def test_the_server_never_imports_the_development_tools() -> None:
    found = [
        f"{name}:{line}"
        for name, path in modules()
        if top(name) not in ("sandbox", "cli")
        for line, target in ivr_imports(path)
        if top(target) == "sandbox"
    ]
    assert not found


def _says_why(path: Path) -> bool:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return "one piece" in doc


def test_big_modules_say_why_they_are_one_piece() -> None:
    big = [
        f"ivr/{path.relative_to(PACKAGE)}: {n} lines"
        for _, path in modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES
        and not _says_why(path)
    ]
    assert not big, "split these, or say in the opening docstring why each is one piece"


def test_long_functions_say_why() -> None:
    long = []
    for _, path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            doc = ast.get_docstring(node) or ""
            if length > FUNCTION_LINES and "one piece" not in doc:
                long.append(f"ivr/{path.relative_to(PACKAGE)}:{node.lineno}: {node.name}")
    assert not long, "split these, or say in the docstring why each is one piece"
