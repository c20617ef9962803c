"""Pure parsing of supervisor actions' input: pause reasons, override modes, emergency
prompts, a callback's new time, JSON bodies, ``?limit=``.

No I/O: each function takes what the request carried and returns the checked value
or raises the API error (:mod:`ivr.api.errors`) the client gets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ivr.api.errors import BadRequest, UnknownReason
from ivr.menus.overrides import MODES, OverrideMode, parse_mode

MAX_AUDIT_LIMIT = 1000

#: ChanSpy's options for each listening mode: always ``q`` (no beep, no channel name
#: spoken), plus ``w`` to whisper to the agent or ``B`` to barge in on both sides.
SPY_MODES: Final[Mapping[str, str]] = {"listen": "q", "whisper": "qw", "barge": "qB"}

# a channel name as Asterisk writes it: PJSIP/agent1-0000000a, Local/x@ctx-00000012;1
_CHANNEL = re.compile(r"^[A-Za-z0-9_]+/[-A-Za-z0-9@;._+]+$")


@dataclass(frozen=True)
class SpyRequest:
    mode: str  # listen, whisper or barge
    phone: str  # the supervisor's phone, one of [api] supervisor_phones

    @property
    def options(self) -> str:
        return SPY_MODES[self.mode]


@dataclass(frozen=True)
class MemberToAdd:
    interface: str
    penalty: int = 0
    name: str = ""


def parse_body(raw: bytes) -> object:
    """A request body as JSON (UTF-8, RFC 8259), or None when it is empty."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"the body is not UTF-8 text ({e.reason} at byte {e.start})") from None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise BadRequest(f"the body is not valid JSON ({e})") from None


def check_reason(reason: object, allowed: Collection[str]) -> str:
    """``reason`` when it is one of ``allowed``; else 400 listing the allowed ones."""
    choices = ", ".join(allowed) or "(none configured: set pause_reasons in [queues])"
    if not isinstance(reason, str) or reason not in allowed:
        raise UnknownReason(f"pause reason {reason!r} is not allowed; use one of: {choices}")
    return reason


def _object(body: object) -> Mapping[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _only(body: Mapping[str, Any], allowed: Collection[str]) -> None:
    for key in body:
        if key not in allowed:
            raise BadRequest(f"unknown field `{key}` in the body (allowed: {', '.join(allowed)})")


def pause_reason(body: object, allowed: Collection[str]) -> str:
    """The reason of a pause body ``{"reason": ...}`` (required, from ``allowed``)."""
    d = _object(body)
    _only(d, ("reason",))
    if "reason" not in d:
        raise UnknownReason(f"a pause needs a reason; use one of: {', '.join(allowed)}")
    return check_reason(d["reason"], allowed)


def member_to_add(agent: str, body: object) -> MemberToAdd:
    """``{"interface": agent, "penalty": 0, "name": "..."}``, every field optional;
    an ``interface`` given must be the agent of the path."""
    d = _object(body)
    _only(d, ("interface", "penalty", "name"))
    interface = d.get("interface", agent)
    if interface != agent:
        raise BadRequest(f"body interface {interface!r} differs from the agent {agent!r}")
    penalty = d.get("penalty", 0)
    if not isinstance(penalty, int) or isinstance(penalty, bool) or not 0 <= penalty <= 1000:
        raise BadRequest(f"penalty must be a whole number from 0 to 1000, not {penalty!r}")
    name = d.get("name", "")
    if not isinstance(name, str) or len(name) > 80:
        raise BadRequest("name must be a text of at most 80 characters")
    return MemberToAdd(agent, penalty, name)


def check_agent(agent: str) -> str:
    """A member interface as Asterisk names it (``PJSIP/agent1``, ``Local/x@ctx/n``)."""
    if not agent or len(agent) > 120 or "/" not in agent or any(c in agent for c in "\r\n,"):
        raise BadRequest(
            f"agent {agent!r} is not a member interface such as PJSIP/agent1 "
            "(URL-encode the slash: PJSIP%2Fagent1)"
        )
    return agent


def audit_limit(query: Mapping[str, str], default: int = 50) -> int:
    """``?limit=N`` (1 to :data:`MAX_AUDIT_LIMIT`); no other parameter is taken."""
    for name in query:
        if name != "limit":
            raise BadRequest(f"unknown query parameter `{name}` (allowed: limit)")
    raw = query.get("limit")
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise BadRequest(f"limit must be a whole number, not {raw!r}") from None
    if not 1 <= n <= MAX_AUDIT_LIMIT:
        raise BadRequest(f"limit must be from 1 to {MAX_AUDIT_LIMIT}, not {n}")
    return n


def spy_request(body: object, phones: Collection[str]) -> SpyRequest:
    """``{"mode": "listen"|"whisper"|"barge", "phone": <a configured supervisor phone>}``."""
    d = _object(body)
    _only(d, ("mode", "phone"))
    mode = d.get("mode")
    if not isinstance(mode, str) or mode not in SPY_MODES:
        raise BadRequest(f"mode must be one of {', '.join(SPY_MODES)}, not {mode!r}")
    phone = d.get("phone")
    if not phones:
        raise BadRequest(
            "no supervisor phone is configured: list them in supervisor_phones in [api]",
            error_id="unknown-phone",
        )
    if not isinstance(phone, str) or phone not in phones:
        raise BadRequest(
            f"phone {phone!r} is not a supervisor phone; use one of: {', '.join(phones)}",
            error_id="unknown-phone",
        )
    return SpyRequest(mode, phone)


def spy_channel(channel: str) -> bool:
    """Whether ``channel`` looks like a channel name ChanSpy may be given (no comma,
    no dialplan syntax): the dialplan checks it again."""
    return bool(_CHANNEL.match(channel)) and len(channel) <= 200


def member_channel(interface: str, rows: Iterable[Mapping[str, str]]) -> str:
    """The bridged channel of a member in a ``CoreShowChannels`` reply ("" when none):
    the channel named after it (``PJSIP/agent1`` → ``PJSIP/agent1-0000002a``,
    ``Local/x@ctx/n`` → its ``;1`` half ``Local/x@ctx-00000012;1``)."""
    base = interface.removesuffix("/n")
    local = base.startswith("Local/")
    for row in rows:
        channel = row.get("Channel", "")
        if row.get("Event") != "CoreShowChannel" or not channel.startswith(base + "-"):
            continue
        if (not local or channel.endswith(";1")) and row.get("BridgeId"):
            return channel
    return ""


MOVE_PAST_S = 60.0  # a callback moved to a time this far in the past at most ("now")
MOVE_AHEAD_S = 7 * 24 * 3600.0  # and this far ahead at most


def override_mode(body: object) -> OverrideMode:
    """The mode of ``{"mode": "none"|"closed"|"open"}``; else 400 listing them."""
    d = _object(body)
    _only(d, ("mode",))
    mode = parse_mode(d.get("mode"))
    if mode is None:
        raise BadRequest(f"mode {d.get('mode')!r} is not allowed; use one of: {', '.join(MODES)}")
    return mode


def emergency_prompt(body: object, allowed: Collection[str]) -> str:
    """The prompt of ``{"prompt": "<catalogue id>"}``, one of ``allowed``; else 400 listing them."""
    d = _object(body)
    _only(d, ("prompt",))
    prompt = d.get("prompt")
    if not isinstance(prompt, str) or prompt not in allowed:
        choices = ", ".join(allowed) or "(none: add `emergency-...` prompts to the catalogue)"
        raise BadRequest(
            f"prompt {prompt!r} is not an emergency announcement; use one of: {choices}",
            error_id="unknown-prompt",
        )
    return prompt


def not_before(body: object, now: float) -> float:
    """The time of ``{"not_before": <epoch seconds>}``: at most a minute past, a week ahead."""
    d = _object(body)
    _only(d, ("not_before",))
    at = d.get("not_before")
    if isinstance(at, bool) or not isinstance(at, int | float) or at != at:
        raise BadRequest("`not_before` must be a time in epoch seconds (a number)")
    if at < now - MOVE_PAST_S:
        raise BadRequest(f"`not_before` {at} is in the past; give a time from now on")
    if at > now + MOVE_AHEAD_S:
        raise BadRequest(f"`not_before` {at} is more than 7 days ahead; give an earlier time")
    return float(max(at, now))
