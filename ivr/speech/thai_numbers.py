"""Thai readings of numbers and phone numbers, as text and as word prompts.

Asterisk's own Thai ``SayNumber`` has no หมื่น or แสน and needs a sound file per
number; here a number is composed from a small set of word prompts instead, so
that any number reads correctly from 18 recordings.

Reading rules (Royal Institute usage):

* the tens digit 1 is read สิบ (not หนึ่งสิบ), the tens digit 2 ยี่สิบ;
* a units digit 1 is read เอ็ด when a higher digit of the same six-digit group
  is non-zero (11 สิบเอ็ด, 101 หนึ่งร้อยเอ็ด, 1001 หนึ่งพันเอ็ด), else หนึ่ง;
* above a million the number is read in six-digit groups joined by ล้าน, each
  group read on its own: 1,000,001 หนึ่งล้านหนึ่ง, 21,000,001 ยี่สิบเอ็ดล้านหนึ่ง,
  11,000,000 สิบเอ็ดล้าน, 10**12 หนึ่งล้านล้าน.

Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "NUMBER_WORDS",
    "number_prompts",
    "number_text",
    "phone_prompts",
    "phone_text",
]

#: Prompt id -> Thai text of every word prompt the readings are composed from.
NUMBER_WORDS: Final[dict[str, str]] = {
    "num-0": "ศูนย์",
    "num-1": "หนึ่ง",
    "num-2": "สอง",
    "num-3": "สาม",
    "num-4": "สี่",
    "num-5": "ห้า",
    "num-6": "หก",
    "num-7": "เจ็ด",
    "num-8": "แปด",
    "num-9": "เก้า",
    "num-10": "สิบ",
    "num-20-prefix": "ยี่",
    "num-et": "เอ็ด",
    "num-100": "ร้อย",
    "num-1000": "พัน",
    "num-10000": "หมื่น",
    "num-100000": "แสน",
    "num-1000000": "ล้าน",
}

_MILLION: Final = 1_000_000
# Place-value prompt for positions 2..5 inside a six-digit group.
_PLACES: Final = ("", "num-10", "num-100", "num-1000", "num-10000", "num-100000")


def _check(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(
            f"cannot read negative number {n}: only non-negative integers have a Thai reading here"
        )


def _group_prompts(g: int) -> list[str]:
    """Prompts for 1 <= g < 1,000,000, read as a number on its own."""
    out: list[str] = []
    digits = str(g)
    top = len(digits) - 1
    for i, ch in enumerate(digits):
        d = int(ch)
        pos = top - i
        if d == 0:
            continue
        if pos == 0:
            out.append("num-et" if d == 1 and g > 9 else f"num-{d}")
        elif pos == 1:
            if d == 2:
                out.append("num-20-prefix")
            elif d != 1:
                out.append(f"num-{d}")
            out.append("num-10")
        else:
            out += [f"num-{d}", _PLACES[pos]]
    return out


def number_prompts(n: int) -> list[str]:
    """The Thai reading of ``n`` as word prompt ids (see :data:`NUMBER_WORDS`).

    >>> number_prompts(21)
    ['num-20-prefix', 'num-10', 'num-et']
    """
    _check(n)
    if n == 0:
        return ["num-0"]
    if n < _MILLION:
        return _group_prompts(n)
    high, low = divmod(n, _MILLION)
    out = [*number_prompts(high), "num-1000000"]
    if low:
        out += _group_prompts(low)
    return out


def number_text(n: int) -> str:
    """The Thai reading of a non-negative integer (0 ศูนย์, 21 ยี่สิบเอ็ด, 10**6 หนึ่งล้าน)."""
    return "".join(NUMBER_WORDS[p] for p in number_prompts(n))


_THAI_DIGITS: Final = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SEPARATORS: Final = " -.()\t"
_MIN_DIGITS: Final = 3  # 191, 1111
_MAX_DIGITS: Final = 15  # E.164 limit


def _phone_digits(number: str) -> str:
    if not isinstance(number, str):
        raise ValueError(f"phone number must be a string, got {type(number).__name__}")
    s = number.strip().translate(_THAI_DIGITS)
    for sep in _SEPARATORS:
        s = s.replace(sep, "")
    if s.startswith("+66"):
        s = "0" + s[3:]
    elif s.startswith("+"):
        raise ValueError(
            f"cannot read phone number {number!r}: only Thai numbers (+66 or 0...) are supported"
        )
    if not s or any(c not in "0123456789" for c in s):
        raise ValueError(
            f"not a phone number: {number!r} (expected digits with optional spaces, "
            "dashes and a leading +66)"
        )
    if not _MIN_DIGITS <= len(s) <= _MAX_DIGITS:
        raise ValueError(
            f"not a phone number: {number!r} has {len(s)} digits "
            f"(expected {_MIN_DIGITS} to {_MAX_DIGITS})"
        )
    return s


def phone_prompts(number: str) -> list[str]:
    """Read a phone number digit by digit: ``"+66 81-234"`` -> num-0, num-8, num-1, ...

    Spaces, dashes, dots and brackets are ignored; a leading +66 reads as 0.
    Raises :class:`ValueError` for anything that is not a phone number.
    """
    return [f"num-{c}" for c in _phone_digits(number)]


def phone_text(number: str) -> str:
    """Thai text of a phone number, digits separated by spaces (ศูนย์ แปด หนึ่ง ...)."""
    return " ".join(NUMBER_WORDS[p] for p in phone_prompts(number))
