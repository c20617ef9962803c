"""Thai number readings, checked against PyThaiNLP and the Royal Institute rules.

Deviation from PyThaiNLP (5.x): it reads a six-digit group below ล้าน that is
exactly 1 as เอ็ด (1,000,001 -> หนึ่งล้านเอ็ด). Royal Institute usage reads
each group on its own, so that 1 is หนึ่ง (หนึ่งล้านหนึ่ง, ยี่สิบเอ็ดล้านหนึ่ง);
:func:`reference` applies that correction to PyThaiNLP's reading.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ivr.speech.catalogue import load_catalogue
from ivr.speech.thai_numbers import (
    NUMBER_WORDS,
    number_prompts,
    number_text,
    phone_prompts,
    phone_text,
)

pythainlp_util = pytest.importorskip("pythainlp.util")

PROMPTS_ROOT = Path(__file__).resolve().parents[2] / "prompts"
MILLION = 10**6


def reference(n: int) -> str:
    text: str = pythainlp_util.num_to_thaiword(n)
    if n > MILLION and n % MILLION == 1:
        assert text.endswith("ล้านเอ็ด")
        text = text.removesuffix("เอ็ด") + "หนึ่ง"
    return text


def random_numbers(count: int, high: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    # Uniform draws are almost all nine digits long: mix in every magnitude.
    return [rng.randrange(10 ** rng.randint(1, len(str(high)) - 1)) for _ in range(count)] + [
        rng.randrange(high) for _ in range(count)
    ]


@pytest.fixture(scope="module")
def thai_words() -> dict[str, str]:
    catalogue = load_catalogue(PROMPTS_ROOT)
    return {pid: catalogue.text(pid, "th") for pid in NUMBER_WORDS}


def test_pythainlp_deviation_is_what_the_docstring_says() -> None:
    assert pythainlp_util.num_to_thaiword(0) == "ศูนย์"
    assert pythainlp_util.num_to_thaiword(1_000_001) == "หนึ่งล้านเอ็ด"
    assert number_text(1_000_001) == "หนึ่งล้านหนึ่ง"


def test_matches_reference_up_to_20000() -> None:
    mismatches = [
        (n, number_text(n), reference(n)) for n in range(20_001) if number_text(n) != reference(n)
    ]
    assert mismatches == []


def test_matches_reference_for_random_numbers_up_to_a_billion() -> None:
    numbers = random_numbers(2_500, 10**9, seed=20191224)
    numbers += [k * MILLION + 1 for k in range(1, 200)]  # the deviation case, many times
    mismatches = [
        (n, number_text(n), reference(n)) for n in numbers if number_text(n) != reference(n)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "ศูนย์"),
        (1, "หนึ่ง"),
        (10, "สิบ"),
        (11, "สิบเอ็ด"),
        (20, "ยี่สิบ"),
        (21, "ยี่สิบเอ็ด"),
        (101, "หนึ่งร้อยเอ็ด"),
        (110, "หนึ่งร้อยสิบ"),
        (1001, "หนึ่งพันเอ็ด"),
        (10_000, "หนึ่งหมื่น"),
        (100_000, "หนึ่งแสน"),
        (999_999, "เก้าแสนเก้าหมื่นเก้าพันเก้าร้อยเก้าสิบเก้า"),
        (10**6, "หนึ่งล้าน"),
        (10**6 + 1, "หนึ่งล้านหนึ่ง"),
        (10**6 + 11, "หนึ่งล้านสิบเอ็ด"),
        (11 * 10**6, "สิบเอ็ดล้าน"),
        (21_000_001, "ยี่สิบเอ็ดล้านหนึ่ง"),
        (101_000_000, "หนึ่งร้อยเอ็ดล้าน"),
        (10**9, "หนึ่งพันล้าน"),
        (10**12, "หนึ่งล้านล้าน"),
        (10**12 + 1, "หนึ่งล้านล้านหนึ่ง"),
        (21 * 10**12 + 21, "ยี่สิบเอ็ดล้านล้านยี่สิบเอ็ด"),
        (10**18, "หนึ่งล้านล้านล้าน"),
    ],
)
def test_edge_cases(n: int, text: str) -> None:
    assert number_text(n) == text


def test_prompts_compose_to_text(thai_words: dict[str, str]) -> None:
    numbers = [*range(20_001), *random_numbers(2_500, 10**9, seed=537)]
    numbers += [10**6, 10**6 + 1, 11 * 10**6, 21_000_001, 10**9, 10**12, 10**12 + 1]
    for n in numbers:
        prompts = number_prompts(n)
        assert "".join(thai_words[p] for p in prompts) == number_text(n), n


def test_prompt_ids_are_the_small_set() -> None:
    assert sorted(NUMBER_WORDS) == sorted(
        [f"num-{d}" for d in range(10)]
        + ["num-10", "num-20-prefix", "num-et", "num-100", "num-1000", "num-10000"]
        + ["num-100000", "num-1000000"]
    )
    assert number_prompts(21) == ["num-20-prefix", "num-10", "num-et"]
    assert number_prompts(1_000_001) == ["num-1", "num-1000000", "num-1"]
    assert number_prompts(0) == ["num-0"]


def test_catalogue_text_matches_number_words(thai_words: dict[str, str]) -> None:
    assert thai_words == NUMBER_WORDS


def test_negative_number_is_an_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        number_text(-1)
    with pytest.raises(ValueError, match="negative"):
        number_prompts(-5)


def test_non_integer_is_an_error() -> None:
    with pytest.raises(TypeError):
        number_text(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        number_text(True)


@pytest.mark.parametrize(
    ("number", "digits"),
    [
        ("0812345678", "0812345678"),
        ("+66812345678", "0812345678"),
        ("+66 81 234 5678", "0812345678"),
        ("02-123-4567", "021234567"),
        ("191", "191"),
        ("1111", "1111"),
        ("๐๒-๑๒๓-๔๕๖๗", "021234567"),
    ],
)
def test_phone_prompts(number: str, digits: str) -> None:
    assert phone_prompts(number) == [f"num-{d}" for d in digits]


def test_phone_text() -> None:
    assert phone_text("+66812345678") == "ศูนย์ แปด หนึ่ง สอง สาม สี่ ห้า หก เจ็ด แปด"
    assert phone_text("02-123-4567") == "ศูนย์ สอง หนึ่ง สอง สาม สี่ ห้า หก เจ็ด"


@pytest.mark.parametrize(
    "number",
    ["", "   ", "abc", "08x1234567", "12", "1" * 16, "+1 555 0100", "66+812345678", "081/234"],
)
def test_not_a_phone_number(number: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        phone_prompts(number)
    with pytest.raises(ValueError, match="phone number"):
        phone_text(number)


def test_phone_number_must_be_text() -> None:
    with pytest.raises(ValueError, match="string"):
        phone_prompts(812345678)  # type: ignore[arg-type]
