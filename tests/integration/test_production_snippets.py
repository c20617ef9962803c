"""The Asterisk snippets of deploy/production/, loaded by the sandbox's Asterisk
exactly as shipped (its configuration #includes them): the AMI user logs in with
the shipped secret, may do every action the server sends, and is refused what the
server never needs; the shipped queues are there with their settings."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.config import PROJECT_ROOT, Settings
from ivr.sandbox.pbx import Sandbox
from ivr.store.tokens import TokenStore

pytestmark = pytest.mark.sandbox

SHIPPED = PROJECT_ROOT / "deploy" / "production" / "asterisk"
DENIED = "Permission denied"


def _shipped_user() -> tuple[str, str]:
    text = (SHIPPED / "ivr_manager.conf").read_text(encoding="utf-8")
    user = re.findall(r"^\[([^\]]+)\]\s*$", text, re.M)[-1]
    secret = re.search(r"^secret\s*=\s*(\S+)", text, re.M)
    assert secret is not None
    return user, secret[1]


class RawAmi:
    """Just enough of the AMI to see what one user may do: one message at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.ids = itertools.count(1)

    async def message(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 10)).decode().rstrip("\r\n")
            if not line:
                if fields:
                    return fields
                continue
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()

    async def send(self, action: str, **headers: str) -> list[dict[str, str]]:
        """The reply to ``action`` and, for a list, the events up to its end."""
        aid = f"prod-{next(self.ids)}"
        lines = [f"Action: {action}", f"ActionID: {aid}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        out: list[dict[str, str]] = []
        while True:
            msg = await self.message()
            if msg.get("ActionID") != aid:
                continue
            out.append(msg)
            if out[0].get("EventList") != "start" or msg.get("EventList") == "Complete":
                return out


async def _login(settings: Settings) -> RawAmi:
    reader, writer = await asyncio.open_connection(settings.ami_host, settings.ami_port)
    await asyncio.wait_for(reader.readline(), 10)  # the banner
    ami = RawAmi(reader, writer)
    user, secret = _shipped_user()
    reply = await ami.send("Login", Username=user, Secret=secret, Events="off")
    assert reply[0]["Response"] == "Success", reply
    return ami


async def test_shipped_ami_user_has_the_rights_the_server_needs_and_no_more(
    sandbox: Sandbox, base_settings: Settings
) -> None:
    ami = await _login(base_settings)
    try:
        nobody = {"Interface": "PJSIP/ivr-prod-nobody"}
        needed = {
            "Ping": {},
            "CoreShowChannels": {},
            "CoreStatus": {},
            "ShowDialPlan": {"Context": "ivr-hotline"},
            "QueuePause": {**nobody, "Queue": "complaint", "Paused": "false"},
            "QueueAdd": {**nobody, "Queue": "ivr-prod-no-such-queue"},
            "QueueRemove": {**nobody, "Queue": "ivr-prod-no-such-queue"},
            "Hangup": {"Channel": "PJSIP/ivr-prod-no-such-channel"},
            "Originate": {
                "Channel": "Local/none@ivr-prod-no-such-context",
                "Context": "ivr-probe",
                "Exten": "s",
                "Priority": "1",
                "Timeout": "500",
            },
        }
        for action, headers in needed.items():
            reply = (await ami.send(action, **headers))[0]
            assert reply.get("Message") != DENIED, (action, reply)
        for action, headers in {"Command": {"Command": "core show version"}, "Reload": {}}.items():
            reply = (await ami.send(action, **headers))[0]
            assert reply.get("Message") == DENIED, (action, reply)
        system = {"Channel": "Local/none@ivr-probe", "Application": "System", "Data": "true"}
        assert (await ami.send("Originate", **system))[0]["Response"] == "Error"

        status = await ami.send("QueueStatus")
        params = {m["Queue"]: m for m in status if m.get("Event") == "QueueParams"}
        shipped = re.findall(r"^\[([^\]]+)\]\(ivr-queue-base\)", _queues_text(), re.M)
        assert shipped and set(shipped) <= set(params)
        assert all(params[q]["Strategy"] == "rrmemory" for q in shipped)
    finally:
        ami.writer.close()


@pytest.fixture
async def least_rights_app(sandbox: Sandbox, settings: Settings) -> AsyncIterator[HotlineApp]:
    """The server logged in to the AMI as the shipped user, on a Redis database of its own."""
    user, secret = _shipped_user()
    redis_url = settings.redis_url.rsplit("/", 1)[0] + "/11"
    app = HotlineApp(replace(settings, ami_username=user, ami_secret=secret, redis_url=redis_url))
    await app.start()
    await app.redis.flushdb()
    try:
        yield app
    finally:
        await app.redis.flushdb()
        await app.stop()


async def test_server_as_the_shipped_user_acts_and_sees_the_result(
    least_rights_app: HotlineApp, ami: AmiClient
) -> None:
    """A supervisor's pause through the server (write ``agent``) is seen by its live
    model from Asterisk's own event (read ``agent``): ``settled``."""
    app = least_rights_app
    token, _ = await TokenStore(app.redis).create("supervisor", "production snippets")
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    url = f"http://{host}:{port}/api/queues/complaint/agents/PJSIP%2Fagent2"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/pause", json={"reason": "break"}, headers=auth) as r:
                body = await r.json()
                assert r.status == 200, body
            assert body["settled"] is True and body["queues"][0]["state"] == "paused", body
            async with http.post(f"{url}/unpause", headers=auth) as r:
                body = await r.json()
                assert r.status == 200 and body["settled"] is True, body
    finally:
        await ami.action("QueuePause", Interface="PJSIP/agent2", Queue="complaint", Paused="false")


def _queues_text() -> str:
    return (SHIPPED / "ivr_queues.conf").read_text(encoding="utf-8")
