"""What the call flow needs from a live call, independent of the transport.

The menu engine is written against :class:`Call`; ``ivr.agi.call`` implements
it over FastAGI, and unit tests implement it with a scripted fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class CallHangup(Exception):
    """The caller hung up, or the channel is gone: the call flow must end."""


class AgiError(Exception):
    """Asterisk refused or failed a command (510, 511, 520 or a malformed reply)."""


@dataclass(frozen=True)
class CallInfo:
    """The AGI environment Asterisk sent when the call reached the server."""

    script: str
    channel: str = ""
    uniqueid: str = ""
    caller_id: str = ""
    language: str = "th"
    context: str = ""
    extension: str = ""
    args: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)


class Call(Protocol):
    """A live call. Every method raises :class:`CallHangup` once the caller is gone."""

    info: CallInfo

    async def answer(self) -> None: ...

    async def play(self, sound: str, escape_digits: str = "") -> str | None:
        """Play ``sound`` (e.g. ``ivr/greeting-1111``); return the digit that
        interrupted it, or ``None`` when it played to the end."""
        ...

    async def wait_digit(self, timeout_ms: int) -> str | None:
        """Wait for one DTMF digit; ``None`` on timeout."""
        ...

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> str:
        """Play ``sound`` and collect up to ``max_digits`` digits (``#`` ends the entry);
        return the digits, empty on timeout."""
        ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def get_variable(self, name: str) -> str | None: ...

    async def set_language(self, language: str) -> None:
        """Set ``CHANNEL(language)`` so sounds resolve under ``sounds/<lang>/``."""
        ...
