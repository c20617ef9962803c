"""Small helpers for sandbox tests that watch the simulated agents."""

from __future__ import annotations

import asyncio

from ivr.ami.client import AmiClient
from ivr.ami.events import AnyEvent


def agent_answers(ami: AmiClient, path: str, timeout: float = 60) -> asyncio.Future[AnyEvent]:
    """Resolves when a simulated agent answers a call whose ``IVR_PATH`` is ``path``
    (its ``SimAgentAnswered`` UserEvent, which carries the topic too)."""
    return asyncio.ensure_future(
        ami.wait_event(
            lambda e: (
                e.name == "UserEvent"
                and e.get("UserEvent") == "SimAgentAnswered"
                and e.get("Path") == path
            ),
            timeout=timeout,
        )
    )
