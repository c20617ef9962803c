"""The ``callback`` route: on the call the dispatcher placed to a citizen.

Who is calling and why, then "กดหนึ่ง เพื่อเชื่อมต่อกับเจ้าหน้าที่"; only a 1 counts as
reached (an answering machine does not), and the dialplan then puts the citizen at
the head of the queue. The route always leaves ``IVR_RESULT`` (``queue`` or
``declined``): the dialplan asks again when it finds none, the sign that the
instance went away during the dialog. When Redis cannot be read at that moment
(a fail-over), the request is taken from the channel variables the dispatcher set
on the call: the citizen who answered is never hung up on for it.

At the 1, before ``IVR_RESULT`` and "connecting you", the request is marked
accepted (:meth:`ivr.store.callbacks.CallbackStore.accept`): an instance that dies
during that prompt leaves a citizen the dialplan queues and a request never dialled
again, closed as connected when its claim ends. It is reported connected only after
the prompt, as the agent held for the citizen is let go once it is (a report before
it let the agent go to a live caller before the citizen joined). A citizen asked
again after their instance went away past the 1 is not asked twice: straight on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from ivr.agi.types import AgiError, Call, CallHangup
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.callbacks.policy import CONNECT_JOIN_GRACE_S
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
        timeout_ms: int = 5000, instance: str = "", accept_grace_s: float = CONNECT_JOIN_GRACE_S,
    ) -> None:  # fmt: skip
        super().__init__()
        self.store = store
        self.on_result = on_result
        self.tries = tries
        self.timeout_ms = timeout_ms
        self.instance = instance  # named in the request's history as the one that accepted
        self.accept_grace_s = accept_grace_s  # the claim ends this long after the 1

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
            if req.accepted_at or await self._confirmed(call, req.hotline):
                await call.set_variable("IVR_QUEUE", req.queue)
                await call.set_variable("IVR_TOPIC", req.topic)
                await self._accept(req)
                queued = True  # accepted: connected, whatever comes (never dialled again)
                await call.set_variable("IVR_RESULT", "queue")
                await call.play(sound("callback-connecting"))
            else:
                await call.set_variable("IVR_RESULT", "declined")
                await call.play(sound("goodbye"))
        except (CallHangup, AgiError):
            pass  # the citizen is gone: not reached unless the 1 came, retried later
        finally:
            # after "connecting you": reported connected earlier, the agent held for
            # this citizen is let go before they join the queue at its head
            await self._report(req, queued)

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

    async def _accept(self, req: CallbackRequest) -> None:
        """The durable fact of the 1, before the dialplan is told to queue the citizen.
        Redis away: the citizen is put through all the same (with Sentinel the change
        is written again once Redis is back; without, a stop of this instance during
        "connecting you" could still leave the request to be dialled again)."""
        if req.accepted_at:
            return  # asked again after the instance that heard the 1 went away
        try:
            await self.store.accept(
                req.id,
                self.instance,
                time.time() + self.accept_grace_s,
                attempt=req.attempts or None,
            )
        except (RedisError, OSError) as e:
            call_log.warning(
                "callback accepted but not written (Redis away): connected all the same",
                extra=fields(callback=req.id, error=str(e) or type(e).__name__),
            )

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
