"""The FastAGI fail-over resolver (ivr.sandbox.dns) and the shipped dnsmasq example:
the records Asterisk's hagi:// looks up, the resolver order, and when the sandbox
turns it on. Parsing both files with dnsmasq itself needs Debian's dnsmasq-base
(scripts/failover.sh installs it); without it those checks are skipped."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ivr.config import PROJECT_ROOT
from ivr.sandbox.dns import DOMAIN, dnsmasq_config, resolv_conf, sandbox_targets, wanted

SHIPPED = PROJECT_ROOT / "deploy" / "production" / "dnsmasq" / "ivr-agi.conf"
SANDBOX_DIALPLAN = PROJECT_ROOT / "deploy" / "sandbox" / "asterisk" / "extensions.conf"


def _srv(text: str) -> list[tuple[str, str, int, int, int]]:
    out = []
    for m in re.finditer(r"^srv-host=([^,]+),([^,]+),(\d+),(\d+),(\d+)$", text, re.MULTILINE):
        out.append((m[1], m[2], int(m[3]), int(m[4]), int(m[5])))
    return out


def test_the_sandbox_lists_its_two_instances_first_port_first() -> None:
    text = dnsmasq_config(sandbox_targets("127.0.0.1", 4573))
    assert _srv(text) == [
        (f"_agi._tcp.{DOMAIN}", f"ivr1.{DOMAIN}", 4573, 10, 50),
        (f"_agi._tcp.{DOMAIN}", f"ivr2.{DOMAIN}", 4574, 20, 50),
    ]
    assert f"host-record=ivr1.{DOMAIN},127.0.0.1" in text
    assert f"local=/{DOMAIN}/" in text  # AAAA of a target: "none" at once, never forwarded
    assert "no-resolv" in text  # nothing else answered: other names go to the next server


def test_every_srv_target_of_the_example_has_an_address() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    domain = re.search(r"^local=/([^/]+)/$", text, re.MULTILINE)
    assert domain is not None
    hosts = set(re.findall(r"^host-record=([^,]+),", text, re.MULTILINE))
    records = _srv(text)
    assert len(records) >= 2
    for name, target, port, _priority, _weight in records:
        assert name == f"_agi._tcp.{domain[1]}"
        assert target in hosts and target.endswith("." + domain[1])
        assert port == 4573
    globals_ = (PROJECT_ROOT / "deploy/production/asterisk/ivr_globals.conf").read_text()
    assert f";IVR_AGI = hagi://{domain[1]}\n" in globals_  # the option, commented out


@pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq-base not installed")
@pytest.mark.parametrize("which", ["sandbox", "example"])
def test_dnsmasq_accepts_the_file(which: str, tmp_path: Path) -> None:
    conf = SHIPPED
    if which == "sandbox":
        conf = tmp_path / "sandbox.conf"
        conf.write_text(dnsmasq_config(sandbox_targets("127.0.0.1", 4573)), encoding="utf-8")
    out = subprocess.run(["dnsmasq", "--test", "-C", str(conf)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_resolver_goes_first_once_and_the_others_stay() -> None:
    original = "search example.org\nnameserver 10.0.0.2\nnameserver 127.0.53.1\n"
    text = resolv_conf(original)
    servers = [line.split()[1] for line in text.splitlines() if line.startswith("nameserver")]
    assert servers == ["127.0.53.1", "10.0.0.2"]
    assert "search example.org" in text
    assert resolv_conf(text) == text


def test_turned_on_by_the_last_ivr_agi_line_that_is_no_comment() -> None:
    shipped = SANDBOX_DIALPLAN.read_text(encoding="utf-8")
    assert not wanted(shipped)  # off as shipped: the option is a comment
    assert wanted(shipped.replace(";IVR_AGI = hagi://", "IVR_AGI = hagi://"))
    assert not wanted("IVR_AGI = hagi://x\nIVR_AGI = agi://127.0.0.1:4573\n")
