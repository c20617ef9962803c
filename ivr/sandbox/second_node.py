"""A second Asterisk node for the sandbox (node ``b``), beside the first one (node ``a``).

The same Asterisk binaries, sounds and prompts as the sandbox's (the same debootstrap
root, :mod:`ivr.sandbox.pbx`), the same configuration templates and hotline dialplan,
with its own folders and ports:

===============  ===========================  ==============================
                 node a (the sandbox)         node b (this module)
===============  ===========================  ==============================
configuration    /etc/ivr-asterisk            /etc/ivr-asterisk-b
run, log, spool  .../ivr-asterisk             .../ivr-asterisk-b
AMI              127.0.0.1:5038               127.0.0.1:5039
PJSIP (UDP)      127.0.0.1:5060               127.0.0.1:5062
RTP              20000-20999                  21000-21999
systemname       (none)                       ivr-b: call ids ``ivr-b-<time>.<n>``
IVR_AGI          agi://127.0.0.1:4573         agi://127.0.0.1:4573/b
phones           agents 51NN, trunk 5090      agents 52NN, trunk 5190
===============  ===========================  ==============================

Its ``IVR_AGI`` ends in its name, so the server serves its calls from node b's model
(:mod:`ivr.queues.nodes`). Kamailio in front of both is :mod:`ivr.sandbox.kamailio`.
The sandbox's own settings and tests know nothing of node b: only the fail-over proof
of the two nodes (``tests/failover/test_asterisk_nodes.py``) starts it, and stops it.

    .venv/bin/python -m ivr.sandbox.second_node up | down | status
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from ivr.config import Settings, load_settings
from ivr.sandbox.pbx import SHIPPED, TEMPLATES, Sandbox
from ivr.sandbox.procs import run

__all__ = ["AMI_PORT", "NAME", "NODE_B", "SIP_PORT", "NodeSpec", "SecondNode", "node_conf"]


@dataclass(frozen=True)
class NodeSpec:
    """Another node beside the sandbox's: its name and the ports that are its own."""

    name: str
    ami_port: int
    sip_port: int
    rtp_start: int  # its RTP ports: 1,000 from here
    phones: int  # the hundreds of its phones' ports: 52 for 52NN (node a's are 51NN)

    @property
    def systemname(self) -> str:
        return f"ivr-{self.name}"

    @property
    def folder(self) -> str:
        """Its folders' name (``/etc/<folder>``, ``/run/<folder>``, ...)."""
        return f"ivr-asterisk-{self.name}"


NODE_B = NodeSpec("b", ami_port=5039, sip_port=5062, rtp_start=21000, phones=52)
NAME, AMI_PORT, SIP_PORT = NODE_B.name, NODE_B.ami_port, NODE_B.sip_port


def node_conf(name: str, text: str, node: NodeSpec = NODE_B) -> str:
    """A template rendered for node a, made another node's (pure): its folders,
    systemname, RTP and phones' ports, and ``IVR_AGI`` path."""
    if name == "asterisk.conf":
        text = re.sub(r"ivr-asterisk\b", node.folder, text)
        text = text.replace("[options]\n", f"[options]\nsystemname = {node.systemname}\n", 1)
    elif name == "rtp.conf":
        text = re.sub(r"(?m)^rtpstart\s*=.*$", f"rtpstart = {node.rtp_start}", text)
        text = re.sub(r"(?m)^rtpend\s*=.*$", f"rtpend = {node.rtp_start + 999}", text)
    elif name == "pjsip.conf":
        # its phones (node b: agents 52NN, supervisor 5211, trunk 5190) are not node
        # a's (51NN, 5090): qualifying them never disturbs a phone a test runs for node a
        text = re.sub(r"127\.0\.0\.1:51(\d\d)\b", rf"127.0.0.1:{node.phones}\1", text)
        text = text.replace("127.0.0.1:5090", f"127.0.0.1:5{node.phones - 51}90")
    elif name == "extensions.conf":
        # every IVR_AGI of [globals] (the last wins) ends in the node's name
        text = re.sub(r"(?m)^(IVR_AGI\s*=\s*\S+?)/?\s*$", rf"\1/{node.name}", text)
    return text


class SecondNode(Sandbox):
    """Node b (or another ``node``): :class:`ivr.sandbox.pbx.Sandbox`'s Asterisk
    handling on its own folders and ports."""

    def __init__(self, settings: Settings, node: NodeSpec = NODE_B) -> None:
        super().__init__(replace(settings, ami_port=node.ami_port, sip_port=node.sip_port))
        self.node = node

    @property
    def etc(self) -> Path:
        return self.root / "etc" / self.node.folder

    @property
    def rundir(self) -> Path:
        return self.root / "run" / self.node.folder

    def _ast(self, *args: str, timeout: float = 30, check: bool = True) -> str:
        conf = f"/etc/{self.node.folder}/asterisk.conf"
        return run(
            ["chroot", str(self.root), "asterisk", "-C", conf, *args],
            timeout=timeout,
            check=check,
        )

    def asterisk_pid(self) -> int | None:
        pidfile = self.rundir / "asterisk.pid"
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def write_config(self) -> None:
        """Node a's templates and dialplans, made this node's (:func:`node_conf`)."""
        self.etc.mkdir(parents=True, exist_ok=True)
        subs = self._placeholders()
        for tpl in sorted(TEMPLATES.glob("*.conf")):
            text = tpl.read_text(encoding="utf-8")
            for key, val in subs.items():
                text = text.replace(key, val)
            (self.etc / tpl.name).write_text(node_conf(tpl.name, text, self.node), "utf-8")
        for conf in sorted(self.s.dialplans_dir.glob("*.conf")):
            shutil.copyfile(conf, self.etc / conf.name)
        (self.etc / "ivr").mkdir(exist_ok=True)
        for conf in sorted(SHIPPED.glob("*.conf")):
            shutil.copyfile(conf, self.etc / "ivr" / conf.name)
        os.chmod(self.etc / "manager.conf", 0o600)
        os.chmod(self.etc / "ivr" / "ivr_manager.conf", 0o600)
        for d in ("run", "var/log", "var/lib", "var/spool", "var/cache"):
            (self.root / d / self.node.folder).mkdir(parents=True, exist_ok=True)

    def up(self) -> list[str]:
        """Start the node (the sandbox's root must be built: ``ivr sandbox up``)."""
        if not self.root_ready():
            raise SystemExit("the sandbox's root is missing: run `ivr sandbox up` first")
        self.write_config()
        if self.asterisk_pid() is not None:
            self.cli("core reload")
            return []
        self.start_asterisk()
        return [f"asterisk-{self.node.name}"]

    def down(self, only: list[str] | None = None) -> None:
        del only
        self.stop_asterisk()
        self._forget_pid()

    def kill(self) -> int | None:
        """SIGKILL the node's Asterisk (the fail-over proof); its pid, or None."""
        pid = self.asterisk_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        return pid

    def _forget_pid(self) -> None:
        """A killed Asterisk leaves its pid file (and control socket) behind."""
        if self.asterisk_pid() is None:
            for name in ("asterisk.pid", "asterisk.ctl"):
                with contextlib.suppress(OSError):
                    (self.rundir / name).unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ivr.sandbox.second_node")
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    node = SecondNode(load_settings())
    if args.command == "up":
        node.up()
    elif args.command == "down":
        node.down()
    for line in node.status().lines():
        if line.split()[0] in ("asterisk", "timing", "ami", "sip"):
            print(line.replace("asterisk ", "asterisk-b", 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
