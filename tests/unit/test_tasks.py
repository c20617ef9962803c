"""Stopping background tasks never hangs, even when a task swallows its cancel; the
collector set for a server's life."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from ivr.tasks import cancel_and_wait, settle_collector, stop_if_cancelling

log = logging.getLogger("test.tasks")


async def test_well_behaved_tasks_stop_and_nothing_is_left() -> None:
    tasks = [asyncio.create_task(asyncio.sleep(60)) for _ in range(3)]
    left = await cancel_and_wait(tasks, log=log, what="sleepers", within_s=2.0)
    assert left == set()
    assert all(t.cancelled() for t in tasks)


async def test_a_task_that_swallows_one_cancel_is_cancelled_again() -> None:
    async def swallow_once() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()  # type: ignore[union-attr]  # like a buggy library
        await asyncio.sleep(60)

    task = asyncio.create_task(swallow_once())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], log=log, what="swallower", within_s=3.0) == set()
    assert task.cancelled()


async def test_a_task_that_never_stops_is_reported_not_waited_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                asyncio.current_task().uncancel()  # type: ignore[union-attr]

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)  # inside its loop, where it swallows cancels
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.ERROR, logger="test.tasks"):
        left = await cancel_and_wait([task], log=log, what="stubborn", within_s=0.6)
    assert left == {task} and not task.done()
    assert loop.time() - started < 3.0  # bounded: the shutdown goes on
    assert "did not stop" in caplog.text
    release.set()
    await task


async def test_stop_if_cancelling_ends_a_loop_whose_cancel_was_swallowed() -> None:
    rounds = 0

    async def loop_body() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                pass  # swallowed, but cancelling() still counts it
            stop_if_cancelling()

    task = asyncio.create_task(loop_body())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2.0)
    assert task.cancelled()


def test_settle_collector_freezes_what_the_start_made_and_sets_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        made_at_start = [object()]  # lives as long as the server
        settle_collector((7_000, 10, 10))
        assert gc.get_threshold() == (7_000, 10, 10)
        assert gc.get_freeze_count() > 0
        assert not any(o is made_at_start for o in gc.get_objects())  # walked no more
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
