"""The ``callback`` route: on the call the dispatcher placed to a citizen.

Who is calling and why, then "กดหนึ่ง เพื่อเชื่อมต่อกับเจ้าหน้าที่"; only a 1 counts as
reached (an answering machine does not), and the dialplan then puts the citizen at
the head of the queue. The route always leaves ``IVR_RESULT`` (``queue`` or
``declined``): the dialplan asks again when it finds none, the sign that the
instance went away during the dialog. When Redis cannot be read at that moment
(a fail-over), the request is taken from the channel variables the dispatcher set
on the call: the citizen who answered is never hung up on for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from ivr.agi.types import AgiError, Call, CallHangup
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.calls.base import CallController, CallSession
from ivr.log import call_log, fields
from ivr.speech.sounds import sound
from ivr.store.callbacks import CallbackStore

__all__ = ["AnswerResult", "CallbackAnswerRoute"]

AnswerResult = Callable[[str, bool], Awaitable[None]]


class CallbackAnswerRoute(CallController):
    """``AGI(agi://…/callback,<callback id>)`` on the call placed to the citizen."""

    def __init__(
        self, store: CallbackStore, on_result: AnswerResult, tries: int = 2,
        timeout_ms: int = 5000,
    ) -> None:  # fmt: skip
        super().__init__()
        self.store = store
        self.on_result = on_result
        self.tries = tries
        self.timeout_ms = timeout_ms

    async def handle(self, session: CallSession) -> None:
        call = session.call
        cb_id = session.args[0]
        try:
            req = await self.store.get(cb_id) if cb_id else None
        except (RedisError, OSError) as e:
            call_log.warning(
                "callback answered while Redis is away: taken from the call's variables",
                extra=fields(callback=cb_id, error=str(e) or type(e).__name__),
            )
            req = await _from_variables(call, cb_id)
        if req is None or req.status not in (CallbackStatus.DIALING, CallbackStatus.PENDING):
            call_log.error("callback answered but unknown or closed", extra=fields(callback=cb_id))
            with contextlib.suppress(CallHangup, AgiError):
                await call.set_variable("IVR_RESULT", "declined")
                await call.play(sound("goodbye"))
            return
        queued = False
        try:
            await call.set_language(req.language or "th")
            if await self._confirmed(call, req.hotline):
                await call.set_variable("IVR_QUEUE", req.queue)
                await call.set_variable("IVR_TOPIC", req.topic)
                await call.set_variable("IVR_RESULT", "queue")
                # told at once: an instance stopping from here on leaves a citizen the
                # dialplan queues, never one called a second time
                queued = True
                await self._report(req, True)
                await call.play(sound("callback-connecting"))
            else:
                await call.set_variable("IVR_RESULT", "declined")
                await call.play(sound("goodbye"))
        except (CallHangup, AgiError):
            pass  # the citizen is gone: not reached, retried later
        finally:
            if not queued:
                await self._report(req, False)

    async def _confirmed(self, call: Call, hotline: str) -> bool:
        """Who is calling and why, then "press 1", ``tries`` times: True on a 1."""
        for _ in range(self.tries):
            digit = await call.play(sound("callback-intro"), "1")
            if digit is None and hotline:
                digit = await call.play(sound(f"name-{hotline}"), "1")
            if digit is None:
                digit = await call.play(sound("callback-press-1"), "1")
            if digit is None:
                digit = await call.wait_digit(self.timeout_ms)
            if digit == "1":
                return True
        return False

    async def _report(self, req: CallbackRequest, confirmed: bool) -> None:
        await self.on_result(req.id, confirmed)
        call_log.info(
            "callback answered",
            extra=fields(callback=req.id, confirmed=confirmed, attempt=req.attempts),
        )


async def _from_variables(call: Call, cb_id: str) -> CallbackRequest:
    """The request as the dispatcher described it in the call's variables
    (:meth:`ivr.lineup.dispatcher.CallbackDispatcher._variables`)."""
    got = {
        name: await call.get_variable(name) or ""
        for name in ("IVR_QUEUE", "IVR_HOTLINE", "IVR_TOPIC", "IVR_LANGUAGE", "IVR_ARRIVED_AT")
    }
    attempt = await call.get_variable("IVR_CALLBACK_ATTEMPT") or ""
    try:
        arrived = float(got["IVR_ARRIVED_AT"])
    except ValueError:
        arrived = 0.0
    return CallbackRequest(
        id=cb_id,
        queue=got["IVR_QUEUE"],
        hotline=got["IVR_HOTLINE"],
        number="",
        arrived_at=arrived,
        requested_at=arrived,
        topic=got["IVR_TOPIC"],
        language=got["IVR_LANGUAGE"] or "th",
        status=CallbackStatus.DIALING,
        attempts=int(attempt) if attempt.isdigit() else 0,
    )
