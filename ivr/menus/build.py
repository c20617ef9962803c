"""Building the menu model (:mod:`ivr.menus.model`) from a hotline file's nodes.

Each section of the file is read in turn into its model object — menus with
their defaults and options (actions: :mod:`ivr.menus.actions`), the
``closed:`` policy, the hotline — through the
file's :class:`~ivr.menus.checks.HotlineCheck`, which records every problem
with its line. :func:`build_hotline` returns the hotline only when the whole
file has no problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import Node

from ivr.menus.actions import action, final_action
from ivr.menus.checks import HotlineCheck, check_prompts, reachable
from ivr.menus.hours import BusinessHours
from ivr.menus.hours_checks import read_hours
from ivr.menus.model import (
    BACK_KEY,
    GOODBYE,
    INVALID_OPTION,
    NO_INPUT,
    TRANSFER_TO_OPERATOR,
    Action,
    Back,
    ClosedPolicy,
    FinalAction,
    Goodbye,
    Hotline,
    Menu,
    Repeat,
    ToQueue,
)
from ivr.menus.schema import (
    CLOSED_KEYS,
    DEFAULT_REPEAT_KEY,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    DEFAULTS_KEYS,
    ID_RE,
    MENU_KEYS,
    ROOT_KEYS,
)
from ivr.yamlfile import Entry, is_null, listing

# -- menus ----------------------------------------------------------------------


@dataclass
class _MenuDefaults:
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    repeat_key: str | None = DEFAULT_REPEAT_KEY
    on_fail: FinalAction | None = None  # None: the default queue, announced as the operator


@dataclass
class _MenuSettings:
    """One menu's timeout, retries, repeat key and on_fail; ``ok`` False after a problem."""

    timeout_s: float
    retries: int
    repeat_key: str | None
    repeat_line: int
    on_fail: FinalAction | None
    ok: bool = True


def _defaults(c: HotlineCheck, entry: Entry | None) -> _MenuDefaults:
    d = _MenuDefaults()
    if entry is None:
        return d
    f = c.fields(entry.node, "defaults", DEFAULTS_KEYS, entry.line)
    if f is None:
        return d
    if "timeout" in f:
        d.timeout_s = c.number(f["timeout"].node, "defaults: timeout", 1, 60) or d.timeout_s
    if "retries" in f:
        retries = c.integer(f["retries"].node, "defaults: retries", 0, 10)
        d.retries = d.retries if retries is None else retries
    if "repeat_key" in f:
        node = f["repeat_key"].node
        d.repeat_key = None if is_null(node) else c.key(node, "defaults: repeat_key")
    if "on_fail" in f:
        d.on_fail = final_action(c, f["on_fail"].node, "defaults: on_fail")
    return d


def _menu(
    c: HotlineCheck, entry: Entry, is_start: bool, defaults: _MenuDefaults, fallback: FinalAction
) -> Menu | None:
    mid = entry.key
    what = f"menu `{mid}`"
    f = c.fields(entry.node, what, MENU_KEYS, entry.line)
    if f is None:
        return None
    prompt = c.prompt(f["prompt"].node, f"{what}: prompt") if "prompt" in f else None
    c.uses_prompt(NO_INPUT, entry.line)
    c.uses_prompt(INVALID_OPTION, entry.line)
    s = _menu_settings(c, f, entry, is_start, defaults, fallback)
    options = _options(c, f["options"], is_start, s, what) if "options" in f else {}
    if not s.ok or options is None or prompt is None or s.on_fail is None:
        return None
    return Menu(
        id=mid,
        prompt=prompt,
        timeout_s=s.timeout_s,
        retries=s.retries,
        repeat_key=s.repeat_key,
        options=options,
        on_fail=s.on_fail,
        line=entry.line,
    )


def _menu_settings(
    c: HotlineCheck,
    f: dict[str, Entry],
    entry: Entry,
    is_start: bool,
    defaults: _MenuDefaults,
    fallback: FinalAction,
) -> _MenuSettings:
    what = f"menu `{entry.key}`"
    s = _MenuSettings(
        defaults.timeout_s, defaults.retries, defaults.repeat_key, 0, defaults.on_fail or fallback
    )
    if "timeout" in f:
        value = c.number(f["timeout"].node, f"{what}: timeout", 1, 60)
        s.ok &= value is not None
        s.timeout_s = value or s.timeout_s
    if "retries" in f:
        count = c.integer(f["retries"].node, f"{what}: retries", 0, 10)
        s.ok &= count is not None
        s.retries = s.retries if count is None else count
    if "repeat_key" in f:
        node = f["repeat_key"].node
        s.repeat_line = f["repeat_key"].line
        s.repeat_key = None if is_null(node) else c.key(node, f"{what}: repeat_key")
        s.ok &= s.repeat_key is not None or is_null(node)
    if s.repeat_key == BACK_KEY and not is_start:
        c.problem(
            s.repeat_line or entry.line,
            f"{what}: the repeat key `*` is reserved for going back in a submenu",
            'set `repeat_key:` of this menu to another key, e.g. "9" or "#"',
        )
        s.ok = False
    if "on_fail" in f:
        s.on_fail = final_action(c, f["on_fail"].node, f"{what}: on_fail")
        s.ok &= s.on_fail is not None
    elif defaults.on_fail is None:
        c.uses_prompt(fallback.prompt, entry.line)
    return s


def _options(
    c: HotlineCheck, entry: Entry, is_start: bool, s: _MenuSettings, what: str
) -> dict[str, Action] | None:
    """A menu's options by key, or None after a problem."""
    entries = c.entries(entry.node, f"{what}: options")
    if entries is None:
        return None
    ok = True
    options: dict[str, Action] = {}
    for e in entries:
        key = c.key(e.key_node, f"{what}: option")
        found = action(c, e.node, f"{what}: option {e.key}")
        if key is None or found is None or _clashes(c, e, key, found, is_start, s, what):
            ok = False
            continue
        options[key] = found
    if not entries:
        c.problem(entry.line, f"{what} has no options", "add at least one option")
        ok = False
    return options if ok else None


def _clashes(
    c: HotlineCheck,
    e: Entry,
    key: str,
    found: Action,
    is_start: bool,
    s: _MenuSettings,
    what: str,
) -> bool:
    """Whether an option breaks the rules of keys (reported): back, ``*``, repeat key."""
    if isinstance(found, Back) and is_start:
        c.problem(
            e.line,
            f"{what}: `back` in the start menu has nowhere to go",
            "remove this option or give it another action",
        )
        return True
    if key == BACK_KEY and not is_start and not isinstance(found, Back):
        c.problem(
            e.line,
            f'{what}: key "*" is reserved for going back in a submenu',
            'use another key for this option; "*" already goes back',
        )
        return True
    if key == s.repeat_key and not isinstance(found, Repeat):
        c.problem(
            s.repeat_line or e.line,
            f"{what}: key `{key}` is both the repeat key and an option",
            "set `repeat_key:` of this menu to a free key (or null), "
            "or move the option to another key",
        )
        return True
    return False


def _closed(c: HotlineCheck, entry: Entry) -> ClosedPolicy | None:
    f = c.fields(entry.node, "closed", CLOSED_KEYS, entry.line)
    if f is None or "prompt" not in f:
        return None
    prompt = c.prompt(f["prompt"].node, "closed: prompt")
    holiday = None
    if "holiday_prompt" in f and not is_null(f["holiday_prompt"].node):
        holiday = c.prompt(f["holiday_prompt"].node, "closed: holiday_prompt")
        if holiday is None:
            return None
    then: FinalAction | None = Goodbye(GOODBYE, line=entry.line)
    if "then" in f:
        then = final_action(c, f["then"].node, "closed: then")
    else:
        c.uses_prompt(GOODBYE, entry.line)
    if prompt is None or then is None:
        return None
    return ClosedPolicy(prompt, then, holiday, line=entry.line)


# -- the hotline ----------------------------------------------------------------


@dataclass
class _Head:
    """The hotline's own values, None where missing or wrong."""

    hotline_id: str | None = None
    name_th: str | None = None
    name_en: str | None = ""
    default_queue: str | None = None
    greeting: str | None = None
    emergency: str | None = None


def build_hotline(c: HotlineCheck, root: Node, path: Path, version: str) -> Hotline | None:
    """The hotline of a file's root node, or None: ``c.problems`` then says why."""
    f = c.fields(root, "the hotline file", ROOT_KEYS, 1)
    if f is None:
        return None
    head = _head(c, f, path)
    hours = BusinessHours.always()
    hours_ok = True
    if "hours" in f:
        parsed = read_hours(c, f["hours"])
        hours_ok = parsed is not None
        hours = parsed or hours
    menu_entries, start = _menu_ids(c, f)
    menus = _menus(c, f, head, menu_entries, start)
    closed = None
    if "closed" in f:
        closed = _closed(c, f["closed"])
    elif hours_ok and not hours.always_open:
        c.problem(
            f["hours"].line,
            "the hotline has business hours but no `closed:` section",
            "add `closed:` with the prompt callers hear outside business hours",
        )
    check_prompts(c)
    if c.problems:
        return None
    assert head.hotline_id and head.name_th and head.default_queue and head.greeting
    assert c.queues is not None
    return Hotline(
        id=head.hotline_id,
        name_th=head.name_th,
        name_en=head.name_en or "",
        default_queue=head.default_queue,
        greeting=head.greeting,
        menus=menus,
        start=start,
        languages=c.languages,
        emergency=head.emergency,
        hours=hours,
        closed=closed,
        queues=c.queues,
        transfers=c.transfers or {},
        source=str(path),
        version=version,
    )


def _head(c: HotlineCheck, f: dict[str, Entry], path: Path) -> _Head:
    """The hotline's id, names, greeting and default queue; its languages, queues
    and transfers go to ``c`` (the actions read later check against them)."""
    head = _Head()
    if "hotline" in f:
        head.hotline_id = c.ident(f["hotline"].node, "hotline")
        if head.hotline_id is not None and head.hotline_id != path.stem:
            c.problem(
                f["hotline"].line,
                f"hotline `{head.hotline_id}` does not match the file name `{path.name}`",
                f'set `hotline: "{path.stem}"` or rename the file to '
                f"{head.hotline_id}{path.suffix}",
            )
    head.name_th = c.text(f["name_th"].node, "name_th") if "name_th" in f else None
    if "name_en" in f:
        head.name_en = c.text(f["name_en"].node, "name_en", allow_empty=True)
    if "languages" in f:
        c.languages = c.language_list(f["languages"]) or c.languages
    if "queues" in f:
        c.queues = c.queue_defs(f["queues"])
    c.transfers = c.transfer_defs(f["transfers"]) if "transfers" in f else {}
    if "default_queue" in f:
        queue = head.default_queue = c.ident(f["default_queue"].node, "default_queue")
        if queue is not None and c.queues is not None and queue not in c.queues:
            c.problem(
                f["default_queue"].line,
                f"default_queue `{queue}` is not declared in `queues:`",
                f"add it under `queues:` (declared: {listing(c.queues)})",
            )
    head.greeting = c.prompt(f["greeting"].node, "greeting") if "greeting" in f else None
    if "emergency" in f and not is_null(f["emergency"].node):
        head.emergency = c.prompt(f["emergency"].node, "emergency")
    return head


def _menu_ids(c: HotlineCheck, f: dict[str, Entry]) -> tuple[list[Entry] | None, str]:
    """The ``menus:`` entries (their ids go to ``c``) and the start menu's id."""
    menu_entries = c.entries(f["menus"].node, "menus") if "menus" in f else None
    if menu_entries is not None:
        for e in menu_entries:
            if not ID_RE.match(e.key):
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
            f"define `{start}:` under `menus:` or set `start:` to one of: {listing(c.menu_ids)}",
        )
    return menu_entries, start


def _menus(
    c: HotlineCheck,
    f: dict[str, Entry],
    head: _Head,
    menu_entries: list[Entry] | None,
    start: str,
) -> dict[str, Menu]:
    """Every menu that has no problem; menus callers cannot reach are reported."""
    defaults = _defaults(c, f.get("defaults"))
    fallback_queue = head.default_queue or "operator"
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
        seen = reachable(start, menus)
        for e in menu_entries:
            if e.key not in seen and menus_ok:
                c.problem(
                    e.line,
                    f"menu `{e.key}` cannot be reached from the start menu `{start}`",
                    f"add an option {{menu: {e.key}}} to a menu callers reach, or remove it",
                )
    return menus
