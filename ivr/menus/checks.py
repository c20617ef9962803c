"""What a hotline file's values mean: the checks that need more than one value.

Prompts exist in the catalogue (and, when known, have recorded audio); menus,
queues, transfers and languages an action names are declared in the file;
menus can be reached from the start menu; queue, transfer and language
declarations are valid. :class:`HotlineCheck` holds what the file declared so
far and the problems found, each with its line. The ``hours:`` section is
checked in :mod:`ivr.menus.hours_checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from yaml.nodes import Node

from ivr.menus.model import LANGUAGES, GoMenu, Menu, QueueDef
from ivr.menus.schema import ID_RE, NUMBER_RE, QUEUE_KEYS, ShapeReader
from ivr.speech.catalogue import PROMPT_ID_HELP, PROMPT_ID_RE
from ivr.yamlfile import Entry, did_you_mean, is_null, line_of, listing


@dataclass
class HotlineCheck(ShapeReader):
    """The checks of one hotline file: what it declares, and every prompt it uses."""

    known_prompts: AbstractSet[str] = frozenset()
    prompts_with_audio: AbstractSet[str] | None = None
    prompt_refs: list[tuple[str, int]] = field(default_factory=list)
    languages: tuple[str, ...] = ("th",)
    queues: dict[str, QueueDef] | None = None
    transfers: dict[str, str] | None = None
    menu_ids: set[str] | None = None

    def prompt(self, node: Node, what: str) -> str | None:
        """A prompt id, remembered so that :func:`check_prompts` checks it exists."""
        value = self.text(node, what)
        if value is None:
            return None
        if not PROMPT_ID_RE.match(value):
            self.problem(line_of(node), f"{what} `{value}` is not a prompt id", PROMPT_ID_HELP)
            return None
        self.prompt_refs.append((value, line_of(node)))
        return value

    def uses_prompt(self, prompt: str, line: int) -> None:
        """A prompt the file uses without naming it (a default), at ``line``."""
        self.prompt_refs.append((prompt, line))

    # -- what actions name --------------------------------------------------

    def menu_target(self, target: Entry, what: str) -> str | None:
        menu = self.ident(target.node, f"{what}: menu")
        if menu is None:
            return None
        if self.menu_ids is not None and menu not in self.menu_ids:
            self.problem(
                target.line,
                f"{what}: menu `{menu}` is not defined",
                did_you_mean(menu, self.menu_ids)
                or f"define it under `menus:` (defined: {listing(self.menu_ids)})",
            )
            return None
        return menu

    def language_target(self, target: Entry, what: str) -> str | None:
        lang = self.text(target.node, f"{what}: language")
        if lang is None:
            return None
        if lang not in self.languages:
            self.problem(
                target.line,
                f"{what}: language `{lang}` is not one of this hotline's languages "
                f"({', '.join(self.languages)})",
                f"add it to `languages:` (available: {', '.join(LANGUAGES)})",
            )
            return None
        return lang

    def queue_target(self, target: Entry, what: str) -> tuple[str, QueueDef | None] | None:
        """The queue an action names and its declaration (None before `queues:` is read)."""
        queue = self.ident(target.node, f"{what}: queue")
        if queue is None:
            return None
        if self.queues is None:
            return queue, None
        declared = self.queues.get(queue)
        if declared is None:
            self.problem(
                target.line,
                f"{what}: queue `{queue}` is not declared in `queues:`",
                did_you_mean(queue, self.queues)
                or f"add it under `queues:` (declared: {listing(self.queues)})",
            )
            return None
        return queue, declared

    def transfer_target(self, target: Entry, what: str) -> tuple[str, str] | None:
        """(the name or number an action names, the number it dials)."""
        name = self.text(target.node, f"{what}: transfer")
        if name is None:
            return None
        if NUMBER_RE.match(name):
            return name, name
        if self.transfers is not None and name in self.transfers:
            return name, self.transfers[name]
        if self.transfers is None and ID_RE.match(name):
            return name, ""
        self.problem(
            target.line,
            f"{what}: transfer `{name}` is not declared in `transfers:`",
            did_you_mean(name, self.transfers or ())
            or "add it under `transfers:` (name: number) or write the number",
        )
        return None

    # -- declarations -------------------------------------------------------

    def queue_defs(self, entry: Entry) -> dict[str, QueueDef] | None:
        entries = self.entries(entry.node, "queues")
        if entries is None:
            return None
        out: dict[str, QueueDef] = {}
        ok = True
        for e in entries:
            if not ID_RE.match(e.key):
                self.problem(
                    e.line,
                    f"queue name `{e.key}` is not valid",
                    "use letters, digits, `-` and `_` only (the name in queues.conf)",
                )
                ok = False
                continue
            topic = label = ""
            if not is_null(e.node):
                f = self.fields(e.node, f"queue `{e.key}`", QUEUE_KEYS, e.line)
                if f is None:
                    ok = False
                    continue
                if "topic" in f:
                    topic = self.text(f["topic"].node, f"queue `{e.key}`: topic") or ""
                if "label" in f:
                    label = self.text(f["label"].node, f"queue `{e.key}`: label") or ""
            out[e.key] = QueueDef(e.key, topic, label, line=e.line)
        if not out and ok:
            self.problem(entry.line, "no queues are declared", "declare at least `operator:`")
        return out if ok else None

    def transfer_defs(self, entry: Entry) -> dict[str, str] | None:
        entries = self.entries(entry.node, "transfers")
        if entries is None:
            return None
        out: dict[str, str] = {}
        ok = True
        for e in entries:
            if not ID_RE.match(e.key) or NUMBER_RE.match(e.key):
                self.problem(
                    e.line,
                    f"transfer name `{e.key}` is not valid",
                    "use a name with letters (e.g. police); write numbers as values",
                )
                ok = False
                continue
            number = self.text(e.node, f"transfer `{e.key}`")
            if number is None:
                ok = False
                continue
            if not NUMBER_RE.match(number):
                self.problem(
                    line_of(e.node),
                    f"transfer `{e.key}`: `{number}` is not a dialable number",
                    'write digits only, quoted, e.g. "191"',
                )
                ok = False
                continue
            out[e.key] = number
        return out if ok else None

    def language_list(self, entry: Entry) -> tuple[str, ...] | None:
        nodes = self.items(entry.node, "languages")
        if nodes is None:
            return None
        out: list[str] = []
        for n in nodes:
            lang = self.text(n, "languages")
            if lang is None:
                return None
            if lang not in LANGUAGES:
                self.problem(
                    line_of(n),
                    f"language `{lang}` has no recorded prompts",
                    f"use {' or '.join(LANGUAGES)}",
                )
                return None
            if lang in out:
                self.problem(line_of(n), f"language `{lang}` is listed twice", "list it once")
                return None
            out.append(lang)
        if not out:
            self.problem(entry.line, "languages is empty", "write [th] or [th, en]")
            return None
        return tuple(out)


def reachable(start: str, menus: Mapping[str, Menu]) -> set[str]:
    """The ids of the menus a caller can reach from ``start``."""
    seen = {start}
    todo = [start]
    while todo:
        menu = menus.get(todo.pop())
        if menu is None:
            continue
        for action in menu.options.values():
            if isinstance(action, GoMenu) and action.menu not in seen:
                seen.add(action.menu)
                todo.append(action.menu)
    return seen


def check_prompts(c: HotlineCheck) -> None:
    """Every prompt the file uses is in the catalogue and, when known, recorded;
    each reported once, at the first line that uses it."""
    first: dict[str, int] = {}
    for prompt, line in c.prompt_refs:
        if prompt not in first or line < first[prompt]:
            first[prompt] = line
    for prompt, line in sorted(first.items(), key=lambda kv: (kv[1], kv[0])):
        if prompt not in c.known_prompts:
            c.problem(
                line,
                f"prompt `{prompt}` is not in the prompt catalogue",
                did_you_mean(prompt, c.known_prompts)
                or "add it to the prompt catalogue (id and Thai text), or correct the id",
            )
        elif c.prompts_with_audio is not None and prompt not in c.prompts_with_audio:
            c.problem(
                line,
                f"prompt `{prompt}` has no recorded audio",
                f"record sounds/<lang>/ivr/{prompt}.wav for each language of the hotline",
            )
