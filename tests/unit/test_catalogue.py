"""Prompt catalogue: the shipped catalogue, loading errors, audio resolution."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from ivr.speech.catalogue import (
    PROMPT_ID_RE,
    Catalogue,
    CatalogueError,
    load_catalogue,
)
from ivr.speech.thai_numbers import NUMBER_WORDS

PROMPTS_ROOT = Path(__file__).resolve().parents[2] / "prompts"

SYSTEM_IDS = [
    "invalid-option",
    "no-input",
    "goodbye",
    "transfer-to-operator",
    "transfer-to-queue",
    "transfer-number",
    "back",
    "holiday-closed",
]
HOTLINE_1111_IDS = [
    "greeting-1111",
    "emergency-1111",
    "menu-main-1111",
    "info-services-1111",
    "menu-track-1111",
    "info-track-web-1111",
    "closed-1111",
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# --- the shipped catalogue --------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(PROMPTS_ROOT)


def test_shipped_catalogue_has_the_required_prompts(shipped: Catalogue) -> None:
    for pid in [*NUMBER_WORDS, *SYSTEM_IDS, *HOTLINE_1111_IDS]:
        assert shipped.has(pid, "th"), pid
    for pid in [*SYSTEM_IDS, *HOTLINE_1111_IDS]:
        assert shipped.has(pid, "en"), pid
    assert all(PROMPT_ID_RE.match(pid) for pid in shipped.ids)


def test_shipped_thai_is_polite_with_one_voice(shipped: Catalogue) -> None:
    for pid in shipped.ids:
        th = shipped.text(pid, "th")
        assert "ครับ" not in th, pid
        assert not re.search(r"[0-9]", th), (
            f"{pid}: write numbers as Thai words so the voice reads them in Thai"
        )
    assert shipped.text("goodbye") == "ขอบคุณที่ใช้บริการค่ะ สวัสดีค่ะ"
    assert shipped.text("greeting-1111").startswith("สวัสดีค่ะ")


def test_shipped_menu_texts_mention_their_keys(shipped: Catalogue) -> None:
    menu = shipped.text("menu-main-1111")
    for key in ("กดหนึ่ง", "กดสอง", "กดสาม", "กดศูนย์", "กดเก้า", "press eight"):
        assert key in menu
    track = shipped.text("menu-track-1111")
    for key in ("กดหนึ่ง", "กดสอง", "กดดอกจัน"):
        assert key in track
    closed = shipped.text("closed-1111")
    for part in ("วันจันทร์ถึงวันศุกร์", "แปดนาฬิกาสามสิบนาที", "สิบหกนาฬิกาสามสิบนาที", "หนึ่งเก้าหนึ่ง"):
        assert part in closed


# --- lookups -----------------------------------------------------------------


def test_lookups(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        hello:
          th: สวัสดีค่ะ
          en: Hello
        only-thai: {th: "ไทย   เท่านั้น"}
        folded:
          th: >-
            บรรทัดหนึ่ง
            บรรทัดสอง
        """,
    )
    cat = load_catalogue(tmp_path)
    assert cat.ids == ("hello", "only-thai", "folded")
    assert cat.text("hello") == "สวัสดีค่ะ"
    assert cat.text("hello", "en") == "Hello"
    assert cat.text("only-thai") == "ไทย เท่านั้น"  # whitespace collapsed
    assert cat.text("folded") == "บรรทัดหนึ่ง บรรทัดสอง"
    assert cat.has("hello") and cat.has("hello", "en")
    assert not cat.has("only-thai", "en") and not cat.has("nope")
    assert "hello" in cat and len(cat) == 3
    assert dict(cat.texts("hello")) == {"th": "สวัสดีค่ะ", "en": "Hello"}
    with pytest.raises(KeyError, match="unknown prompt id"):
        cat.text("nope")
    with pytest.raises(KeyError, match="no 'en' text"):
        cat.text("only-thai", "en")


# --- loading errors ----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        pytest.param(
            """
            hello:
              th: สวัสดี
            bye:
              th: [ลาก่อน
            """,
            4,
            "YAML syntax error",
            id="syntax",
        ),
        pytest.param(
            """
            hello:
              th: "ไม่ปิดคำพูด
            """,
            2,
            "YAML syntax error",
            id="unclosed-quote",
        ),
        pytest.param(
            """
            hello:
              th: สวัสดี
             bye: ลาก่อน
            """,
            3,
            "YAML syntax error",
            id="bad-indent",
        ),
        pytest.param(
            "hello:\n\tth: สวัสดี\n",
            2,
            "not tabs",
            id="tab",
        ),
        pytest.param(
            """
            hello:
              th: สวัสดี
            bye:
              th: ลาก่อน
            hello:
              th: อีกครั้ง
            """,
            5,
            "duplicate prompt id 'hello' (first defined on line 1)",
            id="duplicate",
        ),
        pytest.param(
            """
            hello:
              th: สวัสดี
            bye:
              th: ""
            """,
            4,
            "empty 'th' text",
            id="empty-quoted",
        ),
        pytest.param(
            """
            hello:
              th:
              en: Hello
            """,
            2,
            "empty 'th' text",
            id="empty-null",
        ),
        pytest.param(
            """
            ok:
              th: ได้
            Bad_Id:
              th: ไม่ได้
            """,
            3,
            "bad prompt id 'Bad_Id'",
            id="bad-id",
        ),
        pytest.param(
            """
            ok:
              th: ได้
            plain: just a string
            """,
            3,
            "must be a mapping of language to text",
            id="non-mapping-entry",
        ),
        pytest.param(
            """
            ok:
              th: ได้
            english-only:
              en: Hello
            """,
            4,
            "has no Thai text",
            id="no-thai",
        ),
        pytest.param(
            """
            ok:
              th: ได้
              fr: Bonjour
            """,
            3,
            "unknown language key 'fr'",
            id="unknown-language",
        ),
        pytest.param(
            """
            ok:
              th: 123
            """,
            2,
            "is not a string",
            id="number-text",
        ),
        pytest.param(
            """
            ok:
              th: [a, b]
            """,
            2,
            "must be a single string",
            id="list-text",
        ),
        pytest.param(
            """
            - th: สวัสดี
            """,
            1,
            "must be a mapping of prompt id to texts",
            id="top-level-list",
        ),
    ],
)
def test_loading_errors_name_file_and_line(
    tmp_path: Path, source: str, line: int, fragment: str
) -> None:
    path = write(tmp_path, source)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(tmp_path)
    message = str(info.value)
    assert len(info.value.problems) == 1, message
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message
    assert " — " in message  # every problem says how to fix it


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        Bad:
          th: x
        ok:
          th: ได้
        ok:
          th: ซ้ำ
        empty:
          th: ""
        """,
    )
    with pytest.raises(CatalogueError) as info:
        load_catalogue(tmp_path)
    lines = [p.where for p in info.value.problems]
    assert lines == [f"{path}:1", f"{path}:5", f"{path}:8"]
    assert str(info.value).count("\n") == 2


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="file not found"):
        load_catalogue(tmp_path)
    write(tmp_path, "# nothing yet\n")
    with pytest.raises(CatalogueError, match="catalogue is empty"):
        load_catalogue(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "catalogue.yaml").write_bytes("hello:\n  th: สวัสดี\n".encode("tis-620"))
    with pytest.raises(CatalogueError, match="UTF-8"):
        load_catalogue(tmp_path)


# --- audio resolution --------------------------------------------------------


def test_studio_recording_wins_over_generated(tmp_path: Path) -> None:
    write(tmp_path, "hello: {th: สวัสดีค่ะ, en: Hello}\n")
    cat = load_catalogue(tmp_path)
    assert cat.audio_path("hello", "th") is None

    generated = tmp_path / "generated" / "th" / "hello.wav"
    generated.parent.mkdir(parents=True)
    generated.write_bytes(b"generated")
    assert cat.audio_path("hello", "th") == generated
    assert cat.audio_path("hello", "en") is None

    studio = tmp_path / "studio" / "th" / "hello.wav"
    studio.parent.mkdir(parents=True)
    studio.write_bytes(b"studio")
    assert cat.audio_path("hello", "th") == studio
    assert cat.audio_path("hello") == studio

    studio.unlink()
    assert cat.audio_path("hello", "th") == generated
