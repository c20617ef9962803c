"""The menu engine: walks a hotline's menus with a caller, then hands the call back.

Flow of one call:

1. If the channel is not in the hotline's first language, switch it.
2. The emergency announcement, when the hotline has one (not interruptible):
   a supervisor's (:mod:`ivr.menus.overrides`) replaces the file's.
3. Outside business hours, or closed by a supervisor (an ``open`` override
   opens it even outside hours): the holiday prompt (on a public holiday, when
   the file names one), the closed prompt, then the closed action (goodbye by
   default, or a queue / transfer such as an after-hours line).
4. Otherwise the greeting, which any key interrupts: that key is the first
   choice in the start menu. Then the menu loop: the menu prompt (its keys
   interrupt it), then up to ``timeout`` seconds for a key.

   - a timeout plays ``no-input``, a key with no meaning ``invalid-option``,
     and the menu is played again; after ``retries`` replays, the next
     failure runs the menu's ``on_fail`` (by default the hotline's default
     queue, announced with ``transfer-to-operator``);
   - ``*`` goes back one menu (in the start menu, when not an option, it
     replays the menu); the repeat key replays the menu;
   - an information page is played (a menu key interrupts it and counts as
     the next choice), then the same menu again;
   - a language option switches the channel's language and replays the menu;
   - a queue, a transfer or goodbye announces itself and ends the menu; a
     queue a supervisor closed plays the closed prompt and runs the closed
     action instead (as in 3, without the holiday prompt).

Before returning, the channel variables ``IVR_RESULT`` (queue, transfer,
goodbye, closed), ``IVR_QUEUE``, ``IVR_TRANSFER`` (a dialable number),
``IVR_TOPIC`` and ``IVR_PATH`` (menus entered and keys chosen, e.g.
``main>3>track>1``) tell the dialplan where to send the call.

A hang-up (:class:`~ivr.agi.types.CallHangup`) propagates to the caller of
:meth:`MenuEngine.run`, which records it; the trace then holds every step up
to the hang-up and no outcome, because the outcome is only recorded once the
dialplan has been told where to go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ivr.agi.types import Call
from ivr.log import fields, menu_log
from ivr.menus.hours import now_in_bangkok
from ivr.menus.model import (
    BACK_KEY,
    INVALID_OPTION,
    KEYS,
    NO_INPUT,
    Action,
    Back,
    FinalAction,
    GoMenu,
    Goodbye,
    Hotline,
    Menu,
    PlayInfo,
    Repeat,
    SetLanguage,
    ToQueue,
    Transfer,
)
from ivr.menus.overrides import NO_OVERRIDES, CallOverrides, closed_policy
from ivr.speech.sounds import sound
from ivr.trace import CallTrace

OutcomeKind = Literal["queue", "transfer", "goodbye", "closed"]
PATH_SEP = ">"


@dataclass(frozen=True)
class Outcome:
    """Where the call goes after the menu."""

    kind: OutcomeKind
    target: str = ""  # queue name or dialable number
    topic: str = ""


class MenuEngine:
    """Runs one hotline's menus; one engine serves every call to that hotline."""

    def __init__(self, hotline: Hotline, clock: Callable[[], datetime] = now_in_bangkok) -> None:
        self.hotline = hotline
        self.clock = clock

    async def run(
        self, call: Call, trace: CallTrace, overrides: CallOverrides = NO_OVERRIDES
    ) -> Outcome:
        return await _CallRun(self.hotline, call, trace, overrides, self.clock()).run()


class _CallRun:
    """The state of one call going through the menus."""

    def __init__(
        self,
        hotline: Hotline,
        call: Call,
        trace: CallTrace,
        overrides: CallOverrides,
        now: datetime,
    ) -> None:
        self.hotline = hotline
        self.call = call
        self.trace = trace
        self.overrides = overrides
        self.path: list[str] = []
        self.now = now  # when the call started: the hours it is judged by

    async def run(self) -> Outcome:
        h, now = self.hotline, self.now
        self.trace.menu_version = h.version
        if not self.trace.hotline:
            self.trace.hotline = h.id
        first_language = h.languages[0]
        if self.call.info.language != first_language:
            await self.call.set_language(first_language)
            self.trace.add("language", first_language)
        emergency = self.overrides.emergency(h)
        if emergency:
            await self.play(emergency)
        hours_open = h.hours.is_open(now)
        if not self.overrides.hotline_open(hours_open):
            return await self.closed(now, self.overrides.closed_why())
        digit = await self.play(h.greeting, KEYS)
        return await self.menus(digit)

    # -- steps ---------------------------------------------------------------

    async def play(self, prompt: str, escape: str = "") -> str | None:
        self.trace.add("prompt", prompt)
        digit = await self.call.play(sound(prompt), escape)
        return digit or None

    async def closed(self, now: datetime, why: str = "") -> Outcome:
        """Closed by the hours, or ``why`` not (a supervisor's override, a closed queue)."""
        h = self.hotline
        local = h.hours.local(now)
        holiday = None if why else h.hours.holiday(local.date())
        reason = why or (f"holiday {holiday}" if holiday else local.strftime("%a %H:%M"))
        self.trace.add("closed", reason)
        policy = closed_policy(h)
        if holiday and policy.holiday_prompt:
            await self.play(policy.holiday_prompt)
        await self.play(policy.prompt)
        return await self.final(policy.then, closed=True)

    async def menus(self, pending: str | None) -> Outcome:
        h = self.hotline
        stack: list[str] = []
        current = h.start
        self.enter(current)
        fails = 0
        while True:
            menu = h.menus[current]
            is_start = current == h.start
            keys = KEYS  # any key interrupts; a wrong one is told so, not ignored
            digit = pending
            pending = None
            if digit is None:
                digit = await self.play(menu.prompt, keys)
            if digit is None:
                digit = await self.call.wait_digit(int(menu.timeout_s * 1000)) or None
            if digit is None:
                self.trace.add("timeout", current)
                fails += 1
                if fails > menu.retries:
                    await self.play(NO_INPUT)
                    return await self.final(menu.on_fail)
                pending = await self.play(NO_INPUT, keys)
                continue
            self.trace.add("digit", digit)
            action = self.resolve(menu, digit, is_start)
            if action is None:
                self.trace.add("invalid", f"{current} {digit}")
                fails += 1
                if fails > menu.retries:
                    await self.play(INVALID_OPTION)
                    return await self.final(menu.on_fail)
                pending = await self.play(INVALID_OPTION, keys)
                continue
            if isinstance(action, Repeat):
                continue
            self.path.append(digit)
            if isinstance(action, GoMenu):
                stack.append(current)
                current = action.menu
                fails = 0
                self.enter(current)
            elif isinstance(action, Back):
                if stack:
                    current = stack.pop()
                    self.enter(current)
                fails = 0
            elif isinstance(action, PlayInfo):
                self.trace.add("info", action.prompt)
                pending = await self.play(action.prompt, keys)
                fails = 0
            elif isinstance(action, SetLanguage):
                await self.call.set_language(action.language)
                self.trace.add("language", action.language)
                fails = 0
            else:
                return await self.final(action)

    def resolve(self, menu: Menu, digit: str, is_start: bool) -> Action | None:
        action = menu.options.get(digit)
        if action is not None:
            return action
        if digit == BACK_KEY:
            return Repeat() if is_start else Back()
        if digit == menu.repeat_key:
            return Repeat()
        return None

    def enter(self, menu_id: str) -> None:
        self.trace.add("menu", menu_id)
        self.path.append(menu_id)

    async def final(self, action: FinalAction, closed: bool = False) -> Outcome:
        """Announce the hand-off, tell the dialplan, then record the outcome."""
        if isinstance(action, ToQueue) and not closed:
            if self.overrides.queue_closed(action.queue):
                return await self.closed(self.now, f"queue {action.queue} closed")
        if isinstance(action, ToQueue):
            self.trace.topic = action.topic  # the caller's choice, even if they hang up now
        await self.play(action.prompt)
        outcome: Outcome
        if isinstance(action, ToQueue):
            outcome = Outcome("queue", action.queue, action.topic)
        elif isinstance(action, Transfer):
            outcome = Outcome("transfer", action.dial)
        else:
            assert isinstance(action, Goodbye)
            outcome = Outcome("closed" if closed else "goodbye")
        await self.tell_dialplan(outcome)
        self.trace.finish(outcome.kind, outcome.target)
        menu_log.info(
            "menu done",
            extra=fields(
                call=self.trace.uniqueid,
                hotline=self.hotline.id,
                outcome=outcome.kind,
                target=outcome.target,
                topic=outcome.topic,
                path=PATH_SEP.join(self.path),
            ),
        )
        return outcome

    async def tell_dialplan(self, outcome: Outcome) -> None:
        values = {
            "IVR_RESULT": outcome.kind,
            "IVR_QUEUE": outcome.target if outcome.kind == "queue" else "",
            "IVR_TRANSFER": outcome.target if outcome.kind == "transfer" else "",
            "IVR_TOPIC": outcome.topic,
            "IVR_PATH": PATH_SEP.join(self.path),
        }
        for name, value in values.items():
            await self.call.set_variable(name, value)
