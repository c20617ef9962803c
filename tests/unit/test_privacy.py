"""Phone numbers masked the same way whatever their spelling (PDPA)."""

from __future__ import annotations

import pytest

from ivr.privacy import mask_phone


def _by_each_character(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return (
        "*" * len(digits)
        if len(digits) <= 5
        else digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
    )


@pytest.mark.parametrize(
    "number",
    ["0812345678", "081-234-5678", "+66812345678", "๐๘๑๒๓๔๕๖๗๘", "12345", "123456", "", "ไม่ทราบ"],
)
def test_every_spelling_is_masked_as_digit_by_digit(number: str) -> None:
    assert mask_phone(number) == _by_each_character(number)


def test_a_national_number_keeps_three_and_two_digits() -> None:
    assert mask_phone("0812345678") == "081*****78"
