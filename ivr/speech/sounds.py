"""Where a prompt id is played from: the one spelling of an Asterisk sound name."""

from __future__ import annotations

__all__ = ["sound"]


def sound(prompt: str) -> str:
    """The Asterisk sound name of a prompt id (resolved under ``sounds/<lang>/``)."""
    return f"ivr/{prompt}"
