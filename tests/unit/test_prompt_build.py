"""Prompt synthesis with the real espeak-ng and sox, and installing sounds for Asterisk."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
import wave
from pathlib import Path

import pytest

from ivr.speech.build import (
    PromptBuildError,
    ToolMissingError,
    build_prompts,
    install_sounds,
)
from ivr.speech.catalogue import Catalogue, load_catalogue

needs_tts = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="needs espeak-ng and sox (Debian packages espeak-ng, sox)",
)

TWO_PROMPTS = """
goodbye:
  th: ขอบคุณที่ใช้บริการค่ะ สวัสดีค่ะ
  en: Thank you for calling. Goodbye.
num-1: {th: หนึ่ง}
"""


def write_catalogue(root: Path, text: str) -> Catalogue:
    root.mkdir(parents=True, exist_ok=True)
    (root / "catalogue.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return load_catalogue(root)


def assert_asterisk_wav(path: Path) -> None:
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == 8000
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        assert w.getnframes() > 8000 * 0.2  # some real speech, not an empty file


@needs_tts
def test_build_then_rebuild_only_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)

    report = build_prompts(cat, root, langs=("th",))
    assert (report.built, report.unchanged, report.skipped) == (2, 0, 0)
    assert sorted(report.built_ids) == ["th/goodbye", "th/num-1"]
    for pid in ("goodbye", "num-1"):
        assert_asterisk_wav(root / "generated" / "th" / f"{pid}.wav")
    manifest = json.loads((root / "generated" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["prompts"]["th"]) == {"goodbye", "num-1"}

    again = build_prompts(cat, root, langs=("th",))
    assert (again.built, again.unchanged) == (0, 2)

    kept = root / "generated" / "th" / "num-1.wav"
    kept_stat = kept.stat()
    changed = write_catalogue(root, TWO_PROMPTS.replace("สวัสดีค่ะ\n", "แล้วพบกันใหม่ค่ะ\n"))
    third = build_prompts(changed, root, langs=("th",))
    assert third.built_ids == ["th/goodbye"]
    assert third.unchanged_ids == ["th/num-1"]
    assert kept.stat().st_mtime_ns == kept_stat.st_mtime_ns
    assert kept.stat().st_ino == kept_stat.st_ino

    forced = build_prompts(changed, root, langs=("th",), force=True)
    assert forced.built == 2


@needs_tts
def test_english_only_for_prompts_with_english_text(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    report = build_prompts(cat, root)  # th and en
    assert sorted(report.built_ids) == ["en/goodbye", "th/goodbye", "th/num-1"]
    assert_asterisk_wav(root / "generated" / "en" / "goodbye.wav")
    assert not (root / "generated" / "en" / "num-1.wav").exists()


@needs_tts
def test_missing_audio_file_is_rebuilt(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    build_prompts(cat, root, langs=("th",))
    (root / "generated" / "th" / "goodbye.wav").unlink()
    assert build_prompts(cat, root, langs=("th",)).built_ids == ["th/goodbye"]


def test_studio_recordings_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    for lang, pid in [("th", "goodbye"), ("th", "num-1"), ("en", "goodbye")]:
        studio = root / "studio" / lang / f"{pid}.wav"
        studio.parent.mkdir(parents=True, exist_ok=True)
        studio.write_bytes(b"RIFF studio")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # nothing to build: no tools needed
    report = build_prompts(cat, root)
    assert (report.built, report.skipped, report.unchanged) == (0, 3, 0)


@needs_tts
def test_removed_prompts_lose_their_generated_audio(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    build_prompts(cat, root, langs=("th",))
    smaller = write_catalogue(root, "num-1: {th: หนึ่ง}\n")
    report = build_prompts(smaller, root, langs=("th",))
    assert report.removed_ids == ["th/goodbye"]
    assert report.unchanged_ids == ["th/num-1"]
    assert not (root / "generated" / "th" / "goodbye.wav").exists()
    manifest = json.loads((root / "generated" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["prompts"]["th"]) == {"num-1"}


def test_missing_espeak_names_the_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolMissingError, match=r"espeak-ng .*apt-get install espeak-ng"):
        build_prompts(cat, root)


@needs_tts
def test_missing_sox_names_the_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    espeak = shutil.which("espeak-ng")
    assert espeak is not None
    (bin_dir / "espeak-ng").symlink_to(espeak)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ToolMissingError, match=r"sox .*apt-get install sox"):
        build_prompts(cat, root)


@needs_tts
def test_a_failing_synthesis_keeps_the_others(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    fake = tmp_path / "fake-espeak"
    real = shutil.which("espeak-ng")
    fake.write_text(
        '#!/bin/sh\nif grep -q "หนึ่ง"; then echo "voice broke" >&2; exit 3; fi\n'
        f'exec {real} "$@" --stdin <<EOF\nขอบคุณค่ะ\nEOF\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    with pytest.raises(PromptBuildError, match=r"th/num-1: .*exit 3.*voice broke"):
        build_prompts(cat, root, langs=("th",), espeak=str(fake))
    assert_asterisk_wav(root / "generated" / "th" / "goodbye.wav")
    assert not (root / "generated" / "th" / "num-1.wav").exists()
    manifest = json.loads((root / "generated" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["prompts"]["th"]) == {"goodbye"}
    assert not list((root / "generated" / "th").glob(".*"))  # no partial files left


def test_unknown_language(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    with pytest.raises(ValueError, match="no voice"):
        build_prompts(cat, root, langs=("fr",))


def test_install_sounds_layout_studio_first_and_stale_removal(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, TWO_PROMPTS)
    audio = {
        "generated/th/goodbye.wav": b"generated goodbye th",
        "generated/th/num-1.wav": b"generated num-1 th",
        "generated/en/goodbye.wav": b"generated goodbye en",
        "studio/th/goodbye.wav": b"studio goodbye th",
    }
    for rel, data in audio.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    sounds = tmp_path / "sounds"
    stale = sounds / "th" / "ivr" / "old-prompt.wav"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    unrelated = sounds / "th" / "digits" / "1.wav"  # Asterisk's own sounds are left alone
    unrelated.parent.mkdir(parents=True)
    unrelated.write_bytes(b"asterisk")

    assert install_sounds(cat, root, sounds, ("th", "en")) == 3
    assert (sounds / "th" / "ivr" / "goodbye.wav").read_bytes() == b"studio goodbye th"
    assert (sounds / "th" / "ivr" / "num-1.wav").read_bytes() == b"generated num-1 th"
    assert (sounds / "en" / "ivr" / "goodbye.wav").read_bytes() == b"generated goodbye en"
    assert sorted(p.name for p in (sounds / "th" / "ivr").iterdir()) == ["goodbye.wav", "num-1.wav"]
    assert sorted(p.name for p in (sounds / "en" / "ivr").iterdir()) == ["goodbye.wav"]
    assert not stale.exists()
    assert unrelated.read_bytes() == b"asterisk"

    # Idempotent; a prompt dropped from the catalogue is removed on the next install.
    assert install_sounds(cat, root, sounds, ("th", "en")) == 3
    smaller = write_catalogue(root, "num-1: {th: หนึ่ง}\n")
    assert install_sounds(smaller, root, sounds, ("th", "en")) == 1
    assert sorted(p.name for p in (sounds / "th" / "ivr").iterdir()) == ["num-1.wav"]
    assert list((sounds / "en" / "ivr").iterdir()) == []


def test_installed_copy_is_untouched_when_the_source_is_replaced(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    cat = write_catalogue(root, "num-1: {th: หนึ่ง}\n")
    src = root / "generated" / "th" / "num-1.wav"
    src.parent.mkdir(parents=True)
    src.write_bytes(b"first")
    sounds = tmp_path / "sounds"
    install_sounds(cat, root, sounds, ("th",))
    installed = sounds / "th" / "ivr" / "num-1.wav"
    # A rebuild replaces the file (new inode); the installed copy keeps the old audio
    # until the next install.
    tmp = src.with_name("new.wav")
    tmp.write_bytes(b"second")
    os.replace(tmp, src)
    assert installed.read_bytes() == b"first"
    install_sounds(cat, root, sounds, ("th",))
    assert installed.read_bytes() == b"second"


@needs_tts
def test_build_and_install_the_shipped_catalogue(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "prompts" / "catalogue.yaml"
    root = tmp_path / "prompts"
    root.mkdir()
    shutil.copy(shipped, root / "catalogue.yaml")
    cat = load_catalogue(root)
    report = build_prompts(cat, root)
    with_en = sum(1 for pid in cat.ids if cat.has(pid, "en"))
    assert report.built == len(cat) + with_en
    assert install_sounds(cat, root, tmp_path / "sounds") == report.built
    assert_asterisk_wav(tmp_path / "sounds" / "th" / "ivr" / "menu-main-1111.wav")
