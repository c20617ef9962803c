"""Which Asterisk timing module keeps real time on this machine (pure).

Asterisk plays prompts and runs ``Wait()`` on the ticks of its timing module. On
some virtual machines ``res_timing_timerfd`` (Asterisk's first choice) ticks at
about half speed, so every prompt plays about twice as long as its audio and a
caller spends twice as long in each menu; ``res_timing_pthread`` keeps real time
there. The sandbox asks ``timing test`` (50 ticks a second for one second),
parses the answer with :func:`parse_timing_test`, and while the module in use
does not keep time (:meth:`TimingTest.keeps_time`) unloads it so that Asterisk
falls back to the next one. Production Asterisk on real hardware keeps timerfd.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "Using the 'timerfd' timing module for this test."
_MODULE_RE = re.compile(r"Using the '([^']+)' timing module")
# "It has been 1000 milliseconds, and we got 50 timer ticks"
_TICKS_RE = re.compile(r"It has been (\d+) milliseconds, and we got (\d+) timer ticks")
# "Attempting to test a timer with 50 ticks per second."
_RATE_RE = re.compile(r"with (\d+) ticks per second")

# A module keeps time when it gives at least this share of the ticks asked for.
KEEPS_TIME_RATIO = 0.9

# Asterisk's timing modules, most preferred first (res_timing_dahdi needs hardware).
MODULES = ("timerfd", "pthread", "dahdi")


class TimingTestError(ValueError):
    """``timing test`` printed something this module does not understand."""


@dataclass(frozen=True)
class TimingTest:
    module: str  # "timerfd", "pthread", ...
    asked_per_s: int
    elapsed_ms: int
    ticks: int

    @property
    def ratio(self) -> float:
        """Ticks received over ticks expected in the time that passed (1.0 = real time)."""
        expected = self.asked_per_s * self.elapsed_ms / 1000.0
        return self.ticks / expected if expected > 0 else 0.0

    def keeps_time(self) -> bool:
        return self.ratio >= KEEPS_TIME_RATIO

    def describe(self) -> str:
        """``timerfd (50 of 50 ticks in 1000 ms)`` for ``ivr sandbox status``."""
        expected = round(self.asked_per_s * self.elapsed_ms / 1000.0)
        verdict = "" if self.keeps_time() else ", slow"
        return f"{self.module} ({self.ticks} of {expected} ticks in {self.elapsed_ms} ms{verdict})"


def parse_timing_test(output: str) -> TimingTest:
    """The result of Asterisk's ``timing test`` CLI command."""
    module = _MODULE_RE.search(output)
    ticks = _TICKS_RE.search(output)
    rate = _RATE_RE.search(output)
    if module is None or ticks is None:
        snippet = " ".join(output.split())[:200] or "(nothing)"
        raise TimingTestError(f"unexpected 'timing test' output: {snippet}")
    return TimingTest(
        module=module.group(1),
        asked_per_s=int(rate.group(1)) if rate else 50,
        elapsed_ms=int(ticks.group(1)),
        ticks=int(ticks.group(2)),
    )


def module_file(module: str) -> str:
    """``timerfd`` -> ``res_timing_timerfd.so``."""
    return f"res_timing_{module}.so"


def best(results: list[TimingTest]) -> TimingTest:
    """The first result that keeps time, else the one closest to real time."""
    for r in results:
        if r.keeps_time():
            return r
    return max(results, key=lambda r: r.ratio)
