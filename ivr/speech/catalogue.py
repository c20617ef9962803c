"""The prompt catalogue: prompt id -> text per language, and where its audio is.

``prompts/catalogue.yaml`` maps each prompt id to its text::

    greeting-1111:
      th: สวัสดีค่ะ ...
      en: Hello ...

Audio for ``<id>`` in language ``<lang>`` is a studio recording
``prompts/studio/<lang>/<id>.wav`` when one exists, otherwise the synthesized
``prompts/generated/<lang>/<id>.wav`` (see :mod:`ivr.speech.build`).

Loading reports every problem as ``file:line: what is wrong — how to fix``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

import yaml

__all__ = [
    "CATALOGUE_FILE",
    "GENERATED_DIR",
    "LANGS",
    "PROMPT_ID_RE",
    "STUDIO_DIR",
    "Catalogue",
    "CatalogueError",
    "load_catalogue",
    "parse_catalogue",
    "resolve_audio",
]

CATALOGUE_FILE: Final = "catalogue.yaml"
STUDIO_DIR: Final = "studio"
GENERATED_DIR: Final = "generated"
#: Languages a prompt may have text for; Thai is required.
LANGS: Final = ("th", "en")
PROMPT_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]*$")

_STR_TAG: Final = "tag:yaml.org,2002:str"
_NULL_TAG: Final = "tag:yaml.org,2002:null"


class CatalogueError(Exception):
    """The catalogue cannot be loaded; the message lists every problem, one a line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def resolve_audio(root: Path, prompt_id: str, lang: str) -> Path | None:
    """Audio for a prompt under ``root`` (the prompts folder): studio wins over generated."""
    for sub in (STUDIO_DIR, GENERATED_DIR):
        path = root / sub / lang / f"{prompt_id}.wav"
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class Catalogue:
    """Loaded prompt texts; ``root`` is the prompts folder the audio lives under."""

    root: Path
    entries: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = {k: MappingProxyType(dict(v)) for k, v in self.entries.items()}
        object.__setattr__(self, "entries", MappingProxyType(frozen))

    @property
    def ids(self) -> tuple[str, ...]:
        """Every prompt id, in file order."""
        return tuple(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self.entries

    def has(self, prompt_id: str, lang: str | None = None) -> bool:
        """Whether the id exists (and, when ``lang`` is given, has text in that language)."""
        texts = self.entries.get(prompt_id)
        return texts is not None and (lang is None or lang in texts)

    def text(self, prompt_id: str, lang: str = "th") -> str:
        """The prompt's text; :class:`KeyError` for an unknown id or a missing language."""
        texts = self.entries.get(prompt_id)
        if texts is None:
            raise KeyError(f"unknown prompt id {prompt_id!r}")
        try:
            return texts[lang]
        except KeyError:
            raise KeyError(f"prompt {prompt_id!r} has no {lang!r} text") from None

    def texts(self, prompt_id: str) -> Mapping[str, str]:
        """All texts of a prompt, by language."""
        try:
            return self.entries[prompt_id]
        except KeyError:
            raise KeyError(f"unknown prompt id {prompt_id!r}") from None

    def audio_path(self, prompt_id: str, lang: str = "th") -> Path | None:
        """The studio recording if there is one, else the generated audio, else ``None``."""
        return resolve_audio(self.root, prompt_id, lang)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _syntax_problem(exc: yaml.MarkedYAMLError, where: str) -> str:
    problem, context = exc.problem_mark, exc.context_mark
    mark = problem or context
    # At the end of the file the place the construct was opened is more useful.
    if context is not None and (
        problem is None
        or "end of stream" in (exc.problem or "")
        or "<stream end>" in (exc.problem or "")
    ):
        mark = context
    what = exc.problem or "invalid YAML"
    if exc.context:
        opened = f" on line {context.line + 1}" if context is not None else ""
        what += f" ({exc.context}{opened})"
    loc = f"{where}:{mark.line + 1}" if mark is not None else where
    how = (
        "indent with spaces, not tabs"
        if "'\\t'" in what
        else "check indentation, colons, brackets and quotes on this line and the one before"
    )
    return f"{loc}: YAML syntax error: {what} — {how}"


def _parse(source: str, where: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    problems: list[str] = []

    def bad(node: yaml.Node | None, what: str, how: str) -> None:
        loc = f"{where}:{_line(node)}" if node is not None else where
        problems.append(f"{loc}: {what} — {how}")

    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(exc, where))
        return {}, problems
    except yaml.YAMLError as exc:
        problems.append(f"{where}: YAML error: {exc} — fix the file's YAML syntax")
        return {}, problems

    if root is None:
        bad(None, "the catalogue is empty", "add prompts as `<id>: {th: <Thai text>}`")
        return {}, problems
    if not isinstance(root, yaml.MappingNode):
        bad(
            root,
            "the catalogue must be a mapping of prompt id to texts",
            "write one `<id>:` entry per prompt at the top level",
        )
        return {}, problems

    entries: dict[str, dict[str, str]] = {}
    first_seen: dict[str, int] = {}
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag != _STR_TAG:
            bad(key, "prompt id must be plain text", "use an id like `greeting-1111`")
            continue
        pid = key.value
        if not PROMPT_ID_RE.match(pid):
            bad(
                key,
                f"bad prompt id {pid!r}",
                "use lowercase letters, digits and dashes, starting with a letter or digit",
            )
            continue
        if pid in first_seen:
            bad(
                key,
                f"duplicate prompt id {pid!r} (first defined on line {first_seen[pid]})",
                "remove or rename one of them",
            )
            continue
        first_seen[pid] = _line(key)
        if not isinstance(value, yaml.MappingNode):
            bad(
                value,
                f"prompt {pid!r} must be a mapping of language to text",
                f"write `{pid}:` then indented `th: <Thai text>` (and optionally `en: ...`)",
            )
            continue
        texts: dict[str, str] = {}
        seen: set[str] = set()
        for lkey, lval in value.value:
            lang = lkey.value if isinstance(lkey, yaml.ScalarNode) else None
            if lang is None or lang not in LANGS:
                bad(
                    lkey,
                    f"prompt {pid!r}: unknown language key {lang!r}",
                    f"use one of {', '.join(LANGS)}",
                )
                continue
            if lang in seen:
                bad(lkey, f"prompt {pid!r}: {lang!r} given twice", "keep only one")
                continue
            seen.add(lang)
            if not isinstance(lval, yaml.ScalarNode):
                bad(
                    lval,
                    f"prompt {pid!r}: {lang!r} text must be a single string",
                    "write the text on one line, or as a quoted or folded (>) string",
                )
                continue
            if lval.tag == _NULL_TAG:
                bad(lval, f"prompt {pid!r}: empty {lang!r} text", "write the text to speak")
                continue
            if lval.tag != _STR_TAG:
                bad(
                    lval,
                    f"prompt {pid!r}: {lang!r} text {lval.value!r} is not a string",
                    "put the text in quotes",
                )
                continue
            text = " ".join(lval.value.split())
            if not text:
                bad(lval, f"prompt {pid!r}: empty {lang!r} text", "write the text to speak")
                continue
            texts[lang] = text
        if "th" not in seen:
            bad(value, f"prompt {pid!r} has no Thai text", "add `th: <Thai text>`")
        if "th" in texts and len(texts) == len(seen):
            entries[pid] = texts
    return entries, problems


def parse_catalogue(source: str, root: Path, where: str = CATALOGUE_FILE) -> Catalogue:
    """Parse catalogue YAML text; ``where`` names the file in error messages."""
    entries, problems = _parse(source, where)
    if problems:
        raise CatalogueError(problems)
    return Catalogue(root=root, entries=entries)


def load_catalogue(root: Path) -> Catalogue:
    """Load ``<root>/catalogue.yaml``; ``root`` is the prompts folder."""
    path = root / CATALOGUE_FILE
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(
            [f"{path}: file not found — create it, or point the server at the prompts folder"]
        ) from None
    except UnicodeDecodeError as exc:
        raise CatalogueError(
            [f"{path}: not valid UTF-8 ({exc.reason}) — save the file as UTF-8"]
        ) from None
    except OSError as exc:
        raise CatalogueError(
            [f"{path}: cannot read ({exc.strerror}) — check permissions"]
        ) from None
    return parse_catalogue(source, root, where=str(path))
