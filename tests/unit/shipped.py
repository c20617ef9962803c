"""The shipped hotline files and every prompt id they use (shared by menu tests)."""

from __future__ import annotations

from pathlib import Path

HOTLINES = Path(__file__).resolve().parents[2] / "dialplans" / "hotlines"

PROMPTS = frozenset(
    {
        "greeting-1111",
        "menu-main-1111",
        "menu-track-1111",
        "closed-1111",
        "info-services-1111",
        "info-track-web-1111",
        "greeting-1555",
        "menu-main-1555",
        "closed-1555",
        "invalid-option",
        "no-input",
        "goodbye",
        "transfer-to-operator",
        "transfer-to-queue",
        "transfer-number",
        "holiday-closed",
    }
)
