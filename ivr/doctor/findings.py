"""One finding of ``ivr doctor``: a check's name, ok or FAIL, what was found and the fix.

Pure: rendering as lines or JSON, and the exit code (0 all ok, 1 a problem).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

__all__ = ["Finding", "exit_code", "fail", "ok", "render_json", "render_text"]


@dataclass(frozen=True)
class Finding:
    """``check`` names the part (``ami.rights``); ``detail`` says what was found; a
    failed finding's ``fix`` says what to do, in plain words."""

    check: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        head = f"{'ok  ' if self.ok else 'FAIL'}  {self.check}: {self.detail}"
        return head if self.ok or not self.fix else f"{head}\n        fix: {self.fix}"


def ok(check: str, detail: str) -> Finding:
    return Finding(check, True, detail)


def fail(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, False, detail, fix)


def exit_code(findings: Sequence[Finding]) -> int:
    """0 when every finding is ok, else 1."""
    return 0 if all(f.ok for f in findings) else 1


def render_text(findings: Sequence[Finding]) -> str:
    failed = sum(not f.ok for f in findings)
    tail = "all ok" if not failed else f"{failed} problem(s) of {len(findings)} checks"
    return "\n".join([*(f.line() for f in findings), tail])


def render_json(findings: Sequence[Finding]) -> str:
    body = {"ok": exit_code(findings) == 0, "checks": [asdict(f) for f in findings]}
    return json.dumps(body, ensure_ascii=False, indent=2)
