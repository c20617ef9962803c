"""The server's AMI session (``events="auto"``) on the sandbox's Asterisk: it is sent
only the classes of the events it subscribes to, and a subscription made while
logged in widens the mask before the next action runs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from ivr.ami.client import AmiClient
from ivr.ami.events import AnyEvent, Hangup, VarSet
from ivr.config import Settings
from ivr.sandbox.pbx import Sandbox
from tests.until import until

pytestmark = pytest.mark.sandbox


@pytest.fixture
async def auto(sandbox: Sandbox, base_settings: Settings) -> AsyncIterator[AmiClient]:
    s = base_settings
    client = AmiClient(s.ami_host, s.ami_port, s.ami_username, s.ami_secret, events="auto")
    try:
        yield client
    finally:
        await client.close()


async def _short_call(ami: AmiClient, nonce: str) -> None:
    """A Local channel whose one half sets IVR_MASK_TEST (a VarSet) and hangs up."""
    await ami.action(
        "Originate",
        Channel="Local/s@sim-caller",
        Application="Set",
        Data=f"IVR_MASK_TEST={nonce}",
        Variable=["SIM_HOLD=1"],
        Async="true",
        as_list=False,
    )


async def test_only_the_classes_subscribed_to_are_sent(auto: AmiClient, ami: AmiClient) -> None:
    everything: list[AnyEvent] = []
    ami.subscribe("*", everything.append)
    hangups: list[Hangup] = []
    auto.subscribe(Hangup, hangups.append)
    await auto.start()
    assert auto.mask.value() == "call"

    await _short_call(ami, nonce := uuid.uuid4().hex)
    await until(lambda: len(hangups) >= 2, 20, "both halves hung up (auto session)")
    await until(lambda: sum(e.name == "Hangup" for e in everything) >= 2, 20, "(reference)")
    assert any(isinstance(e, VarSet) and e.value == nonce for e in everything)
    call_class = sum(e.get("Privilege").startswith("call,") for e in everything)
    assert auto.events_received <= call_class < len(everything)

    varsets: list[VarSet] = []
    auto.subscribe(VarSet, varsets.append)  # widens the mask (the Events action) ...
    assert auto.mask.value() == "call,dialplan"
    await _short_call(auto, nonce := uuid.uuid4().hex)  # ... before this call starts
    await until(lambda: any(v.value == nonce for v in varsets), 20, "the VarSet of the call")
    assert auto.mask.changes == 1
