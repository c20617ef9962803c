"""Hotline files: load them, check them, and say exactly what is wrong and where.

A telephony admin describes each hotline in one YAML file,
``dialplans/hotlines/<hotline>.yaml``. ``ivr check`` and every (re)load run
the checks below; a file with any problem is not loaded, and each problem is
reported as ``file:line: what is wrong — how to fix it``.

Schema
------
::

    hotline: "1111"               # required; the number dialled, equal to the file name
    name_th: ศูนย์บริการข้อมูลภาครัฐ  # required
    name_en: Government Contact Center
    languages: [th, en]           # default [th]; the first is the call's starting language
    default_queue: operator       # required; a queue from `queues:`
    greeting: greeting-1111       # required; prompt id, any key interrupts it
    emergency: null               # prompt id played first to every caller, not interruptible
    start: main                   # the first menu (default: main)

    hours:                        # optional; without it the hotline is always open
      always_open: false          # true: ignore everything below
      timezone: Asia/Bangkok      # default
      holidays: thai              # thai (default): closed on Thai public holidays; none
      weekly:                     # mon tue wed thu fri sat sun, or a range such as mon-fri
        mon-fri: "08:30-16:30"    # one window, or a list: ["08:30-12:00", "13:00-16:30"]
      closed_dates: ["2026-12-31"]      # extra days off
      open_dates:                       # extra open days, even on a holiday
        - "2026-12-12 09:00-12:00"      # with its hours
        - "2026-04-13"                  # with that weekday's usual hours

    closed:                       # required unless the hotline is always open
      prompt: closed-1111         # the hours and another way to get help
      holiday_prompt: holiday-closed    # optional; played first on a public holiday
      then: goodbye               # goodbye (default), {queue: ...} or {transfer: ...}

    queues:                       # required; every queue this hotline may hand calls to
      operator: {topic: operator, label: เจ้าหน้าที่}
      complaint: {topic: complaint}     # topic and label are optional
    transfers:                    # optional; name: dialable number
      police: "191"

    defaults:                     # optional; a menu's own values win
      timeout: 5                  # seconds to wait for a key after the menu prompt (1-60)
      retries: 3                  # replays after a timeout or a wrong key (0-10)
      repeat_key: "9"             # the key that replays the menu; null for none
      on_fail: {queue: operator, prompt: transfer-to-operator}

    menus:                        # required; menu id: menu
      main:
        prompt: menu-main-1111    # required
        options:                  # required; key: action
          "1": {info: info-services-1111}
          "2": {queue: complaint, topic: complaint}
          "3": {menu: track}
          "8": {language: en}
        # timeout, retries, repeat_key, on_fail: as in `defaults:`
      track:
        prompt: menu-track-1111
        options:
          "1": {queue: complaint, topic: track-complaint}
          "*": back

Actions (an option, ``on_fail`` or ``closed.then``):

- ``{menu: <menu id>}`` enter a submenu;
- ``{info: <prompt id>}`` play an information page, then the same menu again;
- ``{queue: <queue>, topic: <text>, prompt: <prompt id>}`` hand the call to a
  queue; ``topic`` defaults to the queue's topic, ``prompt`` to
  ``transfer-to-queue``;
- ``{transfer: <transfer name or number>, prompt: <prompt id>}`` hand the call
  to a number; ``prompt`` defaults to ``transfer-number``;
- ``goodbye`` or ``{goodbye: <prompt id>}`` say goodbye (default prompt
  ``goodbye``) and hang up;
- ``{language: en}`` switch the call's language and replay the menu;
- ``back`` go back to the previous menu; ``repeat`` replay the menu.

``on_fail`` and ``closed.then`` must end the menu (queue, transfer, goodbye).
The default ``on_fail`` is the ``default_queue`` announced with
``transfer-to-operator``.

Keys: an option is one key ``0``-``9``, ``*`` or ``#``; quote ``"*"`` and
``"#"`` (YAML reads them otherwise as an alias and a comment). ``*`` always
goes back in a submenu, so there it may only be written as ``"*": back``. In
the start menu there is nothing to go back to: ``*`` is free for an option,
and when unused it replays the menu. The repeat key may not also be an
option, unless that option is ``repeat``.

Checks: YAML syntax; unknown keys (with the closest known key) and wrong
types; missing required keys; menus, queues, transfers and languages that
are not declared; menus that cannot be reached from the start menu; a key
given twice in one menu; invalid keys and clashes with ``*`` or the repeat
key; business hours (window syntax, end after start, overlaps, dates); the
hotline id against the file name, and across files; every prompt id against
the prompt catalogue and, when known, the recorded audio.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ivr.menus.hours import (
    BANGKOK,
    DAY_NAMES,
    BusinessHours,
    HolidayRule,
    HoursError,
    Window,
    check_overlaps,
)
from ivr.menus.model import (
    BACK_KEY,
    GOODBYE,
    INVALID_OPTION,
    KEYS,
    LANGUAGES,
    NO_INPUT,
    TRANSFER_NUMBER,
    TRANSFER_TO_OPERATOR,
    TRANSFER_TO_QUEUE,
    Action,
    Back,
    ClosedPolicy,
    FinalAction,
    GoMenu,
    Goodbye,
    Hotline,
    Menu,
    PlayInfo,
    QueueDef,
    Repeat,
    SetLanguage,
    ToQueue,
    Transfer,
)

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_RETRIES = 3
DEFAULT_REPEAT_KEY = "9"

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_PROMPT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_NUMBER_RE = re.compile(r"^\+?[0-9]+$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

_ROOT_KEYS = {
    "hotline": True,
    "name_th": True,
    "name_en": False,
    "languages": False,
    "default_queue": True,
    "greeting": True,
    "emergency": False,
    "start": False,
    "hours": False,
    "closed": False,
    "queues": True,
    "transfers": False,
    "defaults": False,
    "menus": True,
}
_HOURS_KEYS = dict.fromkeys(
    ("always_open", "timezone", "holidays", "weekly", "closed_dates", "open_dates"), False
)
_CLOSED_KEYS = {"prompt": True, "holiday_prompt": False, "then": False}
_QUEUE_KEYS = {"topic": False, "label": False}
_DEFAULTS_KEYS = dict.fromkeys(("timeout", "retries", "repeat_key", "on_fail"), False)
_MENU_KEYS = {
    "prompt": True,
    "options": True,
    "timeout": False,
    "retries": False,
    "repeat_key": False,
    "on_fail": False,
}
_ACTION_KINDS = ("menu", "info", "queue", "transfer", "goodbye", "language")
_ACTION_KEYS = dict.fromkeys((*_ACTION_KINDS, "topic", "prompt"), False)
_SCALAR_ACTIONS = ("back", "repeat", "goodbye")
_ACTIONS_HELP = (
    "use back, repeat, goodbye, or one of {menu: <id>}, {info: <prompt>}, "
    "{queue: <queue>}, {transfer: <name or number>}, {goodbye: <prompt>}, {language: en}"
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a hotline file; ``line`` is 1-based, 0 for the whole file."""

    file: str
    line: int
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" + (f" — {self.fix}" if self.fix else "")


class MenuError(Exception):
    """Hotline files that cannot be loaded; ``problems`` says every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _line(node: Node) -> int:
    mark = node.start_mark
    return int(mark.line) + 1 if mark is not None else 0


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {
        _STR: "text",
        _INT: "a whole number",
        _FLOAT: "a number",
        _BOOL: "true/false",
        _NULL: "empty",
        _TIMESTAMP: "a date",
    }.get(node.tag, "a value")


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


def _listing(names: Iterable[str]) -> str:
    items = sorted(names)
    return ", ".join(items) if items else "none"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


@dataclass
class _Entry:
    key: str
    key_node: Node
    node: Node

    @property
    def line(self) -> int:
        return _line(self.key_node)


@dataclass
class _FileCheck:
    """The checks of one file; problems accumulate in ``problems``."""

    file: str
    known_prompts: AbstractSet[str]
    prompts_with_audio: AbstractSet[str] | None
    problems: list[Problem] = field(default_factory=list)
    prompt_refs: list[tuple[str, int]] = field(default_factory=list)
    languages: tuple[str, ...] = ("th",)
    queues: dict[str, QueueDef] | None = None
    transfers: dict[str, str] | None = None
    menu_ids: set[str] | None = None

    def problem(self, line: int, message: str, fix: str = "") -> None:
        self.problems.append(Problem(self.file, line, message, fix))

    # -- structure ---------------------------------------------------------

    def entries(self, node: Node, what: str) -> list[_Entry] | None:
        """The key/value pairs of a mapping, duplicates reported and dropped."""
        if not isinstance(node, MappingNode):
            self.problem(
                _line(node),
                f"{what} must be a mapping, not {_kind(node)}",
                "write `key: value` lines, indented under it",
            )
            return None
        out: list[_Entry] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(
                    _line(key_node),
                    f"a key in {what} must be text, not {_kind(key_node)}",
                    "write a plain name before the colon",
                )
                continue
            key = str(key_node.value)
            if key in seen:
                self.problem(
                    _line(key_node),
                    f"`{key}` is given twice in {what} (first at line {seen[key]})",
                    "keep only one of them",
                )
                continue
            seen[key] = _line(key_node)
            out.append(_Entry(key, key_node, value_node))
        return out

    def fields(
        self, node: Node, what: str, allowed: dict[str, bool], owner_line: int
    ) -> dict[str, _Entry] | None:
        """A mapping with known keys: unknown keys and missing required keys reported."""
        entries = self.entries(node, what)
        if entries is None:
            return None
        out: dict[str, _Entry] = {}
        for e in entries:
            if e.key not in allowed:
                hint = _did_you_mean(e.key, allowed)
                self.problem(
                    e.line,
                    f"unknown key `{e.key}` in {what}",
                    hint or f"the keys of {what} are: {_listing(allowed)}",
                )
                continue
            out[e.key] = e
        line = owner_line or _line(node)
        for key, required in allowed.items():
            if required and key not in out:
                self.problem(line, f"{what} has no `{key}`", f"add `{key}:` to {what}")
        return out

    # -- scalars -----------------------------------------------------------

    def text(self, node: Node, what: str, allow_empty: bool = False) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag not in (_STR, _INT):
            self.problem(
                _line(node),
                f"{what} must be text, not {_kind(node)}",
                "write a single value on the same line (quote it if needed)",
            )
            return None
        value = str(node.value).strip()
        if not value and not allow_empty:
            self.problem(_line(node), f"{what} is empty", "write a value")
            return None
        return value

    def ident(self, node: Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is not None and not _ID_RE.match(value):
            self.problem(
                _line(node),
                f"{what} `{value}` is not a valid name",
                "use letters, digits, `-` and `_` only",
            )
            return None
        return value

    def prompt(self, node: Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        if not _PROMPT_RE.match(value):
            self.problem(
                _line(node),
                f"{what} `{value}` is not a prompt id",
                "a prompt id uses lower-case letters, digits, `-` and `_` (e.g. menu-main-1111)",
            )
            return None
        self.prompt_refs.append((value, _line(node)))
        return value

    def number(self, node: Node, what: str, lo: float, hi: float) -> float | None:
        if not isinstance(node, ScalarNode) or node.tag not in (_INT, _FLOAT):
            self.problem(
                _line(node),
                f"{what} must be a number, not {_kind(node)}",
                f"write a number of seconds from {lo:g} to {hi:g}, unquoted",
            )
            return None
        value = float(node.value)
        if not lo <= value <= hi:
            self.problem(_line(node), f"{what} is {node.value}", f"use {lo:g} to {hi:g}")
            return None
        return value

    def integer(self, node: Node, what: str, lo: int, hi: int) -> int | None:
        if not isinstance(node, ScalarNode) or node.tag != _INT:
            self.problem(
                _line(node),
                f"{what} must be a whole number, not {_kind(node)}",
                f"write a whole number from {lo} to {hi}, unquoted",
            )
            return None
        value = int(node.value)
        if not lo <= value <= hi:
            self.problem(_line(node), f"{what} is {value}", f"use {lo} to {hi}")
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            self.problem(
                _line(node),
                f"{what} must be true or false, not {_kind(node)}",
                "write true or false, unquoted",
            )
            return None
        return str(node.value).lower() in ("true", "yes", "on", "y")

    def key(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag not in (_STR, _INT):
            self.problem(
                _line(node),
                f"{what} must be a key, not {_kind(node)}",
                'use one key: 0-9, "*" or "#" (quoted)',
            )
            return None
        value = str(node.value)
        if len(value) != 1 or value not in KEYS:
            self.problem(
                _line(node),
                f"{what} `{value}` is not a phone key",
                'use one key: 0-9, "*" or "#" (quoted)',
            )
            return None
        return value

    def items(self, node: Node, what: str) -> list[Node] | None:
        """A list, or a single value taken as a list of one."""
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode) and node.tag != _NULL:
            return [node]
        if _is_null(node):
            return []
        self.problem(
            _line(node),
            f"{what} must be a list, not {_kind(node)}",
            "write [a, b] or one `- item` line per item",
        )
        return None

    # -- actions -----------------------------------------------------------

    def action(self, node: Node, what: str) -> Action | None:
        line = _line(node)
        if isinstance(node, ScalarNode) and node.tag == _STR:
            word = str(node.value).strip()
            if word == "back":
                return Back(line=line)
            if word == "repeat":
                return Repeat(line=line)
            if word == "goodbye":
                self.prompt_refs.append((GOODBYE, line))
                return Goodbye(GOODBYE, line=line)
            hint = _did_you_mean(word, (*_SCALAR_ACTIONS, *_ACTION_KINDS))
            self.problem(line, f"{what}: unknown action `{word}`", hint or _ACTIONS_HELP)
            return None
        if not isinstance(node, MappingNode):
            self.problem(line, f"{what} must be an action, not {_kind(node)}", _ACTIONS_HELP)
            return None
        f = self.fields(node, what, _ACTION_KEYS, line)
        if f is None:
            return None
        kinds = [k for k in _ACTION_KINDS if k in f]
        if len(kinds) != 1:
            self.problem(
                line,
                f"{what} must have exactly one action, has "
                + (" and ".join(f"`{k}`" for k in kinds) if kinds else "none"),
                _ACTIONS_HELP,
            )
            return None
        kind = kinds[0]
        for extra, fits in (("topic", ("queue",)), ("prompt", ("queue", "transfer"))):
            if extra in f and kind not in fits:
                self.problem(
                    f[extra].line,
                    f"`{extra}` does not apply to a `{kind}` action",
                    f"remove `{extra}:` (it goes with {' or '.join(fits)})",
                )
                return None
        target = f[kind]
        if kind == "menu":
            menu = self.ident(target.node, f"{what}: menu")
            if menu is None:
                return None
            if self.menu_ids is not None and menu not in self.menu_ids:
                self.problem(
                    target.line,
                    f"{what}: menu `{menu}` is not defined",
                    _did_you_mean(menu, self.menu_ids)
                    or f"define it under `menus:` (defined: {_listing(self.menu_ids)})",
                )
                return None
            return GoMenu(menu, line=line)
        if kind == "info":
            page = self.prompt(target.node, f"{what}: info")
            return None if page is None else PlayInfo(page, line=line)
        if kind == "goodbye":
            bye = self.prompt(target.node, f"{what}: goodbye")
            return None if bye is None else Goodbye(bye, line=line)
        if kind == "language":
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
            return SetLanguage(lang, line=line)
        prompt_entry = f.get("prompt")
        prompt: str | None
        if kind == "queue":
            queue = self.ident(target.node, f"{what}: queue")
            if queue is None:
                return None
            declared = None
            if self.queues is not None:
                declared = self.queues.get(queue)
                if declared is None:
                    self.problem(
                        target.line,
                        f"{what}: queue `{queue}` is not declared in `queues:`",
                        _did_you_mean(queue, self.queues)
                        or f"add it under `queues:` (declared: {_listing(self.queues)})",
                    )
                    return None
            topic = declared.topic if declared else ""
            if "topic" in f:
                given = self.text(f["topic"].node, f"{what}: topic")
                if given is None:
                    return None
                topic = given
            prompt = TRANSFER_TO_QUEUE
            if prompt_entry is not None:
                prompt = self.prompt(prompt_entry.node, f"{what}: prompt")
            else:
                self.prompt_refs.append((TRANSFER_TO_QUEUE, line))
            return None if prompt is None else ToQueue(queue, topic, prompt, line=line)
        # transfer
        name = self.text(target.node, f"{what}: transfer")
        if name is None:
            return None
        if _NUMBER_RE.match(name):
            number = name
        elif self.transfers is not None and name in self.transfers:
            number = self.transfers[name]
        elif self.transfers is None and _ID_RE.match(name):
            number = ""
        else:
            self.problem(
                target.line,
                f"{what}: transfer `{name}` is not declared in `transfers:`",
                _did_you_mean(name, self.transfers or ())
                or "add it under `transfers:` (name: number) or write the number",
            )
            return None
        prompt = TRANSFER_NUMBER
        if prompt_entry is not None:
            prompt = self.prompt(prompt_entry.node, f"{what}: prompt")
        else:
            self.prompt_refs.append((TRANSFER_NUMBER, line))
        return None if prompt is None else Transfer(name, prompt, number, line=line)

    def final_action(self, node: Node, what: str) -> FinalAction | None:
        action = self.action(node, what)
        if action is None:
            return None
        if not isinstance(action, ToQueue | Transfer | Goodbye):
            self.problem(
                _line(node),
                f"{what} must end the call's menu",
                "use {queue: <queue>}, {transfer: <name or number>} or goodbye",
            )
            return None
        return action

    # -- sections ----------------------------------------------------------

    def hours(self, entry: _Entry) -> BusinessHours | None:
        f = self.fields(entry.node, "hours", _HOURS_KEYS, entry.line)
        if f is None:
            return None
        ok = True
        always = False
        if "always_open" in f:
            value = self.boolean(f["always_open"].node, "hours: always_open")
            ok &= value is not None
            always = bool(value)
        tz = BANGKOK
        if "timezone" in f:
            name = self.text(f["timezone"].node, "hours: timezone")
            if name is not None:
                try:
                    ZoneInfo(name)
                    tz = name
                except (ZoneInfoNotFoundError, ValueError):
                    self.problem(
                        f["timezone"].line,
                        f"unknown time zone `{name}`",
                        f"use a tz database name such as {BANGKOK}",
                    )
                    ok = False
            else:
                ok = False
        rule: HolidayRule = "thai"
        if "holidays" in f:
            value_text = self.text(f["holidays"].node, "hours: holidays")
            if value_text == "none":
                rule = "none"
            elif value_text != "thai":
                if value_text is not None:
                    self.problem(
                        f["holidays"].line,
                        f"hours: holidays is `{value_text}`",
                        "use `thai` (Thai public holidays) or `none`",
                    )
                ok = False
        weekly: list[tuple[Window, ...]] = [() for _ in DAY_NAMES]
        if "weekly" in f:
            days = self.weekly(f["weekly"])
            if days is None:
                ok = False
            else:
                weekly = days
        closed_dates: dict[date, int] = {}
        if "closed_dates" in f:
            for node in self.items(f["closed_dates"].node, "hours: closed_dates") or []:
                day = self.day(node, "hours: closed_dates")
                if day is None:
                    ok = False
                else:
                    closed_dates[day] = _line(node)
        open_dates: list[tuple[date, tuple[Window, ...]]] = []
        if "open_dates" in f:
            for node in self.items(f["open_dates"].node, "hours: open_dates") or []:
                parsed = self.open_date(node, weekly)
                if parsed is None:
                    ok = False
                    continue
                if parsed[0] in closed_dates:
                    self.problem(
                        _line(node),
                        f"{parsed[0].isoformat()} is both a closed date "
                        f"(line {closed_dates[parsed[0]]}) and an open date",
                        "keep it in one of the two lists",
                    )
                    ok = False
                if any(d == parsed[0] for d, _ in open_dates):
                    self.problem(
                        _line(node),
                        f"open date {parsed[0].isoformat()} is given twice",
                        "give each date once",
                    )
                    ok = False
                open_dates.append(parsed)
        if not ok:
            return None
        if not always and not any(weekly) and not open_dates:
            self.problem(
                entry.line,
                "the hotline is never open: no weekly hours",
                "add `weekly:` hours or set `always_open: true`",
            )
            return None
        return BusinessHours(
            weekly=tuple(weekly),
            tz=tz,
            holidays=rule,
            closed_dates=frozenset(closed_dates),
            open_dates=tuple(open_dates),
            always_open=always,
        )

    def weekly(self, entry: _Entry) -> list[tuple[Window, ...]] | None:
        entries = self.entries(entry.node, "hours: weekly")
        if entries is None:
            return None
        ok = True
        week: list[tuple[Window, ...]] = [() for _ in DAY_NAMES]
        given: dict[int, int] = {}
        for e in entries:
            days = _day_range(e.key)
            if days is None:
                self.problem(
                    e.line,
                    f"`{e.key}` is not a day in hours: weekly",
                    _day_hint(e.key)
                    or "use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri",
                )
                ok = False
                continue
            windows = self.windows(e.node, f"hours: weekly: {e.key}")
            if windows is None:
                ok = False
                continue
            for d in days:
                if d in given:
                    self.problem(
                        e.line,
                        f"{DAY_NAMES[d]} is given twice in hours: weekly "
                        f"(first at line {given[d]})",
                        "give each day once",
                    )
                    ok = False
                    continue
                given[d] = e.line
                week[d] = windows
        return week if ok else None

    def windows(self, node: Node, what: str) -> tuple[Window, ...] | None:
        nodes = self.items(node, what)
        if nodes is None:
            return None
        out: list[Window] = []
        for n in nodes:
            text = self.text(n, what)
            if text is None:
                return None
            parsed = self.window_list(text, _line(n), what)
            if parsed is None:
                return None
            out.extend(parsed)
        try:
            check_overlaps(tuple(out))
        except HoursError as e:
            self.problem(_line(node), f"{what}: {e}", "make the windows follow one another")
            return None
        return tuple(sorted(out))

    def window_list(self, text: str, line: int, what: str) -> list[Window] | None:
        out = []
        for part in text.split(","):
            try:
                out.append(Window.parse(part))
            except HoursError as e:
                self.problem(line, f"{what}: {e}", "write hours as HH:MM-HH:MM, e.g. 08:30-16:30")
                return None
        return out

    def day(self, node: Node, what: str) -> date | None:
        if not isinstance(node, ScalarNode) or node.tag not in (_STR, _TIMESTAMP):
            self.problem(
                _line(node), f"{what} must be a date, not {_kind(node)}", "write YYYY-MM-DD"
            )
            return None
        return self.parse_date(str(node.value).strip(), _line(node), what)

    def parse_date(self, text: str, line: int, what: str) -> date | None:
        m = _DATE_RE.match(text)
        try:
            if not m:
                raise ValueError
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            self.problem(line, f"{what}: `{text}` is not a date", "write dates as YYYY-MM-DD")
            return None

    def open_date(
        self, node: Node, weekly: list[tuple[Window, ...]]
    ) -> tuple[date, tuple[Window, ...]] | None:
        what = "hours: open_dates"
        if not isinstance(node, ScalarNode) or node.tag not in (_STR, _TIMESTAMP):
            self.problem(
                _line(node),
                f"{what} must be a date, not {_kind(node)}",
                "write YYYY-MM-DD, or YYYY-MM-DD HH:MM-HH:MM",
            )
            return None
        text = str(node.value).strip()
        day_text, _, hours_text = text.partition(" ")
        day = self.parse_date(day_text, _line(node), what)
        if day is None:
            return None
        if hours_text.strip():
            windows = self.window_list(hours_text, _line(node), what)
            if windows is None:
                return None
            try:
                check_overlaps(tuple(windows))
            except HoursError as e:
                self.problem(_line(node), f"{what}: {e}", "make the windows follow one another")
                return None
            return day, tuple(sorted(windows))
        usual = weekly[day.weekday()]
        if not usual:
            self.problem(
                _line(node),
                f"{what}: {day_text} is a {DAY_NAMES[day.weekday()]}, which has no weekly hours",
                f'give its hours: "{day_text} 08:30-16:30"',
            )
            return None
        return day, usual

    def queue_defs(self, entry: _Entry) -> dict[str, QueueDef] | None:
        entries = self.entries(entry.node, "queues")
        if entries is None:
            return None
        out: dict[str, QueueDef] = {}
        ok = True
        for e in entries:
            if not _ID_RE.match(e.key):
                self.problem(
                    e.line,
                    f"queue name `{e.key}` is not valid",
                    "use letters, digits, `-` and `_` only (the name in queues.conf)",
                )
                ok = False
                continue
            topic = label = ""
            if not _is_null(e.node):
                f = self.fields(e.node, f"queue `{e.key}`", _QUEUE_KEYS, e.line)
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

    def transfer_defs(self, entry: _Entry) -> dict[str, str] | None:
        entries = self.entries(entry.node, "transfers")
        if entries is None:
            return None
        out: dict[str, str] = {}
        ok = True
        for e in entries:
            if not _ID_RE.match(e.key) or _NUMBER_RE.match(e.key):
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
            if not _NUMBER_RE.match(number):
                self.problem(
                    _line(e.node),
                    f"transfer `{e.key}`: `{number}` is not a dialable number",
                    'write digits only, quoted, e.g. "191"',
                )
                ok = False
                continue
            out[e.key] = number
        return out if ok else None

    def language_list(self, entry: _Entry) -> tuple[str, ...] | None:
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
                    _line(n),
                    f"language `{lang}` has no recorded prompts",
                    f"use {' or '.join(LANGUAGES)}",
                )
                return None
            if lang in out:
                self.problem(_line(n), f"language `{lang}` is listed twice", "list it once")
                return None
            out.append(lang)
        if not out:
            self.problem(entry.line, "languages is empty", "write [th] or [th, en]")
            return None
        return tuple(out)


def _day_hint(text: str) -> str:
    parts = []
    for part in text.strip().lower().split("-"):
        close = difflib.get_close_matches(part, DAY_NAMES, n=1, cutoff=0.5)
        if not close:
            return ""
        parts.append(close[0])
    return f"did you mean `{'-'.join(parts)}`?"


def _day_range(text: str) -> list[int] | None:
    first, sep, last = text.strip().lower().partition("-")
    if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
        return None
    a = DAY_NAMES.index(first)
    b = DAY_NAMES.index(last) if sep else a
    if b < a:
        return None
    return list(range(a, b + 1))


@dataclass
class _MenuDefaults:
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    repeat_key: str | None = DEFAULT_REPEAT_KEY
    on_fail: FinalAction | None = None  # None: the default queue, announced as the operator


def _defaults(c: _FileCheck, entry: _Entry | None) -> _MenuDefaults:
    d = _MenuDefaults()
    if entry is None:
        return d
    f = c.fields(entry.node, "defaults", _DEFAULTS_KEYS, entry.line)
    if f is None:
        return d
    if "timeout" in f:
        d.timeout_s = c.number(f["timeout"].node, "defaults: timeout", 1, 60) or d.timeout_s
    if "retries" in f:
        retries = c.integer(f["retries"].node, "defaults: retries", 0, 10)
        d.retries = d.retries if retries is None else retries
    if "repeat_key" in f:
        node = f["repeat_key"].node
        d.repeat_key = None if _is_null(node) else c.key(node, "defaults: repeat_key")
    if "on_fail" in f:
        d.on_fail = c.final_action(f["on_fail"].node, "defaults: on_fail")
    return d


def _menu(
    c: _FileCheck, entry: _Entry, is_start: bool, defaults: _MenuDefaults, fallback: FinalAction
) -> Menu | None:
    mid = entry.key
    what = f"menu `{mid}`"
    f = c.fields(entry.node, what, _MENU_KEYS, entry.line)
    if f is None:
        return None
    ok = True
    prompt = c.prompt(f["prompt"].node, f"{what}: prompt") if "prompt" in f else None
    ok &= prompt is not None
    c.prompt_refs.append((NO_INPUT, entry.line))
    c.prompt_refs.append((INVALID_OPTION, entry.line))
    timeout_s = defaults.timeout_s
    if "timeout" in f:
        value = c.number(f["timeout"].node, f"{what}: timeout", 1, 60)
        ok &= value is not None
        timeout_s = value or timeout_s
    retries = defaults.retries
    if "retries" in f:
        count = c.integer(f["retries"].node, f"{what}: retries", 0, 10)
        ok &= count is not None
        retries = retries if count is None else count
    repeat_key = defaults.repeat_key
    repeat_line = 0
    if "repeat_key" in f:
        node = f["repeat_key"].node
        repeat_line = f["repeat_key"].line
        repeat_key = None if _is_null(node) else c.key(node, f"{what}: repeat_key")
        ok &= repeat_key is not None or _is_null(node)
    if repeat_key == BACK_KEY and not is_start:
        c.problem(
            repeat_line or entry.line,
            f"{what}: the repeat key `*` is reserved for going back in a submenu",
            'set `repeat_key:` of this menu to another key, e.g. "9" or "#"',
        )
        ok = False
    on_fail: FinalAction | None = defaults.on_fail or fallback
    if "on_fail" in f:
        on_fail = c.final_action(f["on_fail"].node, f"{what}: on_fail")
        ok &= on_fail is not None
    elif defaults.on_fail is None:
        c.prompt_refs.append((fallback.prompt, entry.line))
    options: dict[str, Action] = {}
    if "options" in f:
        entries = c.entries(f["options"].node, f"{what}: options")
        if entries is None:
            ok = False
        else:
            for e in entries:
                key = c.key(e.key_node, f"{what}: option")
                action = c.action(e.node, f"{what}: option {e.key}")
                if key is None or action is None:
                    ok = False
                    continue
                if isinstance(action, Back) and is_start:
                    c.problem(
                        e.line,
                        f"{what}: `back` in the start menu has nowhere to go",
                        "remove this option or give it another action",
                    )
                    ok = False
                    continue
                if key == BACK_KEY and not is_start and not isinstance(action, Back):
                    c.problem(
                        e.line,
                        f'{what}: key "*" is reserved for going back in a submenu',
                        'use another key for this option; "*" already goes back',
                    )
                    ok = False
                    continue
                if key == repeat_key and not isinstance(action, Repeat):
                    c.problem(
                        repeat_line or e.line,
                        f"{what}: key `{key}` is both the repeat key and an option",
                        "set `repeat_key:` of this menu to a free key (or null), "
                        "or move the option to another key",
                    )
                    ok = False
                    continue
                options[key] = action
            if not entries:
                c.problem(f["options"].line, f"{what} has no options", "add at least one option")
                ok = False
    if not ok or prompt is None or on_fail is None:
        return None
    return Menu(
        id=mid,
        prompt=prompt,
        timeout_s=timeout_s,
        retries=retries,
        repeat_key=repeat_key,
        options=options,
        on_fail=on_fail,
        line=entry.line,
    )


def _closed(c: _FileCheck, entry: _Entry) -> ClosedPolicy | None:
    f = c.fields(entry.node, "closed", _CLOSED_KEYS, entry.line)
    if f is None or "prompt" not in f:
        return None
    prompt = c.prompt(f["prompt"].node, "closed: prompt")
    holiday = None
    if "holiday_prompt" in f and not _is_null(f["holiday_prompt"].node):
        holiday = c.prompt(f["holiday_prompt"].node, "closed: holiday_prompt")
        if holiday is None:
            return None
    then: FinalAction | None = Goodbye(GOODBYE, line=entry.line)
    if "then" in f:
        then = c.final_action(f["then"].node, "closed: then")
    else:
        c.prompt_refs.append((GOODBYE, entry.line))
    if prompt is None or then is None:
        return None
    return ClosedPolicy(prompt, then, holiday, line=entry.line)


def _reachable(start: str, menus: dict[str, Menu]) -> set[str]:
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


def _check_prompts(c: _FileCheck) -> None:
    first: dict[str, int] = {}
    for prompt, line in c.prompt_refs:
        if prompt not in first or line < first[prompt]:
            first[prompt] = line
    for prompt, line in sorted(first.items(), key=lambda kv: (kv[1], kv[0])):
        if prompt not in c.known_prompts:
            c.problem(
                line,
                f"prompt `{prompt}` is not in the prompt catalogue",
                _did_you_mean(prompt, c.known_prompts)
                or "add it to the prompt catalogue (id and Thai text), or correct the id",
            )
        elif c.prompts_with_audio is not None and prompt not in c.prompts_with_audio:
            c.problem(
                line,
                f"prompt `{prompt}` has no recorded audio",
                f"record sounds/<lang>/ivr/{prompt}.wav for each language of the hotline",
            )


def _build(c: _FileCheck, root: Node, path: Path, version: str) -> Hotline | None:
    f = c.fields(root, "the hotline file", _ROOT_KEYS, 1)
    if f is None:
        return None

    hotline_id = None
    if "hotline" in f:
        hotline_id = c.ident(f["hotline"].node, "hotline")
        if hotline_id is not None and hotline_id != path.stem:
            c.problem(
                f["hotline"].line,
                f"hotline `{hotline_id}` does not match the file name `{path.name}`",
                f'set `hotline: "{path.stem}"` or rename the file to {hotline_id}{path.suffix}',
            )
    name_th = c.text(f["name_th"].node, "name_th") if "name_th" in f else None
    name_en = c.text(f["name_en"].node, "name_en", allow_empty=True) if "name_en" in f else ""

    if "languages" in f:
        c.languages = c.language_list(f["languages"]) or c.languages
    if "queues" in f:
        c.queues = c.queue_defs(f["queues"])
    if "transfers" in f:
        c.transfers = c.transfer_defs(f["transfers"])
    else:
        c.transfers = {}

    default_queue = None
    if "default_queue" in f:
        default_queue = c.ident(f["default_queue"].node, "default_queue")
        if default_queue is not None and c.queues is not None and default_queue not in c.queues:
            c.problem(
                f["default_queue"].line,
                f"default_queue `{default_queue}` is not declared in `queues:`",
                f"add it under `queues:` (declared: {_listing(c.queues)})",
            )
    greeting = c.prompt(f["greeting"].node, "greeting") if "greeting" in f else None
    emergency = None
    if "emergency" in f and not _is_null(f["emergency"].node):
        emergency = c.prompt(f["emergency"].node, "emergency")

    hours = BusinessHours.always()
    hours_ok = True
    if "hours" in f:
        parsed = c.hours(f["hours"])
        hours_ok = parsed is not None
        hours = parsed or hours

    menu_entries = c.entries(f["menus"].node, "menus") if "menus" in f else None
    if menu_entries is not None:
        for e in menu_entries:
            if not _ID_RE.match(e.key):
                c.problem(
                    e.line,
                    f"menu id `{e.key}` is not valid",
                    "use letters, digits, `-` and `_` only",
                )
        c.menu_ids = {e.key for e in menu_entries}
        if not menu_entries:
            c.problem(f["menus"].line, "no menus are defined", "define the start menu `main:`")
    start = "main"
    start_line = f["menus"].line if "menus" in f else 1
    if "start" in f:
        start_line = f["start"].line
        start = c.ident(f["start"].node, "start") or start
    if c.menu_ids and start not in c.menu_ids:
        c.problem(
            start_line,
            f"the start menu `{start}` is not defined",
            f"define `{start}:` under `menus:` or set `start:` to one of: {_listing(c.menu_ids)}",
        )

    defaults = _defaults(c, f.get("defaults"))
    fallback_queue = default_queue or "operator"
    fallback_topic = ""
    if c.queues and fallback_queue in c.queues:
        fallback_topic = c.queues[fallback_queue].topic
    fallback = ToQueue(fallback_queue, fallback_topic, TRANSFER_TO_OPERATOR)

    menus: dict[str, Menu] = {}
    menus_ok = menu_entries is not None
    for e in menu_entries or []:
        menu = _menu(c, e, e.key == start, defaults, fallback)
        if menu is None:
            menus_ok = False
        else:
            menus[e.key] = menu
    if menu_entries is not None and c.menu_ids and start in c.menu_ids:
        reachable = _reachable(start, menus)
        for e in menu_entries:
            if e.key not in reachable and menus_ok:
                c.problem(
                    e.line,
                    f"menu `{e.key}` cannot be reached from the start menu `{start}`",
                    f"add an option {{menu: {e.key}}} to a menu callers reach, or remove it",
                )

    closed = None
    if "closed" in f:
        closed = _closed(c, f["closed"])
    elif hours_ok and not hours.always_open:
        c.problem(
            f["hours"].line,
            "the hotline has business hours but no `closed:` section",
            "add `closed:` with the prompt callers hear outside business hours",
        )

    _check_prompts(c)
    if c.problems:
        return None
    assert hotline_id and name_th and default_queue and greeting and c.queues is not None
    return Hotline(
        id=hotline_id,
        name_th=name_th,
        name_en=name_en or "",
        default_queue=default_queue,
        greeting=greeting,
        menus=menus,
        start=start,
        languages=c.languages,
        emergency=emergency,
        hours=hours,
        closed=closed,
        queues=c.queues,
        transfers=c.transfers or {},
        source=str(path),
        version=version,
    )


def _check_file(
    path: Path, known_prompts: AbstractSet[str], prompts_with_audio: AbstractSet[str] | None
) -> tuple[Hotline | None, list[Problem], str | None, int]:
    """Load one file: the hotline (or None), its problems, and the id it claims (with line)."""
    c = _FileCheck(str(path), known_prompts, prompts_with_audio)
    try:
        raw = path.read_bytes()
    except OSError as e:
        c.problem(0, f"cannot read the file ({e.strerror or e})", "check the path and permissions")
        return None, c.problems, None, 0
    version = hashlib.sha256(raw).hexdigest()[:12]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        c.problem(line, "the file is not UTF-8 text", "save the file as UTF-8")
        return None, c.problems, None, 0
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = " ".join(x for x in (e.context, e.problem) if x)
        c.problem(
            line,
            f"YAML syntax error: {what}",
            'fix the syntax on this line (indent with spaces; quote values holding ": ", '
            '"*" or "#")',
        )
        return None, c.problems, None, 0
    except yaml.YAMLError as e:
        c.problem(0, f"YAML error: {e}", "fix the YAML syntax")
        return None, c.problems, None, 0
    if root is None:
        c.problem(0, "the file is empty", 'start with `hotline: "<number>"`')
        return None, c.problems, None, 0
    hotline = _build(c, root, path, version)
    claimed: str | None = None
    claimed_line = 0
    if isinstance(root, MappingNode):
        for key_node, value_node in root.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "hotline":
                if isinstance(value_node, ScalarNode):
                    claimed, claimed_line = str(value_node.value), _line(key_node)
                break
    c.problems.sort(key=lambda p: p.line)
    return hotline, c.problems, claimed, claimed_line


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
