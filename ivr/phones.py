"""Thai phone numbers, one rule for the whole server (pure, no I/O).

* :func:`national_number` writes any number the server stores in national
  format, digits only (``+66 81 234 5678`` -> ``0812345678``): the form a callback
  request keeps and its number index is keyed by;
* :func:`thai_number` accepts only what a callback may dial: a valid Thai
  fixed-line or mobile number (checked with ``phonenumbers``), in the same
  national format;
* :func:`dialable` says whether a stored number may fill ``{number}`` in a dial
  string (digits, an optional ``+``).
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

__all__ = ["dialable", "national_number", "thai_number"]

_ALLOWED = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
#: What a dial string may hold in place of ``{number}``.
_DIALABLE_RE = re.compile(r"^\+?[0-9]{3,20}$")


def national_number(number: str) -> str:
    """A Thai number in national format, digits only: ``+66 81 234 5678`` -> ``0812345678``."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        raise ValueError(f"not a phone number: {number!r}")
    if number.strip().startswith("+66") or (digits.startswith("66") and len(digits) == 11):
        return "0" + digits[2:]
    return digits


def thai_number(raw: str) -> str | None:
    """``raw`` (caller ID or keyed digits) as a national Thai number (``0812345678``),
    or None when it is not a valid Thai fixed-line or mobile number (short codes,
    premium and foreign numbers are refused)."""
    text = (raw or "").strip()
    if not text or len(text) > 20:
        return None
    try:
        number = phonenumbers.parse(text, "TH")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 66 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _ALLOWED:
        return None
    return "0" + str(number.national_number)


def dialable(number: str) -> bool:
    """``number`` may fill ``{number}`` in a dial string: 3 to 20 digits, an optional ``+``."""
    return _DIALABLE_RE.match(number) is not None
