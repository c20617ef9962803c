"""Real SIP load: SIPp citizens walk the 1111 menu into the queue, against the same
walk done by the dialplan alone, at several numbers of concurrent calls.

Each citizen (:file:`bench/sipp/citizen_walk.xml`) calls, listens to 3 s of the
greeting, presses 9 (repeat the menu) three times 1.5 s apart, then 2 (the
complaint queue), the keys as SIP INFO, waits in the queue, then hangs up. At
each level N the calls start ``--rate`` a second, at most N at once, and each
waits in the queue long enough for all N to be up together. Two runs a level,
with the server running in both (``ivr serve``, a fresh one each level):

- the dialplan twin: the calls go to ``bench-twin-1111`` (the sandbox's
  ``[bench-twin-1111]``: the same prompts and queue with ``Background``,
  ``WaitExten`` and ``Queue``, no AGI); the server only receives the AMI events;
- this server: the calls go to 1111, the menus run by the server over FastAGI.

Printed per run: failed calls (SIPp), callers who reached the queue
(``QueueCallerJoin``), the peak of calls up together, the time from each key
(``DTMFEnd``) to the start of the next prompt on that channel (``AGIExecStart``
of ``STREAM FILE``, or the twin's ``Newexten`` of ``Background``/``Playback``),
both timestamped by Asterisk itself (``timestampevents = yes``), and the CPU
seconds per call of the server process and of Asterisk (``/proc/<pid>/stat``
before and after the run). How the figures are made: :mod:`bench.sip_load_figures`.

    .venv/bin/ivr sandbox up
    .venv/bin/python -m bench.sip_load --calls 50,100,200 [--rate 5] [--events DIR]
        [--tree OTHER_CHECKOUT] [--profile DIR]

``--tree`` runs the server of another checkout (its own ``ivr`` package, this
bench's load), for a before and after in the same session. ``--profile`` runs the
server under cProfile (:mod:`bench.serve_profiled`), one profile a run, and prints
where its time went. The turns in the queue a call are printed too: at each level
the callers wait until the last one is in (35 s at 100 calls, 55 s at 200), and one
who waits past the loop's interval (30 s) goes through the waiting route again,
which the CPU a call includes.

Needs the sandbox up from this checkout (the twin context is in its dialplan), no
other server on the FastAGI port, and ``sipp`` (Debian ``sip-tester``). About
6 minutes for 50, 100 and 200 calls at 5 calls a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import pstats
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.sip_load_figures import (
    Presses,
    Spread,
    cpu_per_call,
    pair_presses,
    queue_turns,
    reached_queue,
)
from bench.sip_load_rig import (
    QUEUE,
    TICKS_PER_S,
    Recorder,
    Served,
    SippRun,
    asterisk_pid,
    proc_stat,
    recorder,
    run_sipp,
    server,
)
from ivr.config import PROJECT_ROOT, Settings, load_settings
from ivr.sandbox.pbx import Sandbox
from ivr.sandbox.procs import SandboxError

HOTLINE = "1111"
TWIN = "bench-twin-1111"
WALK_S = 10.0  # from the answer to the key 2, with some margin


@dataclass(frozen=True)
class Run:
    """One run of N calls and its figures."""

    name: str
    calls: int
    sipp: SippRun
    reached: int
    turns: int  # QueueCallerJoin events: turns of the waiting loop, all callers
    presses: Presses
    server_cpu: float  # CPU seconds a call
    asterisk_cpu: float
    load: tuple[float, float]  # 1-minute load average before and after
    seconds: float

    @property
    def spread(self) -> Spread:
        return Spread.of(self.presses.latencies)


async def one_run(settings: Settings, rec: Recorder, srv: Served, name: str,
                  number: str, calls: int, rate: float, keep: Path | None) -> Run:  # fmt: skip
    ramp_s = calls / rate
    hold_s = max(30.0, ramp_s + 15.0)  # the first caller still waits when the last comes
    await rec.paused_member()
    rec.events.clear()
    ast = asterisk_pid(settings)
    load0 = os.getloadavg()[0]
    srv.profile_start()
    srv0, ast0 = proc_stat(srv.pid), proc_stat(ast)
    t0 = time.monotonic()
    sipp = await run_sipp(settings, number, calls, rate, int(hold_s * 1000),
                          limit_s=ramp_s + WALK_S + hold_s + 120)  # fmt: skip
    await rec.wait_no_citizen()
    seconds = time.monotonic() - t0
    srv1, ast1 = proc_stat(srv.pid), proc_stat(ast)
    kept = await srv.profile_stop(f"{calls}-{number}")
    if kept is not None:
        print_profile(kept, f"{name}, {calls} calls")
    events = list(rec.events)
    if keep is not None:
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
        (keep / f"{calls}-{number}.jsonl").write_text(lines, encoding="utf-8")
    done = max(sipp.counts.created, 1)
    return Run(
        name=name,
        calls=calls,
        sipp=sipp,
        reached=reached_queue(events, QUEUE),
        turns=queue_turns(events, QUEUE),
        presses=pair_presses(events),
        server_cpu=cpu_per_call(srv0, srv1, done, TICKS_PER_S),
        asterisk_cpu=cpu_per_call(ast0, ast1, done, TICKS_PER_S),
        load=(load0, os.getloadavg()[0]),
        seconds=seconds,
    )


HEADER = (
    f"{'':<26}{'failed':>7}{'reached':>9}{'turns':>7}{'peak':>6}{'keys':>6}"
    f"{'median':>9}{'p95':>9}{'p99':>9}{'max':>9}{'server CPU':>12}{'Asterisk CPU':>14}"
)


def _ms(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1f}"


def row(run: Run) -> str:
    s, c = run.spread, run.sipp.counts
    return (
        f"{run.name:<26}{c.failed:>7}{run.reached:>5}/{c.created:<3}"
        f"{run.turns / max(c.created, 1):>7.1f}{c.peak:>6}{s.n:>6}"
        f"{_ms(s.median_ms):>9}{_ms(s.p95_ms):>9}{_ms(s.p99_ms):>9}{_ms(s.max_ms):>9}"
        f"{run.server_cpu * 1000:>9.1f} ms{run.asterisk_cpu * 1000:>11.1f} ms"
    )


def report(calls: int, rate: float, twin: Run, ours: Run) -> None:
    print(
        f"\n== {calls} concurrent calls ({rate:g} new a second); load average "
        f"{twin.load[0]:.2f} -> {ours.load[1]:.2f}; runs of {twin.seconds:.0f} s and "
        f"{ours.seconds:.0f} s"
    )
    print(HEADER + "   (turns in the queue a call; latency: DTMF -> next prompt, ms; CPU a call)")
    for run in (twin, ours):
        print(row(run))
    a, b = twin.spread, ours.spread
    if a.n and b.n:
        print(
            f"server / twin: median x{b.median_ms / max(a.median_ms, 1e-3):.1f}, "
            f"p95 x{b.p95_ms / max(a.p95_ms, 1e-3):.1f}, p99 x{b.p99_ms / max(a.p99_ms, 1e-3):.1f}"
        )
    for run in (twin, ours):
        p = run.presses
        notes = []
        if p.before_first_prompt or p.unanswered:
            notes.append(f"{p.before_first_prompt} keys before the first prompt, "
                         f"{p.unanswered} with no prompt after")  # fmt: skip
        if run.sipp.returncode not in (0, 99):
            notes.append(f"SIPp ended with {run.sipp.returncode}")
        if run.sipp.errors:
            notes.append("SIPp errors:\n" + run.sipp.errors)
        if notes:
            print(f"  {run.name}: " + "; ".join(notes))


def header(settings: Settings, tree: Path | None) -> None:
    commit = ""
    git = ["git", "-C", str(tree or PROJECT_ROOT), "rev-parse", "--short", "HEAD"]
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(git, capture_output=True, text=True, check=True).stdout.strip()
    timing = ""
    with contextlib.suppress(SandboxError):
        timing = Sandbox(settings).timing_test().describe()
    print(
        f"SIP load on the sandbox: {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}, Asterisk timing: {timing or '?'}, code {commit or '?'}"
        + (f" (the server of {tree})" if tree else "")
    )
    print("each citizen: greeting, 9, 9, 9 (menu again), 2 (complaint queue), keys as SIP INFO")


def print_profile(path: Path, title: str, top: int = 25) -> None:
    """The functions where the server spent most time in a run, by their own time
    and by their time with what they call (the whole profile stays in ``path``)."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    print(f"\n-- profile of the server: {title} ({path}) --")
    for key in ("tottime", "cumulative"):
        out.seek(0)
        out.truncate()
        stats.sort_stats(key).print_stats(top)
        text = out.getvalue()
        print(text[text.find("   ncalls") :].rstrip())


async def main(levels: list[int], rate: float, keep: Path | None,
               tree: Path | None = None, profile: Path | None = None) -> None:  # fmt: skip
    if shutil.which("sipp") is None:
        raise SystemExit("sipp is missing: apt-get install sip-tester")
    settings = load_settings()
    header(settings, tree)
    async with recorder(settings) as rec:
        await rec.check_twin(TWIN)
        for calls in levels:
            async with server(settings, tree, profile) as srv:
                twin = await one_run(settings, rec, srv, "dialplan twin", TWIN,
                                     calls, rate, keep)  # fmt: skip
                ours = await one_run(settings, rec, srv, "this server (FastAGI)", HOTLINE,
                                     calls, rate, keep)  # fmt: skip
            report(calls, rate, twin, ours)


def _levels(text: str) -> list[int]:
    wrong = argparse.ArgumentTypeError(f"--calls {text!r}: write numbers like 50,100,200")
    try:
        levels = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise wrong from None
    if not levels or min(levels) < 1:
        raise wrong
    return levels


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--calls", type=_levels, default=[50, 100, 200],
                   help="concurrent calls, one level or several: 50,100,200")  # fmt: skip
    p.add_argument("--rate", type=float, default=5.0, help="new calls a second (default 5)")
    p.add_argument("--events", type=Path, metavar="DIR",
                   help="write each run's AMI events there (<calls>-<number>.jsonl)")  # fmt: skip
    p.add_argument("--tree", type=Path, metavar="CHECKOUT",
                   help="run the server of another checkout (its ivr package), for a "
                        "before/after beside this one")  # fmt: skip
    p.add_argument("--profile", type=Path, metavar="DIR",
                   help="run the server under cProfile, one profile a run kept in DIR "
                        "(<calls>-<number>.prof) and its top functions printed")  # fmt: skip
    a = p.parse_args()
    if a.events is not None:
        a.events.mkdir(parents=True, exist_ok=True)
    tree = a.tree.resolve() if a.tree is not None else None
    profile = a.profile.resolve() if a.profile is not None else None
    asyncio.run(main(a.calls, a.rate, a.events, tree, profile))
