"""An application instance in a process of its own (``ivr serve``), for a test to kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from ivr.config import Settings


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(
    like: Settings, changes: Mapping[str, Any], log: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """``ivr serve`` with the settings file of ``like``, its Redis, ``changes`` (as
    ``IVR_<NAME>`` variables) and an HTTP port and run folder of its own, its output
    in ``log``; yields the process and its HTTP base URL, and kills it at the end."""
    port = free_port()
    values = {"redis_url": like.redis_url, "http_port": port, "run_dir": log.with_suffix(".run")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["IVR_CONFIG"] = like.source
    env.update({f"IVR_{k.upper()}": str(v) for k, v in {**values, **changes}.items()})
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ivr", "serve", env=env, stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
