"""The prompt catalogue: prompt id -> text per language, and where its audio is.

``prompts/catalogue.yaml`` maps each prompt id to its text::

    greeting-1111:
      th: สวัสดีค่ะ ...
      en: Hello ...

Audio for ``<id>`` in language ``<lang>`` is a studio recording
``prompts/studio/<lang>/<id>.wav`` when one exists, otherwise the synthesized
``prompts/generated/<lang>/<id>.wav`` (see :mod:`ivr.speech.build`).

Loading reports every problem at once, each as ``file:line: what is wrong —
how to fix`` (:mod:`ivr.problems`), reading the YAML with :mod:`ivr.yamlfile`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from yaml.nodes import MappingNode, Node, ScalarNode

from ivr.problems import AdminError, Problem
from ivr.yamlfile import NULL, STR, NodeReader, line_of, parse_yaml, read_yaml

__all__ = [
    "CATALOGUE_FILE",
    "GENERATED_DIR",
    "LANGS",
    "PROMPT_ID_HELP",
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
#: What a prompt id may be, in the catalogue and wherever a hotline file names
#: one. Ids become audio file names (``<id>.wav``), hence no `_` and no capitals.
PROMPT_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: How to fix an id that ``PROMPT_ID_RE`` refuses.
PROMPT_ID_HELP: Final = (
    "use lowercase letters, digits and dashes, starting with a letter or digit "
    "(e.g. menu-main-1111)"
)


class CatalogueError(AdminError):
    """The catalogue cannot be loaded; ``problems`` holds every reason."""


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


def _parse(root: Node | None, reader: NodeReader) -> dict[str, dict[str, str]]:
    """Every prompt of the catalogue's node tree; problems go to ``reader``."""
    if root is None:
        reader.problem(0, "the catalogue is empty", "add prompts as `<id>: {th: <Thai text>}`")
        return {}
    if not isinstance(root, MappingNode):
        reader.problem(
            line_of(root),
            "the catalogue must be a mapping of prompt id to texts",
            "write one `<id>:` entry per prompt at the top level",
        )
        return {}
    entries: dict[str, dict[str, str]] = {}
    first_seen: dict[str, int] = {}
    for key, value in root.value:
        if not isinstance(key, ScalarNode) or key.tag != STR:
            reader.problem(
                line_of(key), "prompt id must be plain text", "use an id like `greeting-1111`"
            )
            continue
        pid = key.value
        if not PROMPT_ID_RE.match(pid):
            reader.problem(line_of(key), f"bad prompt id {pid!r}", PROMPT_ID_HELP)
            continue
        if pid in first_seen:
            reader.problem(
                line_of(key),
                f"duplicate prompt id {pid!r} (first defined on line {first_seen[pid]})",
                "remove or rename one of them",
            )
            continue
        first_seen[pid] = line_of(key)
        texts = _texts(pid, value, reader)
        if texts is not None:
            entries[pid] = texts
    return entries


def _texts(pid: str, value: Node, reader: NodeReader) -> dict[str, str] | None:
    """The texts of one prompt by language, or None if any is wrong."""
    if not isinstance(value, MappingNode):
        reader.problem(
            line_of(value),
            f"prompt {pid!r} must be a mapping of language to text",
            f"write `{pid}:` then indented `th: <Thai text>` (and optionally `en: ...`)",
        )
        return None
    texts: dict[str, str] = {}
    seen: set[str] = set()
    for lkey, lval in value.value:
        lang = lkey.value if isinstance(lkey, ScalarNode) else None
        if lang is None or lang not in LANGS:
            reader.problem(
                line_of(lkey),
                f"prompt {pid!r}: unknown language key {lang!r}",
                f"use one of {', '.join(LANGS)}",
            )
            continue
        if lang in seen:
            reader.problem(line_of(lkey), f"prompt {pid!r}: {lang!r} given twice", "keep only one")
            continue
        seen.add(lang)
        text = _text(pid, lang, lval, reader)
        if text is not None:
            texts[lang] = text
    if "th" not in seen:
        reader.problem(line_of(value), f"prompt {pid!r} has no Thai text", "add `th: <Thai text>`")
    return texts if "th" in texts and len(texts) == len(seen) else None


def _text(pid: str, lang: str, node: Node, reader: NodeReader) -> str | None:
    """One language's text, whitespace collapsed."""
    if not isinstance(node, ScalarNode):
        reader.problem(
            line_of(node),
            f"prompt {pid!r}: {lang!r} text must be a single string",
            "write the text on one line, or as a quoted or folded (>) string",
        )
        return None
    if node.tag == NULL or (node.tag == STR and not node.value.split()):
        reader.problem(
            line_of(node), f"prompt {pid!r}: empty {lang!r} text", "write the text to speak"
        )
        return None
    if node.tag != STR:
        reader.problem(
            line_of(node),
            f"prompt {pid!r}: {lang!r} text {node.value!r} is not a string",
            "put the text in quotes",
        )
        return None
    return " ".join(node.value.split())


def parse_catalogue(source: str, root: Path, where: str = CATALOGUE_FILE) -> Catalogue:
    """Parse catalogue YAML text; ``where`` names the file in error messages."""
    node, problems = parse_yaml(source, where)
    return _catalogue(node, problems, root, where)


def load_catalogue(root: Path) -> Catalogue:
    """Load ``<root>/catalogue.yaml``; ``root`` is the prompts folder.

    Raises :class:`CatalogueError` with every problem of the file."""
    doc = read_yaml(
        root / CATALOGUE_FILE,
        missing_fix="create it, or point the server at the prompts folder",
    )
    return _catalogue(doc.root, doc.problems, root, doc.file)


def _catalogue(node: Node | None, problems: list[Problem], root: Path, where: str) -> Catalogue:
    if problems:
        raise CatalogueError(problems)
    reader = NodeReader(where)
    entries = _parse(node, reader)
    if reader.problems:
        raise CatalogueError(reader.problems)
    return Catalogue(root=root, entries=entries)
