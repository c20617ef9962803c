"""What the sandbox's parts share: running a command, watching a loopback port, and
:class:`SandboxError`, whose message says what went wrong and what to do."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time

__all__ = ["SandboxError", "port_open", "run", "wait_closed"]


class SandboxError(Exception):
    """The sandbox cannot be built or started; the message says why and what to do."""


def run(cmd: list[str], timeout: float = 600, check: bool = True) -> str:
    """Run ``cmd`` and return its output; a missing tool, a timeout or (with ``check``)
    a failure is a :class:`SandboxError` carrying the end of its error output."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise SandboxError(f"{cmd[0]} is not installed — run scripts/setup.sh first") from None
    except subprocess.TimeoutExpired:
        raise SandboxError(f"{' '.join(cmd)} did not finish within {timeout:.0f} s") from None
    if check and proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise SandboxError(f"{' '.join(cmd)} failed ({proc.returncode}):\n" + "\n".join(tail))
    return proc.stdout


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    """Something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def wait_closed(host: str, port: int, within_s: float) -> bool:
    """Wait until nothing listens on ``host:port``; False if still open after ``within_s``."""
    deadline = time.monotonic() + within_s
    while port_open(host, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
