"""The sandbox's Redis server: started on loopback from ``[redis] url`` with its data
and log beside the run folder (append-only), and stopped over its port, then by pid.

:class:`ivr.sandbox.pbx.Sandbox` calls these from ``start_redis`` and ``stop_redis``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

from ivr.sandbox.procs import SandboxError, port_open, run, wait_closed

__all__ = ["address", "start", "stop"]


def address(url: str) -> tuple[str, int]:
    """Host and port of a ``redis://`` URL (loopback and 6379 when not given)."""
    u = urlparse(url)
    return u.hostname or "127.0.0.1", u.port or 6379


def ready(host: str, port: int) -> bool:
    """Redis answers PING with PONG (not -LOADING while it reads its append-only file)."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")
    return False


def start(url: str, run_dir: Path) -> None:
    """Start Redis for ``url`` unless something listens there already."""
    host, port = address(url)
    if port_open(host, port):
        return
    if shutil.which("redis-server") is None:
        raise SandboxError("redis-server is missing — apt-get install redis-server")
    data = run_dir.parent / "redis"
    data.mkdir(parents=True, exist_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    run(["redis-server", "--bind", host, "--port", str(port), "--daemonize", "yes",
         "--dir", str(data), "--pidfile", str(run_dir / "redis.pid"),
         "--logfile", str(data / "redis.log"), "--appendonly", "yes"])  # fmt: skip
    deadline = time.monotonic() + 30
    while not ready(host, port):  # listening, and done loading its data
        if time.monotonic() > deadline:
            raise SandboxError(f"redis did not start on {host}:{port} — see {data}/redis.log")
        time.sleep(0.05)


def stop(url: str, run_dir: Path) -> None:
    """Stop the sandbox's Redis: asked over its port (it may have been started
    from another checkout, whose pid file this one cannot see), then by pid."""
    host, port = address(url)
    # SHUTDOWN saves first; if it cannot (its folder is gone), NOSAVE: the
    # append-only file already holds every write.
    for command in (b"SHUTDOWN\r\n", b"SHUTDOWN NOSAVE\r\n"):
        if not port_open(host, port):
            return
        reply = b""
        with contextlib.suppress(OSError):
            with socket.create_connection((host, port), timeout=5) as sock:
                sock.sendall(command)
                with contextlib.suppress(OSError):
                    reply = sock.recv(512)  # an error line, or nothing once it is gone
        if reply.startswith(b"-"):
            continue  # refused (it could not save): next way
        if wait_closed(host, port, 10.0):
            return
    _stop_by_pid(run_dir / "redis.pid")


def _stop_by_pid(pidfile: Path) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)
