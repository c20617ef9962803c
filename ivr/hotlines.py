"""The hotline files in force, and reloading them safely.

A reload loads each file on its own: a valid file replaces its hotline, an invalid
one is refused (its problems logged) and the version already in force stays. A call
keeps the :class:`Hotline` object it started with, so calls in progress finish on
their version. A reload asked for while the server runs (``SIGHUP``) reads the files
in a thread, off the event loop, one reload at a time (:meth:`HotlineRegistry.request_reload`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from ivr.log import fields, menu_log
from ivr.menus.hours import BusinessHours
from ivr.menus.loader import MenuError, load_hotline
from ivr.menus.model import Hotline
from ivr.problems import AdminError, Problem
from ivr.speech.catalogue import Catalogue, load_catalogue


def prompt_sets(catalogue: Catalogue) -> tuple[set[str], set[str]]:
    """(ids in the catalogue, ids with Thai audio)."""
    ids = set(catalogue.ids)
    with_audio = {i for i in ids if catalogue.audio_path(i, "th") is not None}
    return ids, with_audio


@dataclass
class ReloadResult:
    loaded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class HotlineRegistry:
    def __init__(self, hotlines_dir: Path, prompts_dir: Path) -> None:
        self.hotlines_dir = hotlines_dir
        self.prompts_dir = prompts_dir
        self._hotlines: dict[str, Hotline] = {}
        self._catalogue = Catalogue(prompts_dir)
        self._reloading: asyncio.Task[None] | None = None
        self._reload_again = False

    def get(self, hotline_id: str) -> Hotline | None:
        return self._hotlines.get(hotline_id)

    @property
    def catalogue(self) -> Catalogue:
        """The prompt catalogue of the last reload that could read it (empty before)."""
        return self._catalogue

    @property
    def hotlines(self) -> dict[str, Hotline]:
        return dict(self._hotlines)

    def queues(self) -> set[str]:
        """Every queue a hotline in force hands calls to."""
        return {q for h in self._hotlines.values() for q in h.queues}

    def hours_for_queue(self, queue: str) -> BusinessHours | None:
        """The business hours of the first hotline that hands calls to ``queue``."""
        for hotline in self._hotlines.values():
            if queue in hotline.queues:
                return hotline.hours
        return None

    def request_reload(self) -> None:
        """Reload in a thread, off the event loop, one reload at a time; asked again
        during a reload, one more follows it (the files may have changed since it
        read them). Must be called on the event loop (a signal handler)."""
        if self._reloading is not None and not self._reloading.done():
            self._reload_again = True
            return
        self._reloading = asyncio.create_task(self._reload_in_thread())

    async def _reload_in_thread(self) -> None:
        while True:
            self._reload_again = False
            try:
                await asyncio.to_thread(self.reload)
            except Exception:
                menu_log.exception("hotline reload failed")
            if not self._reload_again:
                return

    async def wait_reloads(self) -> None:
        """Let a reload in progress end (at shutdown)."""
        if self._reloading is not None:
            await asyncio.gather(self._reloading, return_exceptions=True)

    def reload(self) -> ReloadResult:
        result = ReloadResult()
        try:
            catalogue = load_catalogue(self.prompts_dir)
            known, with_audio = prompt_sets(catalogue)
        except Exception as e:  # the catalogue itself is broken: keep everything
            menu_log.error("reload refused: prompt catalogue", extra=fields(error=str(e)))
            if isinstance(e, AdminError):
                result.problems.extend(e.problems)
            else:
                result.problems.append(Problem(str(self.prompts_dir), 0, str(e)))
            result.kept = sorted(self._hotlines)
            return result
        new: dict[str, Hotline] = {}
        files = sorted(self.hotlines_dir.glob("*.y*ml"))
        for path in files:
            try:
                hotline = load_hotline(path, known, with_audio)
            except MenuError as e:
                result.problems.extend(e.problems)
                old = self._hotlines.get(path.stem)
                if old is not None:
                    new[old.id] = old
                    result.kept.append(old.id)
                for p in e.problems:
                    menu_log.error("hotline file refused", extra=fields(problem=str(p)))
                continue
            if hotline.id in new:
                continue
            new[hotline.id] = hotline
            result.loaded.append(hotline.id)
        self._hotlines = new
        self._catalogue = catalogue
        menu_log.info(
            "hotlines loaded",
            extra=fields(
                loaded={i: new[i].version for i in result.loaded},
                kept=result.kept,
                problems=len(result.problems),
            ),
        )
        return result
