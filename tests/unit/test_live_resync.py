"""The live model reads ``QueueStatus`` while AMI events keep arriving: an event met
during the read is applied on top of the snapshot, never lost under it."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from redis.asyncio import Redis

from ivr.ami.client import AmiClient
from ivr.ami.events import parse_event
from ivr.lineup.live import LiveQueues
from ivr.queues.state import AgentState

QUEUE = "complaint"
AGENT = "PJSIP/agent1"


class SlowAmi:
    """Answers ``QueueStatus`` with a snapshot taken before ``pause`` is let through."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()

    async def action(self, name: str, **_: Any) -> list[dict[str, str]]:
        assert name == "QueueStatus"
        self.asked.set()
        await self.answer.wait()
        return [
            {"Event": "QueueParams", "Queue": QUEUE, "Completed": "0", "Abandoned": "0"},
            {"Event": "QueueMember", "Queue": QUEUE, "Name": "agent1",
             "Interface": AGENT, "StateInterface": AGENT, "Status": "1", "Paused": "0"},
            {"Event": "QueueStatusComplete"},
        ]  # fmt: skip


async def test_a_pause_met_while_the_snapshot_is_read_is_kept() -> None:
    ami = SlowAmi()
    live = LiveQueues(cast(AmiClient, ami), cast(Redis, object()))
    reading = asyncio.ensure_future(live.resync())
    await ami.asked.wait()
    # Asterisk took the snapshot (agent available), then the agent went on a break
    live._on_event(parse_event({
        "Event": "QueueMemberPause", "Queue": QUEUE, "Interface": AGENT,
        "StateInterface": AGENT, "MemberName": "agent1", "Status": "1",
        "Paused": "1", "PausedReason": "lunch",
    }))  # fmt: skip
    ami.answer.set()
    await reading
    agent = live.states[QUEUE].agents[AGENT]
    assert agent.state is AgentState.PAUSED
    assert agent.paused_reason == "lunch"
    # after the read, events apply at once again
    live._on_event(parse_event({
        "Event": "QueueMemberPause", "Queue": QUEUE, "Interface": AGENT,
        "StateInterface": AGENT, "MemberName": "agent1", "Status": "1", "Paused": "0",
    }))  # fmt: skip
    assert live.states[QUEUE].agents[AGENT].state is AgentState.AVAILABLE
