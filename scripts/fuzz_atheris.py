"""Coverage-guided fuzzing of the parsers and loaders with atheris (optional).

    .venv/bin/pip install atheris
    .venv/bin/python scripts/fuzz_atheris.py agi -max_total_time=60

Targets: ``agi`` (AGI reply lines and environment), ``ami`` (AMI bytes to typed
events), ``hotline`` (a hotline file), ``settings`` (a settings file). A crash is
any exception other than the target's documented error; atheris prints the input.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["ivr"]):
    from ivr.agi.replies import AgiProtocolError, ReplyAssembler, parse_headers
    from ivr.ami.events import parse_event
    from ivr.ami.panoramisk_fixes import FixedProtocol, plain
    from ivr.config import ConfigError, load_settings
    from ivr.menus.loader import MenuError, load_hotline

_DIR = Path(tempfile.mkdtemp(prefix="ivr-atheris-"))
_PROMPTS = frozenset({"greeting-1111", "menu-main-1111", "goodbye", "closed-1555"})


def _agi(data: bytes) -> None:
    try:
        parse_headers(data)
    except AgiProtocolError:
        pass
    asm = ReplyAssembler()
    for line in data.decode("utf-8", errors="replace").split("\n"):
        try:
            if asm.feed(line) is not None:
                asm.reset()
        except AgiProtocolError:
            asm.reset()


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


class _Collect(FixedProtocol):
    def __init__(self) -> None:
        self.connection_made(_Transport())
        self.encoding = "utf8"

    def handle_message(self, message: object) -> None:
        parse_event(plain(message))  # type: ignore[arg-type]


def _ami(data: bytes) -> None:
    proto = _Collect()
    cut = data[0] % (len(data) + 1) if data else 0
    proto.data_received(data[:cut])
    proto.data_received(data[cut:])


def _hotline(data: bytes) -> None:
    path = _DIR / "fuzz.yaml"
    path.write_bytes(data)
    try:
        load_hotline(path, _PROMPTS)
    except MenuError:
        pass


def _settings(data: bytes) -> None:
    path = _DIR / "fuzz.toml"
    path.write_bytes(data)
    try:
        load_settings(path)
    except ConfigError:
        pass


TARGETS = {"agi": _agi, "ami": _ami, "hotline": _hotline, "settings": _settings}


def main() -> None:
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
