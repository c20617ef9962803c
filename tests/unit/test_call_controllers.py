"""Call controllers with a scripted call: what the base owns, and each route's edges."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.agi.types import AgiError, CallHangup, CallInfo
from ivr.callbacks.model import CallbackRequest, CallbackStatus
from ivr.calls.base import CallArgs, CallController, CallSession, TraceSaver
from ivr.calls.callback import CallbackAnswerRoute
from ivr.calls.hotline import HotlineRoute
from ivr.hotlines import HotlineRegistry
from ivr.trace import CallTrace
from tests.scripted import ScriptedCall


class Traces:
    """Stands for the trace store: keeps what it is asked to save."""

    def __init__(self) -> None:
        self.saved: list[CallTrace] = []

    async def save_many(self, traces: list[tuple[CallTrace, str]]) -> bool:
        self.saved += [trace for trace, _ in traces]
        return True


def saver() -> tuple[TraceSaver, Traces]:
    traces = Traces()
    return TraceSaver(traces), traces  # type: ignore[arg-type]


class Failing(CallController):
    """Starts a trace, then fails with ``error`` at its first command."""

    failure_error = "app-error"
    hangup_ends_call = True

    def __init__(self, error: BaseException, saver: TraceSaver) -> None:
        super().__init__(saver)
        self.error = error

    async def handle(self, session: CallSession) -> None:
        session.trace = CallTrace(uniqueid=session.call.info.uniqueid, hotline="1111")
        raise self.error


class FailingLoudly(Failing):
    hangup_ends_call = False


def test_arguments_missing_are_empty() -> None:
    args = CallArgs(("complaint",))
    assert (args[0], args[1], args[5], len(args)) == ("complaint", "", "", 1)


async def test_a_hangup_ends_the_call_quietly_and_the_trace_is_saved() -> None:
    s, traces = saver()
    call = ScriptedCall("0812345678", {})
    await Failing(CallHangup("gone"), s)(call)
    await s.wait(5.0)
    [trace] = traces.saved
    assert trace.outcome == "hangup" and trace.ended_at is not None
    assert "IVR_ERROR" not in call.variables


async def test_a_hangup_goes_on_to_the_server_when_the_route_says_so() -> None:
    s, traces = saver()
    with pytest.raises(CallHangup):
        await FailingLoudly(CallHangup("gone"), s)(ScriptedCall("", {}))
    await s.wait(5.0)
    assert [t.outcome for t in traces.saved] == ["hangup"]


async def test_a_failure_sets_ivr_error_and_is_raised() -> None:
    s, traces = saver()
    call = ScriptedCall("0812345678", {})
    with pytest.raises(ZeroDivisionError):
        await Failing(ZeroDivisionError(), s)(call)
    await s.wait(5.0)
    assert call.variables["IVR_ERROR"] == "app-error"
    assert [t.outcome for t in traces.saved] == ["error"]


async def test_ivr_error_on_a_channel_already_gone_is_not_an_error() -> None:
    class Gone(ScriptedCall):
        async def set_variable(self, name: str, value: str) -> None:
            raise AgiError(511, "Command Not Permitted on a dead channel")

    s, _ = saver()
    with pytest.raises(ZeroDivisionError):  # the route's own failure, not the AGI one
        await Failing(ZeroDivisionError(), s)(Gone("", {}))


async def test_an_unknown_hotline_goes_to_the_dialplan_fallback(tmp_path: Path) -> None:
    s, traces = saver()
    route = HotlineRoute(HotlineRegistry(tmp_path, tmp_path), s)
    call = ScriptedCall("0812345678", {})
    call.info = CallInfo(script="hotline", uniqueid="u1", args=("9999",))
    await route(call)
    assert call.variables["IVR_ERROR"] == "unknown-hotline"
    assert traces.saved == []  # no hotline, no trace


class OneRequest:
    """Stands for the callback store with one request; notes each accept and what the
    call had been told by then (the variables and the prompts played)."""

    def __init__(self, req: CallbackRequest, call: ScriptedCall | None = None) -> None:
        self.req = req
        self.call = call
        self.accepts: list[tuple[str, str, int | None, dict[str, str], list[str]]] = []

    async def get(self, request_id: str) -> CallbackRequest | None:
        return self.req if request_id == self.req.id else None

    async def accept(
        self, request_id: str, instance: str, until: float, *, attempt: int | None = None
    ) -> CallbackRequest | None:
        seen = (dict(self.call.variables), list(self.call.played)) if self.call else ({}, [])
        self.accepts.append((request_id, instance, attempt, *seen))
        return self.req


async def test_the_citizen_pressing_1_is_put_in_the_queue() -> None:
    req = CallbackRequest("cb1", "complaint", "1111", "0812345678", 1.0, 2.0, topic="tax")
    req.status = CallbackStatus.DIALING
    results: list[tuple[str, bool]] = []

    async def on_result(callback_id: str, confirmed: bool) -> None:
        results.append((callback_id, confirmed))

    route = CallbackAnswerRoute(OneRequest(req), on_result)  # type: ignore[arg-type]
    call = ScriptedCall("0812345678", {"callback-press-1": ["1"]})
    call.info = CallInfo(script="callback", uniqueid="u2", args=("cb1",))
    await route(call)
    assert results == [("cb1", True)]
    assert (call.variables["IVR_QUEUE"], call.variables["IVR_TOPIC"]) == ("complaint", "tax")
    assert call.variables["IVR_RESULT"] == "queue"
    assert call.played == ["callback-intro", "name-1111", "callback-press-1", "callback-connecting"]


async def test_a_citizen_answering_while_redis_is_away_is_still_put_in_the_queue() -> None:
    """A fail-over of Redis as the citizen answers: the request comes from the call's
    variables (set by the dispatcher), never a hang-up on the citizen."""

    class Away:
        async def get(self, request_id: str) -> CallbackRequest | None:
            raise RedisConnectionError("No master found for 'ivr'")

        async def accept(self, *args: object, **kw: object) -> CallbackRequest | None:
            raise RedisConnectionError("No master found for 'ivr'")

    results: list[tuple[str, bool]] = []

    async def on_result(callback_id: str, confirmed: bool) -> None:
        results.append((callback_id, confirmed))

    call = ScriptedCall("0812345678", {"callback-press-1": ["1"]})
    call.variables.update(
        IVR_QUEUE="complaint", IVR_TOPIC="tax", IVR_LANGUAGE="th", IVR_ARRIVED_AT="1.500",
        IVR_CALLBACK_ATTEMPT="1",
    )  # fmt: skip
    call.info = CallInfo(script="callback", uniqueid="u4", args=("cb1",))
    await CallbackAnswerRoute(Away(), on_result)(call)  # type: ignore[arg-type]
    assert results == [("cb1", True)]
    assert (call.variables["IVR_RESULT"], call.variables["IVR_QUEUE"]) == ("queue", "complaint")
    assert call.played[-1] == "callback-connecting"


async def test_a_hangup_during_the_call_back_counts_as_not_reached() -> None:
    req = CallbackRequest("cb1", "complaint", "1111", "0812345678", 1.0, 2.0)
    req.status = CallbackStatus.DIALING
    results: list[tuple[str, bool]] = []

    async def on_result(callback_id: str, confirmed: bool) -> None:
        results.append((callback_id, confirmed))

    class HangsUp(ScriptedCall):
        async def play(self, sound: str, escape_digits: str = "") -> str | None:
            raise CallHangup("gone")

    call = HangsUp("0812345678", {})
    call.info = CallInfo(script="callback", uniqueid="u3", args=("cb1",))
    await CallbackAnswerRoute(OneRequest(req), on_result)(call)  # type: ignore[arg-type]
    assert results == [("cb1", False)]


async def test_a_citizen_not_pressing_1_leaves_declined_for_the_dialplan() -> None:
    """The route always answers: the dialplan asks again only when it finds no
    IVR_RESULT (the instance went away during the dialog)."""
    req = CallbackRequest("cb1", "complaint", "1111", "0812345678", 1.0, 2.0)
    req.status = CallbackStatus.DIALING
    results: list[tuple[str, bool]] = []

    async def on_result(callback_id: str, confirmed: bool) -> None:
        results.append((callback_id, confirmed))

    call = ScriptedCall("0812345678", {"callback-press-1": ["5"]})
    call.info = CallInfo(script="callback", uniqueid="u4", args=("cb1",))
    await CallbackAnswerRoute(OneRequest(req), on_result)(call)  # type: ignore[arg-type]
    assert results == [("cb1", False)]
    assert call.variables["IVR_RESULT"] == "declined"
    assert call.played[-1] == "goodbye"


async def test_a_citizen_the_dialplan_queues_is_reported_connected() -> None:
    """Once IVR_RESULT says queue the dialplan queues the citizen, so the callback is
    reported connected even when the connection drops during "connecting you"."""
    req = CallbackRequest("cb1", "complaint", "1111", "0812345678", 1.0, 2.0)
    req.status = CallbackStatus.DIALING
    results: list[tuple[str, bool, list[str]]] = []

    async def on_result(callback_id: str, confirmed: bool) -> None:
        results.append((callback_id, confirmed, list(call.played)))

    class GoneWhileConnecting(ScriptedCall):
        async def play(self, sound: str, escape_digits: str = "") -> str | None:
            if sound.endswith("callback-connecting"):
                raise AgiError("the instance went away")
            return await super().play(sound, escape_digits)

    call = GoneWhileConnecting("0812345678", {"callback-intro": ["1"]})
    call.info = CallInfo(script="callback", uniqueid="u5", args=("cb1",))
    await CallbackAnswerRoute(OneRequest(req), on_result)(call)  # type: ignore[arg-type]
    assert results == [("cb1", True, ["callback-intro"])]
    assert call.variables["IVR_RESULT"] == "queue"


async def test_the_1_is_written_before_the_dialplan_is_told_to_queue_the_citizen() -> None:
    """The request is accepted (never dialled again) before IVR_RESULT and "connecting
    you": an instance stopping during that prompt leaves a citizen the dialplan queues
    and a request its claim's end closes as connected. It is reported connected only
    after the prompt (the agent held for the citizen is let go once it is)."""
    req = CallbackRequest("cb1", "complaint", "1111", "0812345678", 1.0, 2.0, attempts=2)
    req.status = CallbackStatus.DIALING
    call = ScriptedCall("0812345678", {"callback-intro": ["1"]})
    call.info = CallInfo(script="callback", uniqueid="u6", args=("cb1",))
    store = OneRequest(req, call)
    results: list[tuple[str, bool, list[str]]] = []

    async def on_result(callback_id: str, confirmed: bool) -> None:
        results.append((callback_id, confirmed, list(call.played)))

    route = CallbackAnswerRoute(store, on_result, instance="ivr-a")  # type: ignore[arg-type]
    await route(call)
    [(rid, instance, attempt, variables, played)] = store.accepts
    assert (rid, instance, attempt) == ("cb1", "ivr-a", 2)  # this attempt only
    assert "IVR_RESULT" not in variables and variables["IVR_QUEUE"] == "complaint"
    assert played == ["callback-intro"]  # not yet "connecting you"
    assert results == [("cb1", True, ["callback-intro", "callback-connecting"])]
    assert call.variables["IVR_RESULT"] == "queue"


async def test_a_citizen_asked_again_after_their_1_is_not_asked_twice() -> None:
    """Their instance went away after the 1 and before IVR_RESULT: the dialplan asks
    again, on another instance, which finds the request accepted and goes straight on."""
    req = CallbackRequest("cb1", "complaint", "1111", "0812345678", 1.0, 2.0, topic="tax")
    req.status, req.accepted_at = CallbackStatus.DIALING, 5.0
    call = ScriptedCall("0812345678", {})  # presses nothing this time
    call.info = CallInfo(script="callback", uniqueid="u7", args=("cb1",))
    store = OneRequest(req, call)
    results: list[tuple[str, bool]] = []

    async def on_result(callback_id: str, confirmed: bool) -> None:
        results.append((callback_id, confirmed))

    await CallbackAnswerRoute(store, on_result)(call)  # type: ignore[arg-type]
    assert call.played == ["callback-connecting"]
    assert (call.variables["IVR_RESULT"], call.variables["IVR_TOPIC"]) == ("queue", "tax")
    assert store.accepts == []  # written once, by the instance that heard the 1
    assert results == [("cb1", True)]


async def test_a_citizen_gone_before_the_1_is_not_accepted() -> None:
    req = CallbackRequest("cb1", "complaint", "1111", "0812345678", 1.0, 2.0)
    req.status = CallbackStatus.DIALING
    call = ScriptedCall("0812345678", {"callback-press-1": ["5"]})
    call.info = CallInfo(script="callback", uniqueid="u8", args=("cb1",))
    store = OneRequest(req, call)
    results: list[tuple[str, bool]] = []

    async def on_result(callback_id: str, confirmed: bool) -> None:
        results.append((callback_id, confirmed))

    await CallbackAnswerRoute(store, on_result)(call)  # type: ignore[arg-type]
    assert store.accepts == [] and results == [("cb1", False)]
