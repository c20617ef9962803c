"""The sandbox's Redis in its HA mode: one primary, one replica and three sentinels
(Debian's ``redis-server`` and ``redis-sentinel``) on loopback ports of their own,
never the shared sandbox Redis on 6379, in a folder of their own.

Used by the fail-over proof (``tests/failover/test_redis_sentinel.py``)::

    with SentinelSandbox(folder) as ha:          # started, replica in sync, sentinels agreed
        settings = replace(settings, redis_sentinels=ha.sentinels, redis_service=ha.service)
        killed = ha.kill_primary()               # SIGKILL of whichever node is primary
        ha.wait_primary(other_than=killed)       # the sentinels promoted the replica
        ha.restart(killed)                       # back, and made a replica of the new one

The nodes run in the foreground as children of this process (their pids are known,
so SIGKILL hits exactly one); each writes its log in its own folder. Nodes left
running by an earlier run that was itself killed are found by the pid files in
the folder and stopped first. The sentinels notice a primary down after
``down_after_ms`` (1 s here; Debian's default is 30 s).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

from ivr.sandbox.procs import SandboxError, port_open, wait_closed

__all__ = ["HaPorts", "SentinelSandbox"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class HaPorts:
    """Loopback ports of the HA mode (the shared sandbox Redis is on 6379)."""

    primary: int = 6380
    replica: int = 6381
    sentinels: tuple[int, ...] = (26380, 26381, 26382)

    @property
    def nodes(self) -> tuple[int, int]:
        return self.primary, self.replica


class SentinelSandbox:
    """One primary, one replica and three sentinels in ``folder`` (see the module)."""

    def __init__(
        self,
        folder: Path,
        ports: HaPorts = HaPorts(),
        service: str = "ivr",
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 10_000,
    ) -> None:
        self.folder = folder
        self.ports = ports
        self.service = service
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def sentinels(self) -> tuple[str, ...]:
        """``[redis] sentinels`` for the server's settings."""
        return tuple(f"{HOST}:{p}" for p in self.ports.sentinels)

    # -- start and stop --------------------------------------------------------------
    def start(self, within_s: float = 60.0) -> None:
        """Start every node and wait until the replica is in sync and each sentinel
        knows the replica and the two other sentinels."""
        for tool in ("redis-server", "redis-sentinel"):
            if shutil.which(tool) is None:
                raise SandboxError(
                    f"{tool} is missing — apt-get install redis-server redis-sentinel"
                )
        self._stop_leftovers()
        for port in (*self.ports.nodes, *self.ports.sentinels):
            if port_open(HOST, port):
                raise SandboxError(
                    f"port {port} is taken: the HA sandbox needs it — stop what listens there "
                    f"(`redis-cli -p {port} shutdown nosave`) or choose other HaPorts"
                )
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self._start_node(self.ports.primary)
        self._start_node(self.ports.replica, replica_of=self.ports.primary)
        for port in self.ports.sentinels:
            self._start_sentinel(port)
        self._wait(self._settled, within_s, "the replica in sync and three sentinels agreed")

    def stop(self) -> None:
        """Stop every node this object started (SIGTERM, then SIGKILL)."""
        for port in list(self.procs):
            self._stop(port)

    def __enter__(self) -> SentinelSandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what a fail-over test does ------------------------------------------------------
    def primary(self) -> int | None:
        """The port of the primary as the first sentinel that answers names it."""
        for port in self.ports.sentinels:
            with contextlib.suppress(redis.RedisError, OSError):
                got = self._ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
                if got:
                    return int(got[1])
        return None

    def kill_primary(self) -> int:
        """SIGKILL the primary (no shutdown, no last save); its port."""
        port = self.primary()
        if port is None or port not in self.procs:
            raise SandboxError(f"no primary of {self.service!r} known to the sentinels to kill")
        proc = self.procs.pop(port)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        return port

    def wait_primary(self, other_than: int, within_s: float = 60.0) -> int:
        """Wait until every sentinel names a primary other than ``other_than`` that
        takes writes; its port."""

        def promoted() -> int | None:
            named = {self._named(p) for p in self.ports.sentinels}
            if len(named) != 1:
                return None
            port = named.pop()
            if port in (None, other_than):
                return None
            role = self._ask(port, "ROLE")
            return port if role and role[0] in (b"master", "master") else None

        found: int = self._wait(promoted, within_s, f"a new primary instead of {other_than}")
        return found

    def restart(self, port: int, within_s: float = 60.0) -> None:
        """Start the node of ``port`` again, with its data; the sentinels make it a
        replica of the new primary. Returns once it is in sync."""
        self._start_node(port, fresh=False)

        def synced() -> bool:
            info = self._info(port)
            return info.get("role") == "slave" and info.get("master_link_status") == "up"

        self._wait(synced, within_s, f"the node on {port} back as an in-sync replica")

    # -- internals ---------------------------------------------------------------------
    def _start_node(self, port: int, replica_of: int | None = None, fresh: bool = True) -> None:
        d = self.folder / f"redis-{port}"
        d.mkdir(parents=True, exist_ok=not fresh)
        args = ["redis-server", "--bind", HOST, "--port", str(port), "--dir", str(d),
                "--daemonize", "no", "--logfile", str(d / "redis.log"), "--save", "",
                "--appendonly", "yes", "--appendfsync", "everysec"]  # fmt: skip
        if replica_of is not None:
            args += ["--replicaof", HOST, str(replica_of)]
        self._spawn(port, args)
        self._wait(lambda: self._ask(port, "PING") is not None, 30.0, f"redis on {port}")

    def _start_sentinel(self, port: int) -> None:
        d = self.folder / f"sentinel-{port}"
        d.mkdir(parents=True)
        conf = d / "sentinel.conf"  # sentinels rewrite their own file: one each
        s = self.service
        conf.write_text(
            f"port {port}\nbind {HOST}\ndaemonize no\ndir {d}\nlogfile {d / 'sentinel.log'}\n"
            f"sentinel monitor {s} {HOST} {self.ports.primary} 2\n"
            f"sentinel down-after-milliseconds {s} {self.down_after_ms}\n"
            f"sentinel failover-timeout {s} {self.failover_timeout_ms}\n"
            f"sentinel parallel-syncs {s} 1\n",
            encoding="utf-8",
        )
        self._spawn(port, ["redis-sentinel", str(conf)])
        self._wait(lambda: self._ask(port, "PING") is not None, 30.0, f"sentinel on {port}")

    def _spawn(self, port: int, args: list[str]) -> None:
        log = self.folder / f"{port}.out"
        with log.open("ab") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        self.procs[port] = proc
        (self.folder / f"{port}.pid").write_text(str(proc.pid))

    def _stop(self, port: int) -> None:
        proc = self.procs.pop(port)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        wait_closed(HOST, port, 5.0)

    def _stop_leftovers(self) -> None:
        """Nodes of an earlier run of this folder that outlived it (their pid files)."""
        for pidfile in self.folder.glob("*.pid") if self.folder.is_dir() else []:
            with contextlib.suppress(OSError, ValueError):
                pid = int(pidfile.read_text())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"redis-server" in cmdline or b"redis-sentinel" in cmdline:
                    os.kill(pid, signal.SIGKILL)
                    wait_closed(HOST, int(pidfile.stem), 5.0)

    def _ask(self, port: int, *command: str) -> Any:
        """One command to the node or sentinel on ``port``; None if it does not answer."""
        client = redis.Redis(host=HOST, port=port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return client.execute_command(*command)  # type: ignore[no-untyped-call]
        except (redis.RedisError, OSError):
            return None
        finally:
            client.close()

    def _info(self, port: int) -> dict[str, Any]:
        got = self._ask(port, "INFO", "replication")
        return got if isinstance(got, dict) else {}

    def _named(self, sentinel: int) -> int | None:
        got = self._ask(sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
        return int(got[1]) if got else None

    def _settled(self) -> bool:
        if self._info(self.ports.replica).get("master_link_status") != "up":
            return False
        for port in self.ports.sentinels:
            got = self._ask(port, "SENTINEL", "MASTER", self.service)
            if not got:
                return False
            if not isinstance(got, dict):
                got = dict(zip(got[::2], got[1::2], strict=True))
            state = {_s(k): _s(v) for k, v in got.items()}
            if state.get("num-slaves") != "1" or state.get("num-other-sentinels") != "2":
                return False
        return True

    def _wait(self, cond: Any, within_s: float, what: str) -> Any:
        deadline = time.monotonic() + within_s
        while True:
            got = cond()
            if got:
                return got
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"not reached within {within_s:.0f} s: {what} — see {self.folder}"
                )
            time.sleep(0.1)


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
