"""The sandbox's PostgreSQL: a cluster of its own beside the sandbox root, made with
Debian's ``initdb`` and run with ``pg_ctl`` on the loopback port of ``[history] dsn``
(5433, leaving a system cluster on 5432 alone), its role and database made once.

PostgreSQL refuses to run as root: run as root, the cluster belongs to the
``postgres`` user that Debian's package creates, and its commands run through
``runuser``. Loopback connections are trusted (sandbox only: production points
``[history] dsn`` at the agency's own server, with a password).
:class:`ivr.sandbox.pbx.Sandbox` calls these from ``up``, ``down`` and ``status``.
"""

from __future__ import annotations

import glob
import os
import time
from pathlib import Path
from urllib.parse import urlparse

from ivr.sandbox.procs import SandboxError, port_open, run, wait_closed

__all__ = ["address", "bin_dir", "start", "stop", "wanted"]

OWNER = "postgres"  # Debian's package creates this user


def address(dsn: str) -> tuple[str, int]:
    """Host and port of a ``postgresql://`` DSN (loopback and 5432 when not given)."""
    u = urlparse(dsn)
    return u.hostname or "127.0.0.1", u.port or 5432


def wanted(dsn: str) -> bool:
    """The sandbox runs PostgreSQL for ``dsn``: history is on and points at loopback."""
    return bool(dsn) and address(dsn)[0] in ("127.0.0.1", "localhost", "::1")


def bin_dir() -> Path:
    """The newest PostgreSQL installed by Debian (``/usr/lib/postgresql/<ver>/bin``)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not found:
        raise SandboxError("PostgreSQL is missing — apt-get install postgresql (scripts/setup.sh)")
    return Path(found[-1]).parent


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", OWNER, "--", *cmd] if os.geteuid() == 0 else cmd


def _names(dsn: str) -> tuple[str, str]:
    """The role and database of ``dsn`` (``ivr`` and ``ivr`` when not given)."""
    u = urlparse(dsn)
    return u.username or "ivr", (u.path.lstrip("/") or "ivr")


def _init(data: Path) -> None:
    """Create the cluster in ``data`` once (trusting loopback connections)."""
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        run(["chown", "-R", f"{OWNER}:{OWNER}", str(data.parent)])
    run(_as_owner([str(bin_dir() / "initdb"), "-D", str(data), "-U", "postgres",
                   "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]))  # fmt: skip


def _create_role(host: str, port: int, dsn: str) -> None:
    """The role and database of ``dsn``, made once (the role may create test databases)."""
    role, db = _names(dsn)
    psql = [str(bin_dir() / "psql"), "-h", host, "-p", str(port), "-U", "postgres", "-d",
            "postgres", "-tAq", "-v", "ON_ERROR_STOP=1"]  # fmt: skip
    have = run([*psql, "-c", f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"]).strip()
    if not have:
        run([*psql, "-c", f'CREATE ROLE "{role}" LOGIN CREATEDB'])
    have = run([*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{db}'"]).strip()
    if not have:
        run([*psql, "-c", f'CREATE DATABASE "{db}" OWNER "{role}"'])


def start(dsn: str, data: Path) -> None:
    """Start PostgreSQL for ``dsn`` with its cluster in ``data`` unless something
    listens there already; make its role and database."""
    host, port = address(dsn)
    if not port_open(host, port):
        _init(data)
        log = data.parent / "postgres.log"
        if os.geteuid() == 0:
            log.touch()
            run(["chown", f"{OWNER}:{OWNER}", str(log)])
        opts = f"-c listen_addresses={host} -p {port} -c unix_socket_directories=''"
        run(_as_owner([str(bin_dir() / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts,
                       "-w", "-t", "60", "start"]), timeout=90)  # fmt: skip
        deadline = time.monotonic() + 30
        while not port_open(host, port):
            if time.monotonic() > deadline:
                raise SandboxError(f"PostgreSQL did not start on {host}:{port} — see {log}")
            time.sleep(0.05)
    _create_role(host, port, dsn)


def stop(dsn: str, data: Path) -> None:
    """Stop the sandbox's PostgreSQL (fast shutdown: open sessions are ended)."""
    host, port = address(dsn)
    if not port_open(host, port):
        return
    if (data / "postmaster.pid").exists():
        run(_as_owner([str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                       "stop"]), check=False, timeout=60)  # fmt: skip
    if not wait_closed(host, port, 20.0):
        raise SandboxError(f"PostgreSQL on {host}:{port} did not stop — is it another cluster?")
