"""The live stream's server-sent events, read by tests: each event's name and data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any


async def sse_events(lines: AsyncIterable[bytes]) -> AsyncIterator[tuple[str, Any]]:
    """Each event of ``lines`` (an aiohttp response's ``content``) as (name, JSON data)."""
    name, data = "message", ""
    async for raw in lines:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()
        elif not line:
            if data:
                yield name, json.loads(data)
            name, data = "message", ""
