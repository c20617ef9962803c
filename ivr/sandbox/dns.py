"""The sandbox's resolver for Asterisk's FastAGI fail-over (``hagi://``).

``AGI(hagi://ivr-agi.internal/hotline)`` makes Asterisk look up the DNS SRV records
of ``_agi._tcp.ivr-agi.internal`` and connect to the FastAGI servers they list, in
their order (priority, then weight), the next one whenever a connection fails.
Asterisk asks the system resolver (``/etc/resolv.conf``) at every ``AGI()``. The
sandbox's Asterisk runs chrooted, so that file is the root's own, never the
machine's: while fail-over is on, the sandbox runs Debian's ``dnsmasq`` on a
loopback address of its own, answering for :data:`DOMAIN` only (authoritative,
nothing forwarded), and puts that address first in the root's ``resolv.conf``;
names of other domains are refused there and go on to the servers that were
already listed. :func:`stop` puts the file back as it was.

Turned on by the sandbox's dialplan (``IVR_AGI = hagi://ivr-agi.internal`` in
``deploy/sandbox/asterisk/extensions.conf``, then ``ivr sandbox up``), or by a test
with :func:`start` and the global set over the AMI. The records name two instances
on this machine: ``[agi] port`` first, the port after it second.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr.sandbox.procs import SandboxError, run

__all__ = [
    "DOMAIN",
    "LISTEN",
    "SrvTarget",
    "dnsmasq_config",
    "resolv_conf",
    "running",
    "sandbox_targets",
    "start",
    "stop",
    "wanted",
]

DOMAIN = "ivr-agi.internal"
LISTEN = "127.0.53.1"  # a loopback address of the sandbox's own (dnsmasq binds port 53 there)
CONF_IN_ROOT = "etc/ivr-agi-dnsmasq.conf"
PID_IN_ROOT = "run/ivr-agi-dnsmasq.pid"
SAVED_IN_ROOT = "etc/resolv.conf.ivr-saved"  # the root's resolv.conf as it was
_RESOLV_NOTE = "# the sandbox's FastAGI fail-over resolver first (ivr.sandbox.dns)"
_HAGI = re.compile(r"^\s*IVR_AGI\s*=\s*(\S*)", re.MULTILINE)


@dataclass(frozen=True)
class SrvTarget:
    """One FastAGI server in the SRV records: ``<host>.<domain>`` at ``address:port``."""

    host: str
    address: str
    port: int
    priority: int = 10  # lower first; equal priorities share the calls by weight
    weight: int = 50


def sandbox_targets(agi_host: str, agi_port: int) -> list[SrvTarget]:
    """The sandbox's two instances: ``agi_port`` first, ``agi_port + 1`` when it fails."""
    address = "127.0.0.1" if agi_host in ("", "0.0.0.0") else agi_host
    return [
        SrvTarget("ivr1", address, agi_port, priority=10),
        SrvTarget("ivr2", address, agi_port + 1, priority=20),
    ]


def dnsmasq_config(targets: Sequence[SrvTarget], listen: str = LISTEN, domain: str = DOMAIN) -> str:
    """dnsmasq's configuration: the SRV records of ``_agi._tcp.<domain>`` and the
    address of each target, authoritative for ``domain`` and nothing else."""
    lines = [
        "# written by the sandbox (ivr.sandbox.dns): FastAGI fail-over records",
        "port=53",
        f"listen-address={listen}",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        "no-poll",
        f"local=/{domain}/",
    ]
    for t in targets:
        lines.append(f"host-record={t.host}.{domain},{t.address}")
    for t in targets:
        lines.append(
            f"srv-host=_agi._tcp.{domain},{t.host}.{domain},{t.port},{t.priority},{t.weight}"
        )
    return "\n".join(lines) + "\n"


def resolv_conf(original: str, listen: str = LISTEN) -> str:
    """``original`` with ``nameserver <listen>`` first (and not again further down)."""
    ours = [_RESOLV_NOTE, f"nameserver {listen}"]
    kept = [line for line in original.splitlines() if line.split() not in [o.split() for o in ours]]
    return "\n".join([*ours, *kept]) + "\n"


def wanted(extensions_conf: str) -> bool:
    """Whether a dialplan's globals send FastAGI through ``hagi://`` (its last
    ``IVR_AGI`` line that is not a comment)."""
    values = _HAGI.findall(extensions_conf)
    return bool(values) and values[-1].lower().startswith("hagi://")


# -- the running resolver (I/O) ------------------------------------------------------


def _pid(root: Path) -> int | None:
    try:
        pid = int((root / PID_IN_ROOT).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def running(root: Path) -> bool:
    """The sandbox's dnsmasq is running (its pid file names a live process)."""
    return _pid(root) is not None


def answers(name: str, listen: str = LISTEN, timeout: float = 1.0) -> int:
    """How many SRV records ``listen`` gives for ``name`` (-1: no answer at all)."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    query = struct.pack(">HHHHHH", 0x1F0A, 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", 33, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(query, (listen, 53))
            reply = sock.recv(4096)
        except OSError:
            return -1
    return -1 if len(reply) < 12 else int(struct.unpack(">H", reply[6:8])[0])


def start(root: Path, targets: Sequence[SrvTarget]) -> bool:
    """Run dnsmasq with ``targets`` and point the root's resolver at it; True if it was
    started now (a running one is restarted with these records)."""
    if shutil.which("dnsmasq") is None:
        raise SandboxError("dnsmasq is missing (FastAGI fail-over) — apt-get install dnsmasq-base")
    was_running = running(root)
    _kill(root)
    conf = root / CONF_IN_ROOT
    conf.write_text(dnsmasq_config(targets), encoding="utf-8")
    pidfile = root / PID_IN_ROOT
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    run(["dnsmasq", f"--conf-file={conf}", f"--pid-file={pidfile}"], timeout=30)
    deadline = time.monotonic() + 10
    while answers(f"_agi._tcp.{DOMAIN}") != len(targets):
        if time.monotonic() > deadline:
            _kill(root)
            raise SandboxError(
                f"dnsmasq did not answer on {LISTEN}:53 — is another DNS server bound there?"
            )
        time.sleep(0.05)
    _point_resolver(root)
    return not was_running


def stop(root: Path) -> None:
    """Stop the sandbox's dnsmasq and put the root's ``resolv.conf`` back as it was."""
    _kill(root)
    saved = root / SAVED_IN_ROOT
    if saved.exists():
        (root / "etc" / "resolv.conf").write_text(saved.read_text(encoding="utf-8"))
        saved.unlink()


def _point_resolver(root: Path) -> None:
    resolv = root / "etc" / "resolv.conf"
    saved = root / SAVED_IN_ROOT
    if not saved.exists():  # keep the first original: a second start must not save ours
        original = resolv.read_text(encoding="utf-8") if resolv.exists() else ""
        saved.write_text(original, encoding="utf-8")
    # written in place: resolv.conf may be a bind mount or a link target
    resolv.write_text(resolv_conf(saved.read_text(encoding="utf-8")), encoding="utf-8")


def _kill(root: Path) -> None:
    pid = _pid(root)
    if pid is None:
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _pid(root) is not None:
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        if _pid(root) is not None:
            os.kill(pid, signal.SIGKILL)
    (root / PID_IN_ROOT).unlink(missing_ok=True)
