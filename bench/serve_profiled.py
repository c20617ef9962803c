"""``ivr serve`` under cProfile, switched on and off by signals: ``bench.sip_load
--profile DIR`` profiles each of its runs apart (the twin's, the server's) in the
one server process a level uses.

    python -m bench.serve_profiled DIR [ivr serve options]

``SIGUSR1`` starts a fresh profile; ``SIGUSR2`` stops it and writes it to
``DIR/<n>.prof`` (n = 1, 2, ... in the order of the stops), then ``DIR/<n>.done``
once the file is whole. cProfile slows the server (about twice on this path): read
the shares of its time, not the seconds.
"""

from __future__ import annotations

import cProfile
import signal
import sys
from pathlib import Path
from types import FrameType

from ivr.cli import main


class Switch:
    """The profile now running, if any, and where the stopped ones go."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.profile: cProfile.Profile | None = None
        self.stopped = 0

    def start(self, _sig: int, _frame: FrameType | None) -> None:
        if self.profile is not None:
            self.profile.disable()
        self.profile = cProfile.Profile()
        self.profile.enable()

    def stop(self, _sig: int, _frame: FrameType | None) -> None:
        profile, self.profile = self.profile, None
        if profile is None:
            return
        profile.disable()
        self.stopped += 1
        profile.dump_stats(str(self.out / f"{self.stopped}.prof"))
        (self.out / f"{self.stopped}.done").touch()


def run(argv: list[str]) -> int:
    if not argv:
        raise SystemExit("usage: python -m bench.serve_profiled DIR [ivr serve options]")
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    switch = Switch(out)
    signal.signal(signal.SIGUSR1, switch.start)
    signal.signal(signal.SIGUSR2, switch.stop)
    return main(["serve", *argv[1:]])


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
