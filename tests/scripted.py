"""A scripted caller for call-controller tests: no Asterisk, no socket."""

from __future__ import annotations

from ivr.agi.types import CallInfo

__all__ = ["ScriptedCall"]


class ScriptedCall:
    """Answers prompts from a script: sound -> digits (a list is used up in turn)."""

    def __init__(self, caller_id: str, script: dict[str, list[str]]) -> None:
        self.info = CallInfo(script="queue-wait", uniqueid="u1", caller_id=caller_id)
        self.script = script
        self.played: list[str] = []
        self.variables = {"IVR_HOTLINE": "1111", "IVR_TOPIC": "complaint"}

    def _answer(self, sound: str) -> str:
        answers = self.script.get(sound.removeprefix("ivr/"), [])
        return answers.pop(0) if answers else ""

    async def answer(self) -> None: ...

    async def play(self, sound: str, escape_digits: str = "") -> str | None:
        self.played.append(sound.removeprefix("ivr/"))
        digit = self._answer(sound)
        return digit if digit and digit in escape_digits else None

    async def wait_digit(self, timeout_ms: int) -> str | None:
        return None

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> str:
        self.played.append(sound.removeprefix("ivr/"))
        return self._answer(sound)

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        return self.variables.get(name)

    async def set_language(self, language: str) -> None: ...
