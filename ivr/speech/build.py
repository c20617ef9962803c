"""Synthesize missing prompts and install prompt audio where Asterisk plays it from.

``build_prompts`` speaks every catalogue prompt that has no studio recording
with espeak-ng and converts it with sox to 8 kHz mono 16-bit WAV, the format
Asterisk plays without transcoding:

    espeak-ng -v th -w raw.wav  ->  sox raw.wav -r 8000 -c 1 -b 16 <id>.wav

into ``prompts/generated/<lang>/<id>.wav``. ``prompts/generated/manifest.json``
keeps a hash of (voice, text) per prompt, so only new or changed prompts are
synthesized again.

``install_sounds`` places the resolved audio (studio first) as
``<sounds>/<lang>/ivr/<id>.wav``: with ``CHANNEL(language)=th``,
``STREAM FILE ivr/<id>`` plays ``<sounds>/th/ivr/<id>.wav``.

Files are always written to a temporary name and renamed into place, so a
call playing a prompt never hears a half-written file, and a hard-linked
installed copy is never changed behind Asterisk's back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ivr.speech.catalogue import GENERATED_DIR, STUDIO_DIR, Catalogue, resolve_audio

__all__ = [
    "MANIFEST_FILE",
    "VOICES",
    "BuildReport",
    "PromptBuildError",
    "ToolMissingError",
    "build_prompts",
    "install_sounds",
]

log = logging.getLogger("ivr.speech")

MANIFEST_FILE: Final = "manifest.json"
#: espeak-ng voice arguments per language.
VOICES: Final[dict[str, tuple[str, ...]]] = {"th": ("-v", "th"), "en": ("-v", "en")}
SAMPLE_RATE: Final = 8000
_SOX_FORMAT: Final = ("-r", str(SAMPLE_RATE), "-c", "1", "-b", "16")
_TOOL_PACKAGES: Final = {"espeak-ng": "espeak-ng", "sox": "sox"}
_TOOL_TIMEOUT_S: Final = 120.0
_MANIFEST_VERSION: Final = 1


class PromptBuildError(Exception):
    """Synthesizing or installing prompts failed."""


class ToolMissingError(PromptBuildError):
    """espeak-ng or sox is not installed."""


@dataclass
class BuildReport:
    """What one build did; ids are given as ``<lang>/<id>``."""

    built_ids: list[str] = field(default_factory=list)
    skipped_ids: list[str] = field(default_factory=list)  # a studio recording exists
    unchanged_ids: list[str] = field(default_factory=list)  # generated audio is up to date
    removed_ids: list[str] = field(default_factory=list)  # generated audio no longer needed

    @property
    def built(self) -> int:
        return len(self.built_ids)

    @property
    def skipped(self) -> int:
        return len(self.skipped_ids)

    @property
    def unchanged(self) -> int:
        return len(self.unchanged_ids)

    @property
    def removed(self) -> int:
        return len(self.removed_ids)

    def summary(self) -> str:
        return (
            f"{self.built} built, {self.unchanged} unchanged, "
            f"{self.skipped} skipped (studio recording), {self.removed} removed"
        )


@dataclass(frozen=True)
class _Job:
    lang: str
    prompt_id: str
    text: str
    voice: tuple[str, ...]
    digest: str
    out: Path

    @property
    def key(self) -> str:
        return f"{self.lang}/{self.prompt_id}"


def _voice_label(voice: Sequence[str]) -> str:
    return " ".join(("espeak-ng", *voice, "|", "sox", *_SOX_FORMAT))


def _digest(voice: Sequence[str], text: str) -> str:
    return hashlib.sha256(f"{_voice_label(voice)}\n{text}".encode()).hexdigest()


def _load_manifest(path: Path) -> dict[str, dict[str, str]]:
    """The manifest's hashes by language; an unreadable manifest means "rebuild all"."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("prompt manifest %s unreadable (%s): rebuilding every prompt", path, exc)
        return {}
    if not isinstance(data, dict) or data.get("version") != _MANIFEST_VERSION:
        return {}
    prompts = data.get("prompts")
    if not isinstance(prompts, dict):
        return {}
    return {
        lang: {k: v for k, v in ids.items() if isinstance(k, str) and isinstance(v, str)}
        for lang, ids in prompts.items()
        if isinstance(lang, str) and isinstance(ids, dict)
    }


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_manifest(path: Path, hashes: dict[str, dict[str, str]]) -> None:
    body = {
        "version": _MANIFEST_VERSION,
        "prompts": {lang: dict(sorted(ids.items())) for lang, ids in sorted(hashes.items())},
    }
    text = json.dumps(body, ensure_ascii=False, indent=1) + "\n"
    _write_atomic(path, text.encode("utf-8"))


def _find_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        package = _TOOL_PACKAGES.get(Path(name).name, Path(name).name)
        raise ToolMissingError(
            f"{name} not found on PATH — install the Debian package '{package}' "
            f"(apt-get install {package}), or provide studio recordings for every prompt"
        )
    return found


def _run(args: list[str], what: str, stdin: bytes | None = None) -> None:
    try:
        proc = subprocess.run(
            args, input=stdin, capture_output=True, timeout=_TOOL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise PromptBuildError(
            f"{what}: {args[0]} took more than {_TOOL_TIMEOUT_S:.0f} s"
        ) from None
    except OSError as exc:
        raise PromptBuildError(f"{what}: cannot run {args[0]}: {exc}") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = err[-1] if err else "no error output"
        raise PromptBuildError(f"{what}: {args[0]} failed (exit {proc.returncode}): {detail}")


def _synthesize(job: _Job, espeak: str, sox: str) -> None:
    job.out.parent.mkdir(parents=True, exist_ok=True)
    part = job.out.with_name(f".{job.prompt_id}.part.wav")
    with tempfile.TemporaryDirectory(prefix="ivr-tts-") as tmp:
        raw = Path(tmp) / "raw.wav"
        # Text goes through stdin (-b 1: UTF-8), so no text is ever taken as an option.
        _run([espeak, *job.voice, "-b", "1", "-w", str(raw), "--stdin"], job.key, job.text.encode())
        try:
            _run([sox, "-q", str(raw), *_SOX_FORMAT, str(part)], job.key)
            os.replace(part, job.out)
        finally:
            part.unlink(missing_ok=True)


def _check_langs(langs: Iterable[str]) -> tuple[str, ...]:
    out = tuple(langs)
    unknown = [lang for lang in out if lang not in VOICES]
    if unknown:
        raise ValueError(f"no voice for language(s) {unknown}: known are {sorted(VOICES)}")
    return out


def build_prompts(
    catalogue: Catalogue,
    root: Path,
    langs: Iterable[str] = ("th", "en"),
    force: bool = False,
    *,
    workers: int = 2,
    espeak: str = "espeak-ng",
    sox: str = "sox",
) -> BuildReport:
    """Synthesize every prompt whose audio is missing or whose text changed.

    ``root`` is the prompts folder. Prompts with a studio recording are skipped;
    ``force`` rebuilds every other one. Raises :class:`ToolMissingError` when
    something needs building and espeak-ng or sox is missing, and
    :class:`PromptBuildError` (after keeping what did build) when a synthesis fails.
    """
    langs = _check_langs(langs)
    manifest_path = root / GENERATED_DIR / MANIFEST_FILE
    old = _load_manifest(manifest_path)
    hashes: dict[str, dict[str, str]] = {lang: dict(ids) for lang, ids in old.items()}
    report = BuildReport()
    jobs: list[_Job] = []
    for lang in langs:
        jobs += _plan_lang(catalogue, root, lang, hashes.setdefault(lang, {}), force, report)

    if jobs:
        failures = _synthesize_all(jobs, hashes, report, workers, espeak, sox)
        _save_manifest(manifest_path, hashes)
        if failures:
            raise PromptBuildError(
                f"{len(failures)} prompt(s) failed to build:\n" + "\n".join(failures)
            )
    elif hashes != old:
        _save_manifest(manifest_path, hashes)
    log.info("prompts: %s", report.summary())
    return report


def _plan_lang(
    catalogue: Catalogue,
    root: Path,
    lang: str,
    lang_hashes: dict[str, str],
    force: bool,
    report: BuildReport,
) -> list[_Job]:
    """The prompts of one language to synthesize; notes the skipped and unchanged ones,
    removes generated audio no longer wanted and forgets the hashes of both."""
    voice = VOICES[lang]
    generated = root / GENERATED_DIR
    wanted: set[str] = set()
    jobs: list[_Job] = []
    for pid in catalogue.ids:
        if not catalogue.has(pid, lang):
            continue
        key = f"{lang}/{pid}"
        if (root / STUDIO_DIR / lang / f"{pid}.wav").is_file():
            report.skipped_ids.append(key)
            continue
        wanted.add(pid)
        digest = _digest(voice, catalogue.text(pid, lang))
        out = generated / lang / f"{pid}.wav"
        if not force and lang_hashes.get(pid) == digest and out.is_file():
            report.unchanged_ids.append(key)
            continue
        jobs.append(_Job(lang, pid, catalogue.text(pid, lang), voice, digest, out))
    _remove_unwanted(catalogue, generated / lang, lang, wanted, report)
    for pid in list(lang_hashes):
        if pid not in wanted:
            del lang_hashes[pid]
    return jobs


def _remove_unwanted(
    catalogue: Catalogue, lang_dir: Path, lang: str, wanted: set[str], report: BuildReport
) -> None:
    """Generated audio for prompts gone from the catalogue (or now recorded in studio)."""
    if not lang_dir.is_dir():
        return
    for path in sorted(lang_dir.glob("*.wav")):
        pid = path.stem
        if pid in wanted or path.name.startswith("."):
            continue
        if catalogue.has(pid, lang):
            continue  # has a studio recording: keep the fallback
        path.unlink()
        report.removed_ids.append(f"{lang}/{pid}")


def _synthesize_all(
    jobs: list[_Job],
    hashes: dict[str, dict[str, str]],
    report: BuildReport,
    workers: int,
    espeak: str,
    sox: str,
) -> list[str]:
    """Run the jobs on ``workers`` threads, recording each built prompt's hash; returns
    the failures (their hashes dropped, so they are built again next time)."""
    espeak_path = _find_tool(espeak)
    sox_path = _find_tool(sox)
    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="tts") as pool:
        futures = [(job, pool.submit(_synthesize, job, espeak_path, sox_path)) for job in jobs]
        for job, future in futures:
            try:
                future.result()
            except PromptBuildError as exc:
                failures.append(str(exc))
                hashes[job.lang].pop(job.prompt_id, None)
            else:
                hashes[job.lang][job.prompt_id] = job.digest
                report.built_ids.append(job.key)
    return failures


def _place(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` atomically: a hard link when possible, else a copy."""
    if dst.exists() and os.path.samefile(src, dst):
        return
    part = dst.with_name(f".{dst.name}.part")
    part.unlink(missing_ok=True)
    try:
        try:
            os.link(src, part)
        except OSError:
            shutil.copyfile(src, part)
        os.replace(part, dst)
    finally:
        part.unlink(missing_ok=True)


def install_sounds(
    catalogue: Catalogue,
    root: Path,
    dest: Path,
    langs: Iterable[str] = ("th", "en"),
) -> int:
    """Install each prompt's audio (studio first) as ``dest/<lang>/ivr/<id>.wav``.

    ``dest`` is Asterisk's sounds folder. Files in ``dest/<lang>/ivr/`` that are
    not installed by this call are removed. Returns the number of files installed.
    """
    count = 0
    for lang in tuple(langs):
        target = dest / lang / "ivr"
        target.mkdir(parents=True, exist_ok=True)
        installed: set[str] = set()
        for pid in catalogue.ids:
            src = resolve_audio(root, pid, lang)
            if src is None:
                if catalogue.has(pid, lang):
                    log.warning("prompt %s/%s has no audio: build the prompts first", lang, pid)
                continue
            name = f"{pid}.wav"
            try:
                _place(src, target / name)
            except OSError as exc:
                raise PromptBuildError(f"cannot install {src} as {target / name}: {exc}") from exc
            installed.add(name)
            count += 1
        for path in target.iterdir():
            if path.name not in installed and (path.is_file() or path.is_symlink()):
                path.unlink()
    return count
