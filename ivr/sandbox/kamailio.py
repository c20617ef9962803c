"""Kamailio in front of the sandbox's two Asterisk nodes (Debian's ``kamailio``, on
this machine, outside the Asterisk root).

It runs the shipped ``deploy/production/kamailio/kamailio.cfg`` as it is, given the
sandbox's values on the command line: it listens on ``127.0.0.1:5070`` and sends
each new call to node a (``127.0.0.1:5060``) or node b (``127.0.0.1:5062``,
:mod:`ivr.sandbox.second_node`) in turn, probing both with OPTIONS every second.
Its pid file, control socket, node list and log are in ``<run_dir>/kamailio/``.
:meth:`Kamailio.nodes` reads the dispatcher's view of the nodes (``kamcmd``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from ivr.config import PROJECT_ROOT
from ivr.sandbox.procs import SandboxError, run

__all__ = ["CONFIG", "PORT", "Kamailio", "parse_dispatcher_list"]

CONFIG = PROJECT_ROOT / "deploy" / "production" / "kamailio" / "kamailio.cfg"
PORT = 5070
NODES = ("sip:127.0.0.1:5060", "sip:127.0.0.1:5062")  # node a, node b
PING_INTERVAL_S = 1


def parse_dispatcher_list(text: str) -> dict[str, str]:
    """``kamcmd dispatcher.list`` as {destination URI: flags}: ``AP`` active,
    ``IP`` inactive, ``TP`` trying, ``DX`` disabled (pure)."""
    found = re.findall(r"URI:\s*(\S+)\s*\n\s*FLAGS:\s*(\S+)", text)
    return dict(found)


class Kamailio:
    def __init__(self, run_dir: Path, port: int = PORT, nodes: tuple[str, ...] = NODES) -> None:
        self.dir = run_dir / "kamailio"
        self.port = port
        self.node_uris = nodes  # the dispatcher's set 1, the first one's probe awaited
        self.ctl = self.dir / "kamailio_ctl"
        self.pid_file = self.dir / "kamailio.pid"
        self.log = self.dir / "kamailio.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """The command line: the shipped configuration with the sandbox's values."""
        return [
            "kamailio", "-f", str(CONFIG), "-DD", "-E", "-m", "32", "-M", "4",
            "-P", str(self.pid_file), "-Y", str(self.dir),
            "-A", f"LISTEN=udp:127.0.0.1:{self.port}",
            "-A", f'DISPATCHER_LIST="{self.dir / "dispatcher.list"}"',
            "-A", f'CTL_SOCKET="unix:{self.ctl}"',
            "-A", f"PING_INTERVAL={PING_INTERVAL_S}",
        ]  # fmt: skip

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def start(self, timeout: float = 20.0) -> None:
        """Start Kamailio (once) and wait until it sees the first node active."""
        if shutil.which("kamailio") is None:
            raise SandboxError("kamailio is missing — apt-get install kamailio")
        if self.pid() is not None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "dispatcher.list").write_text(
            "".join(f"1 {uri}\n" for uri in self.node_uris), encoding="utf-8"
        )
        run(["kamailio", "-c", *self.command()[1:]], timeout=30)  # the file as shipped parses
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command(), stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(SandboxError):
                if self.nodes().get(self.node_uris[0]) == "AP":
                    return
            time.sleep(0.2)
        raise SandboxError(f"Kamailio did not start within {timeout:.0f} s — see {self.log}")

    def nodes(self) -> dict[str, str]:
        """Each node as the dispatcher sees it now ({URI: flags})."""
        out = run(["kamcmd", "-s", f"unix:{self.ctl}", "dispatcher.list"], timeout=5)
        return parse_dispatcher_list(out)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Kamailio (SIGTERM, then SIGKILL to its process group)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self._running(pid):
                time.sleep(0.1)
            if self._running(pid):
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout)
            self._proc = None
        with contextlib.suppress(OSError):
            self.pid_file.unlink()

    def _running(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None  # our child: reaped, not a zombie
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
