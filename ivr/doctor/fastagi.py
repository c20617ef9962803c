"""Whether Asterisk reaches the application by FastAGI, asked of Asterisk itself.

Why this way: only Asterisk can say whether *it* reaches the server (its
``IVR_AGI``, its routes, the firewall between them, the server's ``[agi] allow``);
a connection made from this machine proves none of that. So the doctor originates
``Local/s@ivr-doctor`` (an answered Local channel costs no line and no agent); that
context of the hotline dialplan runs ``AGI(${IVR_AGI}/doctor)`` exactly as a hotline
call does, then reports with a ``UserEvent(IvrDoctor, …)`` what came back:

* the running server answers the ``doctor`` route, which it does not have, by
  setting ``IVR_ERROR=unknown-route``: only the application does that, so it was
  reached;
* when no server listens on this machine's AGI port, the doctor stands in for it
  on that port for the few seconds of the check and answers ``IVR_DOCTOR=answered``
  (so the check also works before the first ``ivr serve``);
* nothing came back (``AGISTATUS=FAILURE``): not reached, or refused by ``[agi] allow``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from ivr.agi.allow import parse_allow, peer_allowed, peer_str
from ivr.ami.client import AmiClient, AmiError
from ivr.ami.events import AnyEvent
from ivr.config import Settings
from ivr.doctor.findings import Finding, fail, ok

__all__ = ["DOCTOR_CONTEXT", "fastagi_finding"]

DOCTOR_CONTEXT = "ivr-doctor"
WAIT_S = 10.0


class _StandIn:
    """A FastAGI listener on the server's port that answers one thing: the doctor."""

    def __init__(self, settings: Settings) -> None:
        self.allow = parse_allow(settings.agi_allow)
        self.peers: list[str] = []
        self.refused: list[str] = []

    async def on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            if not peer_allowed(peer, self.allow):
                self.refused.append(peer_str(peer))
                return
            self.peers.append(peer_str(peer))
            with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                await asyncio.wait_for(reader.readuntil(b"\n\n"), 5.0)
            writer.write(b"SET VARIABLE IVR_DOCTOR answered\n")
            await writer.drain()
            await asyncio.wait_for(reader.readline(), 5.0)
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _stand_in(settings: Settings) -> tuple[asyncio.Server | None, _StandIn]:
    """Listen on the AGI port when nothing else does (no server running here)."""
    stand_in = _StandIn(settings)
    try:
        server = await asyncio.start_server(
            stand_in.on_connect, settings.agi_host, settings.agi_port
        )
    except OSError:
        return None, stand_in  # the port is taken: the server runs and answers itself
    return server, stand_in


async def fastagi_finding(ami: AmiClient, settings: Settings) -> Finding:
    """Originate the doctor's Local channel and say whether the application answered."""
    nonce = uuid.uuid4().hex[:12]
    server, stand_in = await _stand_in(settings)

    def reported(event: AnyEvent) -> bool:
        return (
            event.name == "UserEvent"
            and event.get("UserEvent") == "IvrDoctor"
            and event.get("Nonce") == nonce
        )

    try:
        waiter = asyncio.ensure_future(ami.wait_event(reported, WAIT_S, names=["UserEvent"]))
        try:
            await ami.action(
                "Originate",
                Channel=f"Local/s@{DOCTOR_CONTEXT}",
                Application="Wait",
                Data="5",
                Variable=[f"IVR_DOCTOR_NONCE={nonce}"],
                Async="true",
                Timeout=int(WAIT_S * 1000),
                as_list=False,
            )
        except AmiError as e:
            waiter.cancel()
            return fail("fastagi", f"the doctor's test call was refused: {e}", _CONTEXT_FIX)
        try:
            event = await waiter
        except AmiError:
            return fail(
                "fastagi",
                f"no IvrDoctor event within {WAIT_S:g} s from [{DOCTOR_CONTEXT}]",
                f"{_CONTEXT_FIX}; and give the AMI user read class user",
            )
    finally:
        if server is not None:
            server.close()
    return _verdict(event, settings, stand_in, running=server is None)


def _agi(event: AnyEvent) -> str:
    return f"AGISTATUS={event.get('Status') or 'unknown'}"


_CONTEXT_FIX = (
    f"make sure the hotline dialplan's [{DOCTOR_CONTEXT}] context is loaded "
    "(#include extensions_hotline.conf, `dialplan reload`)"
)


def _verdict(event: AnyEvent, settings: Settings, stand_in: _StandIn, *, running: bool) -> Finding:
    answer, status = event.get("Answer"), event.get("Status")
    if answer == "unknown-route":  # whichever instance IVR_AGI leads to answered
        return ok("fastagi", f"Asterisk reached the running server by FastAGI ({_agi(event)})")
    if answer == "answered":
        return ok(
            "fastagi",
            f"Asterisk reached this machine's AGI port by FastAGI ({_agi(event)}; no server"
            " runs yet: the doctor answered in its place)",
        )
    who = "the running server" if running else "this machine's AGI port"
    if stand_in.refused:
        return fail(
            "fastagi",
            f"Asterisk connected from {', '.join(stand_in.refused)}, which [agi] allow refuses",
            "add Asterisk's address to [agi] allow in the settings",
        )
    return fail(
        "fastagi",
        f"Asterisk could not reach {who} by FastAGI (AGISTATUS={status or 'unknown'})",
        f"start `ivr serve`; check that [agi] host {settings.agi_host} port {settings.agi_port}"
        " is reachable from Asterisk (firewall, IVR_AGI) and that [agi] allow has"
        " Asterisk's address",
    )
