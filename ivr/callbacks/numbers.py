"""Which numbers a callback may dial: valid Thai fixed-line or mobile numbers only."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

_ALLOWED = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


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
