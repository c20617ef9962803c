"""Choosing the Asterisk timing module that keeps real time (ivr.sandbox.timing), and
the sandbox's loop that unloads a slow one, against scripted ``timing test`` answers
(the real sandbox is in tests/integration/test_sandbox.py)."""

from __future__ import annotations

import pytest

from ivr.config import load_settings
from ivr.sandbox.pbx import Sandbox
from ivr.sandbox.timing import TimingTestError, best, module_file, parse_timing_test


def answer(module: str, ticks: int, ms: int = 1000) -> str:
    """What Asterisk 22 prints for ``timing test``."""
    return (
        "Attempting to test a timer with 50 ticks per second.\n"
        f"Using the '{module}' timing module for this test.\n"
        f"It has been {ms} milliseconds, and we got {ticks} timer ticks\n"
    )


def test_parses_asterisk_answer() -> None:
    t = parse_timing_test(answer("timerfd", 50))
    assert (t.module, t.asked_per_s, t.elapsed_ms, t.ticks) == ("timerfd", 50, 1000, 50)
    assert t.keeps_time()
    assert t.describe() == "timerfd (50 of 50 ticks in 1000 ms)"


def test_half_speed_timerfd_does_not_keep_time() -> None:
    # measured on a virtual machine of this kind: 24 ticks of 50 in a second
    t = parse_timing_test(answer("timerfd", 24, 1002))
    assert not t.keeps_time()
    assert t.describe() == "timerfd (24 of 50 ticks in 1002 ms, slow)"


def test_unknown_output_is_a_clear_error() -> None:
    with pytest.raises(TimingTestError, match="unexpected 'timing test' output: No such"):
        parse_timing_test("No such command 'timing test'")


def test_best_prefers_the_first_module_that_keeps_time() -> None:
    slow = parse_timing_test(answer("timerfd", 24))
    good = parse_timing_test(answer("pthread", 50))
    assert best([slow, good]) is good
    worse = parse_timing_test(answer("pthread", 10))
    assert best([slow, worse]) is slow  # none keeps time: the closest to it
    assert module_file("pthread") == "res_timing_pthread.so"


class ScriptedSandbox(Sandbox):
    """A sandbox whose Asterisk CLI answers from a script of loaded modules."""

    def __init__(self, ticks: dict[str, int], unloadable: bool = True) -> None:
        super().__init__(load_settings())
        self.loaded = ["timerfd", "pthread"]
        self.ticks = ticks
        self.unloadable = unloadable
        self.commands: list[str] = []

    def cli(self, command: str, timeout: float = 30) -> str:
        self.commands.append(command)
        if command == "timing test":
            return answer(self.loaded[0], self.ticks[self.loaded[0]])
        if command.startswith("module show like"):
            return "".join(f"res_timing_{m}.so  x  0  Running  core\n" for m in self.loaded)
        if command.startswith("module unload ") and self.unloadable:
            name = command.split()[-1].removeprefix("res_timing_").removesuffix(".so")
            self.loaded.remove(name)
        if command.startswith("module load "):
            name = command.split()[-1].removeprefix("res_timing_").removesuffix(".so")
            self.loaded.insert(0, name)
        return ""


def test_a_slow_timerfd_is_unloaded_for_pthread() -> None:
    sb = ScriptedSandbox({"timerfd": 24, "pthread": 50})
    chosen = sb.keep_real_time()
    assert chosen.module == "pthread" and chosen.keeps_time()
    assert "module unload res_timing_timerfd.so" in sb.commands
    assert sb.loaded == ["pthread"]


def test_a_timerfd_that_keeps_time_stays() -> None:
    sb = ScriptedSandbox({"timerfd": 50, "pthread": 50})
    assert sb.keep_real_time().module == "timerfd"
    assert not [c for c in sb.commands if c.startswith("module unload")]


def test_when_nothing_keeps_time_the_closest_is_used() -> None:
    sb = ScriptedSandbox({"timerfd": 30, "pthread": 20})
    assert sb.keep_real_time().module == "timerfd"
    assert sb.loaded[0] == "timerfd"  # loaded back: Asterisk prefers it again


def test_a_module_that_cannot_be_unloaded_is_kept() -> None:
    sb = ScriptedSandbox({"timerfd": 24, "pthread": 50}, unloadable=False)
    assert sb.keep_real_time().module == "timerfd"
