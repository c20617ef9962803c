"""Personal data rules (Thailand's PDPA): phone numbers are masked unless allowed."""

from __future__ import annotations


def mask_phone(number: str) -> str:
    """Keep the first 3 and last 2 digits: ``0812345678`` -> ``081*****78``."""
    if number.isascii() and number.isdigit():
        digits = number  # the usual case, without a walk through each character
    else:
        digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if len(digits) <= 5:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
