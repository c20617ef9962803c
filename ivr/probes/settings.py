"""Which hotlines are probed, at which published number and how often.

From the settings' ``[probe.hotlines]`` table (``ivr.config``): each hotline id
maps to ``{number = "...", interval_s = ...}`` (both optional: the number defaults
to the hotline id, the interval to ``[probe] interval_s``), or to a bare number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ivr.config import ConfigError, Settings
from ivr.problems import Problem

__all__ = ["ProbeTarget", "probe_targets"]

_KEYS = ("number", "interval_s")


@dataclass(frozen=True)
class ProbeTarget:
    hotline: str
    number: str  # the published number, as the dial template wants it
    interval_s: float  # 0: not probed by the scheduler (``ivr probe`` still can)


def probe_targets(settings: Settings, only: Sequence[str] = ()) -> list[ProbeTarget]:
    """The hotlines to probe: those of ``[probe.hotlines]``, or just ``only`` (an id
    not in the table is probed at that number). Raises :class:`ConfigError`."""
    problems: list[Problem] = []
    table: dict[str, ProbeTarget] = {}
    for hotline, spec in settings.probe_hotlines.items():
        unknown = sorted(set(spec) - set(_KEYS))
        if unknown:
            problems.append(
                Problem(
                    settings.source,
                    0,
                    f"[probe.hotlines] {hotline}: unknown key(s) {unknown}",
                    f"use only {', '.join(_KEYS)}",
                )
            )
            continue
        try:
            interval = float(spec.get("interval_s", settings.probe_interval_s))
        except (TypeError, ValueError):
            problems.append(
                Problem(
                    settings.source,
                    0,
                    f"[probe.hotlines] {hotline}: interval_s is not a number",
                    "write seconds, e.g. interval_s = 300",
                )
            )
            continue
        number = str(spec.get("number") or hotline)
        table[hotline] = ProbeTarget(hotline, number, max(0.0, interval))
    if problems:
        raise ConfigError(problems)
    if not only:
        return list(table.values())
    return [table.get(h) or ProbeTarget(h, h, 0.0) for h in only]
