"""Actions in a hotline file: what a key does (an option), ``on_fail`` and ``closed.then``.

``back``, ``repeat``, ``goodbye`` or one of ``{menu: ...}``, ``{info: ...}``,
``{queue: ...}``, ``{transfer: ...}``, ``{goodbye: ...}``, ``{language: ...}``,
read into the model's action objects; what an action names is checked by
:class:`~ivr.menus.checks.HotlineCheck`, every problem recorded with its line.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode

from ivr.menus.checks import HotlineCheck
from ivr.menus.model import (
    GOODBYE,
    TRANSFER_NUMBER,
    TRANSFER_TO_QUEUE,
    Action,
    Back,
    FinalAction,
    GoMenu,
    Goodbye,
    PlayInfo,
    Repeat,
    SetLanguage,
    ToQueue,
    Transfer,
)
from ivr.menus.schema import ACTION_KEYS, ACTION_KINDS, ACTIONS_HELP, SCALAR_ACTIONS
from ivr.yamlfile import STR, Entry, did_you_mean, kind_of, line_of


def action(c: HotlineCheck, node: Node, what: str) -> Action | None:
    """An option's action (``back``, ``{menu: x}``, ``{queue: y}``...)."""
    line = line_of(node)
    if isinstance(node, ScalarNode) and node.tag == STR:
        return _word_action(c, node, what)
    if not isinstance(node, MappingNode):
        c.problem(line, f"{what} must be an action, not {kind_of(node)}", ACTIONS_HELP)
        return None
    f = c.fields(node, what, ACTION_KEYS, line)
    if f is None:
        return None
    kind = _action_kind(c, f, line, what)
    if kind is None:
        return None
    target = f[kind]
    if kind == "menu":
        menu = c.menu_target(target, what)
        return None if menu is None else GoMenu(menu, line=line)
    if kind == "info":
        page = c.prompt(target.node, f"{what}: info")
        return None if page is None else PlayInfo(page, line=line)
    if kind == "goodbye":
        bye = c.prompt(target.node, f"{what}: goodbye")
        return None if bye is None else Goodbye(bye, line=line)
    if kind == "language":
        lang = c.language_target(target, what)
        return None if lang is None else SetLanguage(lang, line=line)
    if kind == "queue":
        return _queue_action(c, f, line, what)
    return _transfer_action(c, f, line, what)


def final_action(c: HotlineCheck, node: Node, what: str) -> FinalAction | None:
    """An action that ends the menu: a queue, a transfer or goodbye."""
    found = action(c, node, what)
    if found is None:
        return None
    if not isinstance(found, ToQueue | Transfer | Goodbye):
        c.problem(
            line_of(node),
            f"{what} must end the call's menu",
            "use {queue: <queue>}, {transfer: <name or number>} or goodbye",
        )
        return None
    return found


def _word_action(c: HotlineCheck, node: ScalarNode, what: str) -> Action | None:
    line = line_of(node)
    word = str(node.value).strip()
    if word == "back":
        return Back(line=line)
    if word == "repeat":
        return Repeat(line=line)
    if word == "goodbye":
        c.uses_prompt(GOODBYE, line)
        return Goodbye(GOODBYE, line=line)
    hint = did_you_mean(word, (*SCALAR_ACTIONS, *ACTION_KINDS))
    c.problem(line, f"{what}: unknown action `{word}`", hint or ACTIONS_HELP)
    return None


def _action_kind(c: HotlineCheck, f: dict[str, Entry], line: int, what: str) -> str | None:
    """The one action kind of an action mapping, its other keys fitting it."""
    kinds = [k for k in ACTION_KINDS if k in f]
    if len(kinds) != 1:
        c.problem(
            line,
            f"{what} must have exactly one action, has "
            + (" and ".join(f"`{k}`" for k in kinds) if kinds else "none"),
            ACTIONS_HELP,
        )
        return None
    kind = kinds[0]
    for extra, fits in (("topic", ("queue",)), ("prompt", ("queue", "transfer"))):
        if extra in f and kind not in fits:
            c.problem(
                f[extra].line,
                f"`{extra}` does not apply to a `{kind}` action",
                f"remove `{extra}:` (it goes with {' or '.join(fits)})",
            )
            return None
    return kind


def _announcement(
    c: HotlineCheck, f: dict[str, Entry], default: str, line: int, what: str
) -> str | None:
    """The prompt announcing a hand-over: the action's ``prompt:``, else ``default``."""
    entry = f.get("prompt")
    if entry is None:
        c.uses_prompt(default, line)
        return default
    return c.prompt(entry.node, f"{what}: prompt")


def _queue_action(c: HotlineCheck, f: dict[str, Entry], line: int, what: str) -> ToQueue | None:
    found = c.queue_target(f["queue"], what)
    if found is None:
        return None
    queue, declared = found
    topic = declared.topic if declared else ""
    if "topic" in f:
        given = c.text(f["topic"].node, f"{what}: topic")
        if given is None:
            return None
        topic = given
    prompt = _announcement(c, f, TRANSFER_TO_QUEUE, line, what)
    return None if prompt is None else ToQueue(queue, topic, prompt, line=line)


def _transfer_action(c: HotlineCheck, f: dict[str, Entry], line: int, what: str) -> Transfer | None:
    found = c.transfer_target(f["transfer"], what)
    if found is None:
        return None
    name, number = found
    prompt = _announcement(c, f, TRANSFER_NUMBER, line, what)
    return None if prompt is None else Transfer(name, prompt, number, line=line)
