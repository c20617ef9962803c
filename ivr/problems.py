"""What an admin got wrong: one problem type and one exception for all of them.

Everything an admin edits — hotline menu files, the prompt catalogue, the
settings file — reports its mistakes the same way: each :class:`Problem` renders
as ``file:line: what is wrong — how to fix it`` (``file: ...`` when the line is
unknown or the problem is about the whole file), and an :class:`AdminError`
carries every problem found, never the first only. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["AdminError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an admin's file; ``line`` is 1-based, 0 for the whole file."""

    file: str
    line: int
    message: str
    fix: str = ""

    @property
    def where(self) -> str:
        """``file:line``, or ``file`` alone when the line is not known."""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" + (f" — {self.fix}" if self.fix else "")


class AdminError(Exception):
    """Files an admin wrote that cannot be used; ``problems`` holds every reason.

    The message is the problems, one a line, in the order found. Subclasses
    (``MenuError``, ``CatalogueError``, ``ConfigError``) only say which files.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
