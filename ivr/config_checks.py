"""Checks of the settings against the hotline files: every ``[queues.<name>]`` table
must name a queue of some hotline, and every ``no_agent = "overflow:<queue>"`` a
queue other than its own. Each problem names the settings file, the line and the fix
(``ivr check`` prints them; the server logs them at start)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from pathlib import Path

from ivr.config import Settings, line_of, queue_setting
from ivr.problems import Problem

__all__ = ["queue_table_problems", "unknown_queue_tables"]


def queue_table_problems(settings: Settings, queues: AbstractSet[str]) -> list[Problem]:
    """A problem for each ``[queues.<name>]`` table naming no queue of any hotline
    (a typo there would otherwise be ignored in silence)."""
    out: list[Problem] = []
    try:
        text = Path(settings.source).read_text(encoding="utf-8") if settings.source else ""
    except OSError:
        text = ""
    out += _overflow_problems(settings, queues, text)
    for name in sorted(settings.queue_overrides):
        if name in queues:
            continue
        out.append(
            Problem(
                settings.source,
                line_of(text, None, f"queues.{name}"),
                f"[queues.{name}] names no queue of any hotline",
                f"use one of {', '.join(sorted(queues)) or '(none)'}, or remove the table",
            )
        )
    return out


def _overflow_problems(settings: Settings, queues: AbstractSet[str], text: str) -> list[Problem]:
    """A problem for each ``no_agent = "overflow:<queue>"`` naming no queue, or its own."""
    out: list[Problem] = []
    for queue in sorted(queues):
        policy = str(queue_setting(settings, queue, "no_agent"))
        target = policy.removeprefix("overflow:")
        if policy == target or (target in queues and target != queue):
            continue
        own = "no_agent" in settings.queue_overrides.get(queue, {})
        out.append(
            Problem(
                settings.source,
                line_of(text, "no_agent", f"queues.{queue}" if own else "queues"),
                f"queue {queue}: no_agent overflows to {target!r}, "
                + ("itself" if target == queue else "which is no queue of any hotline"),
                f"use one of {', '.join(sorted(queues - {queue})) or '(none)'}",
            )
        )
    return out


def unknown_queue_tables(settings: Settings, queues: AbstractSet[str]) -> list[str]:
    """:func:`queue_table_problems`, each rendered as ``file:line: problem — fix``."""
    return [str(p) for p in queue_table_problems(settings, queues)]
