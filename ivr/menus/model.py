"""The hotline menu model: what :mod:`ivr.menus.loader` builds from a YAML file
and :mod:`ivr.menus.engine` walks.

Every element keeps the line of the YAML file it came from (``line``, 1-based;
0 when it was not written in the file but implied by a default), so that
messages about it can point at the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.menus.hours import BusinessHours

# Prompt ids the engine plays by itself (``sounds/<lang>/ivr/<id>.wav``).
NO_INPUT = "no-input"
INVALID_OPTION = "invalid-option"
GOODBYE = "goodbye"
TRANSFER_TO_OPERATOR = "transfer-to-operator"
TRANSFER_TO_QUEUE = "transfer-to-queue"
TRANSFER_NUMBER = "transfer-number"
HOLIDAY_CLOSED = "holiday-closed"
CLOSED_NOW = "closed-now"  # closed by a supervisor, for a file without `closed:`

LANGUAGES = ("th", "en")  # languages the prompt catalogue is recorded in
KEYS = "0123456789*#"  # every key a menu may use, in the order Asterisk is given them
BACK_KEY = "*"


@dataclass(frozen=True)
class GoMenu:
    """Enter another menu (``*`` in it comes back here)."""

    menu: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class PlayInfo:
    """Play an information page, then the same menu again."""

    prompt: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ToQueue:
    """Hand the call to an Asterisk queue, after announcing ``prompt``."""

    queue: str
    topic: str = ""
    prompt: str = TRANSFER_TO_QUEUE
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Transfer:
    """Hand the call to a number; ``target`` is a transfer name from the file's
    ``transfers:`` or a number, ``number`` the dialable number it stands for."""

    target: str
    prompt: str = TRANSFER_NUMBER
    number: str = ""
    line: int = field(default=0, compare=False)

    @property
    def dial(self) -> str:
        return self.number or self.target


@dataclass(frozen=True)
class Goodbye:
    """Play ``prompt`` and let the dialplan hang up."""

    prompt: str = GOODBYE
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class SetLanguage:
    """Switch the channel's language and replay the current menu."""

    language: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Back:
    """Go back to the menu the caller came from."""

    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Repeat:
    """Play the current menu again."""

    line: int = field(default=0, compare=False)


Action = GoMenu | PlayInfo | ToQueue | Transfer | Goodbye | SetLanguage | Back | Repeat
FinalAction = ToQueue | Transfer | Goodbye


@dataclass(frozen=True)
class Menu:
    id: str
    prompt: str
    timeout_s: float = 5.0
    retries: int = 3  # replays after a timeout or wrong key; the next failure runs on_fail
    repeat_key: str | None = "9"
    options: Mapping[str, Action] = field(default_factory=dict)
    on_fail: FinalAction = field(
        default_factory=lambda: ToQueue("operator", "operator", TRANSFER_TO_OPERATOR)
    )
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class QueueDef:
    """A queue the hotline may hand calls to (an Asterisk ``queues.conf`` name)."""

    name: str
    topic: str = ""
    label: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ClosedPolicy:
    """What a caller hears outside business hours."""

    prompt: str
    then: FinalAction = field(default_factory=Goodbye)
    holiday_prompt: str | None = None
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Hotline:
    id: str
    name_th: str
    default_queue: str
    greeting: str
    menus: Mapping[str, Menu]
    start: str = "main"
    name_en: str = ""
    languages: tuple[str, ...] = ("th",)
    emergency: str | None = None
    hours: BusinessHours = field(default_factory=BusinessHours.always)
    closed: ClosedPolicy | None = None
    queues: Mapping[str, QueueDef] = field(default_factory=dict)
    transfers: Mapping[str, str] = field(default_factory=dict)  # name -> dialable number
    source: str = ""
    version: str = ""  # first 12 hex digits of the sha256 of the file

    @property
    def start_menu(self) -> Menu:
        return self.menus[self.start]

    def prompts(self) -> set[str]:
        """Every prompt id a call to this hotline may play."""
        out = {self.greeting, NO_INPUT, INVALID_OPTION}
        if self.emergency:
            out.add(self.emergency)
        finals: list[FinalAction] = []
        if self.closed:
            out.add(self.closed.prompt)
            if self.closed.holiday_prompt:
                out.add(self.closed.holiday_prompt)
            finals.append(self.closed.then)
        for menu in self.menus.values():
            out.add(menu.prompt)
            finals.append(menu.on_fail)
            for action in menu.options.values():
                if isinstance(action, PlayInfo):
                    out.add(action.prompt)
                elif isinstance(action, ToQueue | Transfer | Goodbye):
                    finals.append(action)
        for final in finals:
            out.add(final.prompt)
        return out
