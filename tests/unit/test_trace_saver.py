"""The trace writer: every finished trace written once, those finished while it waits
or while a write is on its way together in the next write, none left behind."""

from __future__ import annotations

import asyncio
import json

from ivr.calls.base import TraceSaver
from ivr.trace import CallTrace
from tests.until import until


class SlowTraces:
    """Stands for the trace store: each write takes until ``release`` is set."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.texts: dict[str, str] = {}
        self.release = asyncio.Event()

    async def save_many(self, traces: list[tuple[CallTrace, str]]) -> bool:
        self.batches.append([t.uniqueid for t, _ in traces])
        self.texts.update({t.uniqueid: text for t, text in traces})
        await self.release.wait()
        return True


def saver(gather_s: float = 0.0) -> tuple[TraceSaver, SlowTraces]:
    traces = SlowTraces()
    return TraceSaver(traces, gather_s=gather_s), traces  # type: ignore[arg-type]


async def test_traces_ending_together_are_written_together() -> None:
    s, traces = saver()
    for n in range(3):
        s.save(CallTrace(f"1.{n}", "1111"))
    await until(lambda: traces.batches, what="the first write")  # one write for the three
    s.save(CallTrace("1.3", "1111"))
    s.save(CallTrace("1.4", "1111"))  # while the first write is on its way
    traces.release.set()
    await s.wait(5.0)
    assert traces.batches == [["1.0", "1.1", "1.2"], ["1.3", "1.4"]]
    assert not s.saving


async def test_the_writer_waits_for_the_traces_finished_meanwhile() -> None:
    s, traces = saver(gather_s=0.05)
    traces.release.set()
    s.save(CallTrace("1.1", "1111"))
    await asyncio.sleep(0.01)  # the writer is waiting
    s.save(CallTrace("1.2", "1111"))
    await s.wait(5.0)
    assert traces.batches == [["1.1", "1.2"]]


async def test_a_trace_after_the_writer_stopped_starts_it_again() -> None:
    s, traces = saver()
    traces.release.set()
    s.save(CallTrace("1.1", "1111"))
    await s.wait(5.0)
    s.save(CallTrace("1.2", "1111"))
    await s.wait(5.0)
    assert traces.batches == [["1.1"], ["1.2"]]


async def test_the_json_written_is_the_finished_trace() -> None:
    s, traces = saver()
    traces.release.set()
    t = CallTrace("1.1", "1111")
    t.finish("queue", "complaint")
    s.save(t)
    await s.wait(5.0)
    assert t.ended_at is not None
    assert json.loads(traces.texts["1.1"]) == t.to_dict()


async def test_a_failing_write_does_not_stop_the_next() -> None:
    class Failing(SlowTraces):
        async def save_many(self, traces: list[tuple[CallTrace, str]]) -> bool:
            await super().save_many(traces)
            if len(self.batches) == 1:
                raise RuntimeError("boom")
            return True

    traces = Failing()
    s = TraceSaver(traces, gather_s=0.0)  # type: ignore[arg-type]
    s.save(CallTrace("1.1", "1111"))
    await until(lambda: traces.batches, what="the first write")
    s.save(CallTrace("1.2", "1111"))  # while the first write is on its way, to fail
    traces.release.set()
    await s.wait(5.0)
    assert traces.batches == [["1.1"], ["1.2"]]
