"""A live call over FastAGI: :class:`AgiCall` implements :class:`ivr.agi.types.Call`.

It wraps a panoramisk :class:`~panoramisk.fast_agi.Request` (kept as ``.request``) and
uses its reader and writer, but sends commands and reads replies itself: panoramisk's
own parser breaks on multi-line ``520`` replies and on the inline ``HANGUP`` line.

Rules:

* one command at a time (a lock serialises concurrent callers);
* every command has a timeout; on timeout the connection is dropped (a late reply would
  otherwise be read as the answer to the next command) and :class:`AgiError` is raised.
  One timer per call watches the deadline of the command in progress, moved only when
  a command's deadline comes before it (``asyncio.timeout`` for each command made and
  cancelled a timer per command, a fifth of a command's cost); when it fires on time
  it drops the connection, which ends the wait for the reply;
* once the channel is known to be gone (``HANGUP`` line, ``result=-1``, ``511``, end of
  the connection) every command raises :class:`CallHangup` without writing anything;
* ``510`` and ``520`` raise :class:`AgiError` carrying Asterisk's message / usage text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from panoramisk.fast_agi import Request

from ivr.agi.replies import AgiProtocolError, AgiReply, quote_arg, read_reply
from ivr.agi.types import AgiError, CallHangup, CallInfo
from ivr.log import agi_log, fields
from ivr.privacy import mask_phone

__all__ = [
    "DEFAULT_COMMAND_TIMEOUT",
    "DEFAULT_STREAM_TIMEOUT",
    "AgiCall",
    "call_info_from_headers",
]

DEFAULT_COMMAND_TIMEOUT = 30.0
"""Seconds a simple command (ANSWER, SET VARIABLE, …) may take."""

DEFAULT_STREAM_TIMEOUT = 3600.0
"""Seconds a STREAM FILE may take: prompts (information pages) can be long."""

_ESCAPE_CHARS = "0123456789*#ABCD"
_ESCAPE_DIGITS = frozenset(_ESCAPE_CHARS)
_BAD_NAME_RE = re.compile(r'[\s"\\\x00-\x1f\x7f]')
_LANGUAGE_RE = re.compile(r"[A-Za-z0-9_\-]+\Z")
_SOUND_BAD_RE = re.compile(r"[\s\x00-\x1f\x7f]")
_APP_RE = re.compile(r"[A-Za-z0-9_]+\Z")


def call_info_from_headers(headers: Mapping[str, str]) -> CallInfo:
    """Build :class:`CallInfo` from the AGI environment (``agi_*`` headers)."""
    args: list[str] = []
    n = 1
    while f"agi_arg_{n}" in headers:
        args.append(headers[f"agi_arg_{n}"])
        n += 1
    caller_id = headers.get("agi_callerid", "")
    if caller_id.strip().lower() == "unknown":
        caller_id = ""
    return CallInfo(
        script=headers.get("agi_network_script", "").lstrip("/"),
        channel=headers.get("agi_channel", ""),
        uniqueid=headers.get("agi_uniqueid", ""),
        caller_id=caller_id,
        language=headers.get("agi_language", "") or "th",
        context=headers.get("agi_context", ""),
        extension=headers.get("agi_extension", ""),
        args=tuple(args),
        headers=dict(headers),
    )


_ONE_WORD_COMMANDS = frozenset({"ANSWER", "EXEC", "GOSUB", "HANGUP", "NOOP", "VERBOSE"})
_THREE_WORD_PREFIXES = frozenset(
    {"WAIT FOR", "GET FULL", "CONTROL STREAM", "SPEECH ACTIVATE", "SPEECH DEACTIVATE"}
    | {"SPEECH LOAD", "SPEECH UNLOAD", "ASYNCAGI BREAK"}
)


def _verb(line: str) -> str:
    """The command name of an AGI command line (for messages): ``WAIT FOR DIGIT``."""
    words = line.split(" ", 3)
    if words[0].upper() in _ONE_WORD_COMMANDS:
        return words[0]
    if " ".join(words[:2]).upper() in _THREE_WORD_PREFIXES:
        return " ".join(words[:3])
    return " ".join(words[:2])


def _check_name(name: str) -> str:
    if not name or _BAD_NAME_RE.search(name):
        raise ValueError(f"invalid channel variable name: {name[:80]!r}")
    return name


class AgiCall:
    """One FastAGI session: the typed facade the menu engine drives."""

    def __init__(
        self,
        request: Request,
        *,
        info: CallInfo | None = None,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        self.request = request
        self.observe = observe  # told (command name, seconds) of each reply (/metrics)
        self.info: CallInfo = info if info is not None else call_info_from_headers(request.headers)
        self.command_timeout = command_timeout
        self.stream_timeout = stream_timeout
        self._reader: asyncio.StreamReader = request.reader
        self._writer: asyncio.StreamWriter = request.writer
        self._encoding: str = getattr(request, "encoding", "utf-8") or "utf-8"
        self._lock = asyncio.Lock()
        self._gone: str | None = None  # why the channel / connection is unusable
        self._loop = asyncio.get_running_loop()
        self._deadline = 0.0  # loop time the command in progress must be answered by (0: none)
        self._limit = 0.0  # its time limit, and its name (for the error)
        self._verb = ""
        self._timer: asyncio.TimerHandle | None = None  # fires at _timer_at <= _deadline
        self._timer_at = 0.0
        self._expired = False  # the timer dropped the connection: the command timed out

    # -- state ---------------------------------------------------------------------------

    @property
    def hungup(self) -> bool:
        """True once the channel or the connection is known to be gone."""
        return self._gone is not None

    def _log_fields(self, **kw: Any) -> dict[str, Any]:
        return fields(
            call=self.info.uniqueid,
            channel=self.info.channel,
            script=self.info.script,
            caller=mask_phone(self.info.caller_id),
            **kw,
        )

    def _mark_gone(self, reason: str) -> None:
        if self._gone is None:
            self._gone = reason
            if agi_log.isEnabledFor(logging.DEBUG):  # once a call: its fields made only if shown
                agi_log.debug("channel gone: %s", reason, extra=self._log_fields(reason=reason))
        if self._timer is not None:  # no command any more: no deadline to watch
            self._timer.cancel()
            self._timer = None

    def _drop_connection(self, reason: str) -> None:
        self._mark_gone(reason)
        transport = self._writer.transport
        if not transport.is_closing():
            transport.abort()

    # -- the command primitive -------------------------------------------------------------

    async def command(
        self,
        line: str,
        *,
        time_limit: float | None = None,
        minus_one_is_hangup: bool = True,
        verb: str = "",
    ) -> AgiReply:
        """Send one AGI command line and return its final reply (a 200).

        Raises :class:`CallHangup` when the channel is gone (see the module rules),
        :class:`AgiError` on 510/520/other codes, on a timeout and on a protocol error.
        With ``minus_one_is_hangup=False`` a ``200 result=-1`` is returned to the caller.
        ``verb`` names the command in messages (worked out from ``line`` if not given).
        """
        if "\n" in line or "\r" in line:
            raise ValueError("an AGI command must be one line")
        verb = verb or _verb(line)
        limit = self.command_timeout if time_limit is None else time_limit
        async with self._lock:
            if self._gone is not None:
                raise CallHangup(self._gone)
            if self._writer.transport.is_closing():
                self._mark_gone("connection closed")
                raise CallHangup(self._gone)
            sent = self._loop.time()
            self._watch(sent + limit, limit, verb)
            try:
                self._writer.write((line + "\n").encode(self._encoding))
                await self._writer.drain()
                reply = await read_reply(self._reader.readline, self._encoding)
            except (EOFError, ConnectionError, asyncio.IncompleteReadError) as exc:
                if self._expired:
                    raise self._timed_out() from None
                self._mark_gone(f"connection closed during {verb}")
                raise CallHangup(self._gone) from exc
            except AgiProtocolError:
                self._drop_connection(f"protocol error in {verb}")
                raise
            except ValueError as exc:  # StreamReader: line longer than its limit
                self._drop_connection(f"reply too long in {verb}")
                raise AgiProtocolError(f"AGI reply line too long after {verb}") from exc
            except asyncio.CancelledError:
                # The reply may still come; the stream is out of step for good.
                self._drop_connection(f"cancelled during {verb}")
                raise
            finally:
                self._deadline = 0.0
            if self._expired:  # the reply came as the deadline passed: too late all the same
                raise self._timed_out()
            if self.observe is not None:
                self.observe(verb, self._loop.time() - sent)
        return self._check(verb, reply, minus_one_is_hangup)

    # -- the deadline of the command in progress ---------------------------------------------

    def _watch(self, deadline: float, limit: float, verb: str) -> None:
        """Watch ``deadline``: the call's timer is moved only if it would fire later."""
        self._deadline, self._limit, self._verb = deadline, limit, verb
        if self._timer is None or self._timer_at > deadline:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(deadline, self._on_timer)
            self._timer_at = deadline

    def _on_timer(self) -> None:
        self._timer = None
        if self._deadline == 0.0:
            return  # no command in progress
        if self._timer_at < self._deadline:  # set for an earlier command: watch this one
            self._timer = self._loop.call_at(self._deadline, self._on_timer)
            self._timer_at = self._deadline
            return
        self._expired = True
        self._drop_connection(f"timeout after {self._limit:g} s in {self._verb}")

    def _timed_out(self) -> AgiError:
        agi_log.warning(
            "AGI command timed out",
            extra=self._log_fields(command=self._verb, time_limit=self._limit),
        )
        return AgiError(f"AGI command {self._verb} timed out after {self._limit:g} s")

    def _check(self, verb: str, reply: AgiReply, minus_one_is_hangup: bool) -> AgiReply:
        if reply.hangup:
            self._mark_gone("HANGUP from Asterisk")
            raise CallHangup(self._gone)
        if reply.code == 200:
            if minus_one_is_hangup and reply.result == "-1":
                self._mark_gone(f"result=-1 from {verb}")
                raise CallHangup(self._gone)
            return reply
        if reply.code == 511:
            self._mark_gone(f"511 from {verb}")
            raise CallHangup(self._gone)
        raise AgiError(f"AGI {verb}: {reply.code} {reply.data or ''}".rstrip())

    # -- the Call protocol -------------------------------------------------------------------

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def play(self, sound: str, escape_digits: str = "") -> str | None:
        if not sound or _SOUND_BAD_RE.search(sound):
            raise ValueError(f"invalid sound name: {sound[:80]!r}")
        if escape_digits.strip(_ESCAPE_CHARS):  # a character that is not a key
            raise ValueError(f"invalid escape digits: {escape_digits!r}")
        reply = await self.command(
            f"STREAM FILE {quote_arg(sound)} {quote_arg(escape_digits)}",
            time_limit=self.stream_timeout,
            minus_one_is_hangup=False,
            verb="STREAM FILE",
        )
        result = reply.result_int
        if result is None:
            raise AgiError(f"STREAM FILE: unexpected reply {reply.raw[:80]!r}")
        if result > 0:
            return chr(result)
        if result == 0:
            if reply.endpos == 0:
                # Older Asterisk answers a missing file with "result=0 endpos=0".
                agi_log.warning(
                    "prompt played nothing (missing or empty file?)",
                    extra=self._log_fields(sound=sound),
                )
            return None
        # result=-1: hangup, or (Asterisk 1.8+) the file could not be opened. Ask the
        # channel: a hung-up channel answers with HANGUP/511, which raises CallHangup.
        await self.command("CHANNEL STATUS")
        agi_log.warning(
            "prompt could not be played (missing file?)",
            extra=self._log_fields(sound=sound),
        )
        return None

    async def wait_digit(self, timeout_ms: int) -> str | None:
        timeout_ms = int(timeout_ms)
        if timeout_ms < 0:
            limit = self.stream_timeout
        else:
            limit = timeout_ms / 1000 + self.command_timeout
        reply = await self.command(
            f"WAIT FOR DIGIT {timeout_ms}", time_limit=limit, verb="WAIT FOR DIGIT"
        )
        result = reply.result_int
        if result is None:
            raise AgiError(f"WAIT FOR DIGIT: unexpected reply {reply.raw[:80]!r}")
        return chr(result) if result > 0 else None

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> str:
        if not sound or _SOUND_BAD_RE.search(sound):
            raise ValueError(f"invalid sound name: {sound[:80]!r}")
        # the prompt itself, then timeout_ms between digits; # ends the entry
        reply = await self.command(
            f"GET DATA {quote_arg(sound)} {int(timeout_ms)} {int(max_digits)}",
            time_limit=self.stream_timeout,
            verb="GET DATA",
        )
        digits = reply.result if reply.result not in ("", "-1") else ""
        if not set(digits) <= _ESCAPE_DIGITS:
            raise AgiError(f"GET DATA: unexpected reply {reply.raw[:80]!r}")
        return digits

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(
            f"SET VARIABLE {_check_name(name)} {quote_arg(value)}", verb="SET VARIABLE"
        )

    async def get_variable(self, name: str) -> str | None:
        reply = await self.command(f"GET VARIABLE {_check_name(name)}")
        if reply.result == "1":
            return reply.data if reply.data is not None else ""
        return None

    async def set_language(self, language: str) -> None:
        if not _LANGUAGE_RE.match(language):
            raise ValueError(f"invalid language: {language[:80]!r}")
        await self.command(f"SET VARIABLE CHANNEL(language) {language}")

    # -- conveniences ------------------------------------------------------------------------

    async def verbose(self, msg: str, level: int = 1) -> None:
        """Write ``msg`` to the Asterisk console / verbose log."""
        await self.command(f"VERBOSE {quote_arg(msg)} {int(level)}")

    async def exec_app(self, app: str, args: str = "", *, time_limit: float | None = None) -> int:
        """Run a dialplan application (``EXEC``); return its result (``-2``: no such app).

        The default timeout is the stream timeout, since applications may play audio.
        """
        if not _APP_RE.match(app):
            raise ValueError(f"invalid application name: {app[:80]!r}")
        limit = self.stream_timeout if time_limit is None else time_limit
        reply = await self.command(f"EXEC {app} {quote_arg(args)}", time_limit=limit)
        result = reply.result_int
        if result is None:
            raise AgiError(f"EXEC {app}: unexpected reply {reply.raw[:80]!r}")
        return result

    async def close(self) -> None:
        """End the AGI session: Asterisk continues the dialplan.

        With nothing left to send (the usual case) the connection is closed on the
        loop's next turn, so no timer is set; otherwise what is left has a second to
        go before the connection is dropped."""
        self._mark_gone("closed by the application")
        writer = self._writer
        transport = writer.transport
        if transport.is_closing():
            return
        if not transport.get_write_buffer_size():
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            return
        writer.close()
        try:
            async with asyncio.timeout(1.0):
                await writer.wait_closed()
        except (TimeoutError, ConnectionError, OSError):
            transport.abort()
