"""The sandbox PBX itself: its prompts play in real time (the timing module)."""

from __future__ import annotations

import asyncio

import pytest

from ivr.sandbox.pbx import Sandbox
from tests.until import until

pytestmark = pytest.mark.sandbox


async def test_the_sandbox_uses_a_timing_module_that_keeps_time(sandbox: Sandbox) -> None:
    chosen = await asyncio.to_thread(sandbox.keep_real_time)
    assert chosen.keeps_time(), chosen.describe()
    now = await asyncio.to_thread(sandbox.timing_test)
    assert now.module == chosen.module and now.keeps_time(), now.describe()
    status = await asyncio.to_thread(sandbox.status)
    assert any(line.startswith(f"timing    {chosen.module} (") for line in status.lines())


async def test_falls_back_to_pthread_when_timerfd_is_gone(sandbox: Sandbox) -> None:
    """The fallback the sandbox uses on machines where timerfd ticks at half speed,
    on the real Asterisk: without timerfd, pthread keeps real time."""
    modules = await asyncio.to_thread(sandbox.timing_modules)
    if "timerfd" in modules:
        # a module in use cannot be unloaded: end the calls earlier tests left behind
        await asyncio.to_thread(sandbox.cli, "channel request hangup all")

        def unloaded() -> bool:
            sandbox.cli("module unload res_timing_timerfd.so")
            return "timerfd" not in sandbox.timing_modules()

        await until(lambda: asyncio.to_thread(unloaded), what="res_timing_timerfd unloaded")
    try:
        chosen = await asyncio.to_thread(sandbox.keep_real_time)
        assert chosen.module == "pthread" and chosen.keeps_time(), chosen.describe()
    finally:
        if "timerfd" in modules:
            await asyncio.to_thread(sandbox.cli, "module load res_timing_timerfd.so")
            await asyncio.to_thread(sandbox.keep_real_time)  # and it is checked again
