"""The shape of a hotline file: its keys, and typed reads of the values in it.

A telephony admin describes each hotline in one YAML file,
``dialplans/hotlines/<hotline>.yaml``. This module says what such a file looks
like (the keys of each section, which are required, how an id, a phone key, a
date or an hours window is written); :mod:`ivr.menus.checks` checks what the
values mean, :mod:`ivr.menus.build` builds the model and
:mod:`ivr.menus.loader` reads the files. ``ivr check`` and every (re)load run
them all; a file with any problem is not loaded, and each problem is reported
as ``file:line: what is wrong — how to fix it`` (:mod:`ivr.problems`).

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
                                  # (a supervisor's, set through the API, replaces it)
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
import re
from datetime import date
from typing import Final

from yaml.nodes import Node, ScalarNode

from ivr.menus.hours import DAY_NAMES, HoursError, Window
from ivr.menus.model import KEYS
from ivr.yamlfile import INT, STR, TIMESTAMP, NodeReader, kind_of, line_of

DEFAULT_TIMEOUT_S: Final = 5.0
DEFAULT_RETRIES: Final = 3
DEFAULT_REPEAT_KEY: Final = "9"

#: A hotline, menu, queue or transfer name.
ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
NUMBER_RE: Final = re.compile(r"^\+?[0-9]+$")
DATE_RE: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

ROOT_KEYS = {
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
HOURS_KEYS = dict.fromkeys(
    ("always_open", "timezone", "holidays", "weekly", "closed_dates", "open_dates"), False
)
CLOSED_KEYS = {"prompt": True, "holiday_prompt": False, "then": False}
QUEUE_KEYS = {"topic": False, "label": False}
DEFAULTS_KEYS = dict.fromkeys(("timeout", "retries", "repeat_key", "on_fail"), False)
MENU_KEYS = {
    "prompt": True,
    "options": True,
    "timeout": False,
    "retries": False,
    "repeat_key": False,
    "on_fail": False,
}
ACTION_KINDS = ("menu", "info", "queue", "transfer", "goodbye", "language")
ACTION_KEYS = dict.fromkeys((*ACTION_KINDS, "topic", "prompt"), False)
SCALAR_ACTIONS = ("back", "repeat", "goodbye")
ACTIONS_HELP = (
    "use back, repeat, goodbye, or one of {menu: <id>}, {info: <prompt>}, "
    "{queue: <queue>}, {transfer: <name or number>}, {goodbye: <prompt>}, {language: en}"
)


class ShapeReader(NodeReader):
    """Typed reads of a hotline file's values whose meaning needs nothing else
    of the file: ids, phone keys, dates, hours windows."""

    def ident(self, node: Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is not None and not ID_RE.match(value):
            self.problem(
                line_of(node),
                f"{what} `{value}` is not a valid name",
                "use letters, digits, `-` and `_` only",
            )
            return None
        return value

    def key(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag not in (STR, INT):
            self.problem(
                line_of(node),
                f"{what} must be a key, not {kind_of(node)}",
                'use one key: 0-9, "*" or "#" (quoted)',
            )
            return None
        value = str(node.value)
        if len(value) != 1 or value not in KEYS:
            self.problem(
                line_of(node),
                f"{what} `{value}` is not a phone key",
                'use one key: 0-9, "*" or "#" (quoted)',
            )
            return None
        return value

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
        if not isinstance(node, ScalarNode) or node.tag not in (STR, TIMESTAMP):
            self.problem(
                line_of(node), f"{what} must be a date, not {kind_of(node)}", "write YYYY-MM-DD"
            )
            return None
        return self.parse_date(str(node.value).strip(), line_of(node), what)

    def parse_date(self, text: str, line: int, what: str) -> date | None:
        m = DATE_RE.match(text)
        try:
            if not m:
                raise ValueError
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            self.problem(line, f"{what}: `{text}` is not a date", "write dates as YYYY-MM-DD")
            return None


def day_hint(text: str) -> str:
    """``did you mean `mon-fri`?`` for a misspelt day or range of days, or ""."""
    parts = []
    for part in text.strip().lower().split("-"):
        close = difflib.get_close_matches(part, DAY_NAMES, n=1, cutoff=0.5)
        if not close:
            return ""
        parts.append(close[0])
    return f"did you mean `{'-'.join(parts)}`?"


def day_range(text: str) -> list[int] | None:
    """The weekdays (0 = Monday) of ``mon`` or ``mon-fri``; None if not days."""
    first, sep, last = text.strip().lower().partition("-")
    if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
        return None
    a = DAY_NAMES.index(first)
    b = DAY_NAMES.index(last) if sep else a
    if b < a:
        return None
    return list(range(a, b + 1))
