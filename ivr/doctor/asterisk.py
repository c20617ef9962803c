"""Asks the configured Asterisk, over the AMI, what ``ivr doctor`` checks: the login,
the user's rights (``ListCommands``; ``manager show user`` when it may run CLI
commands), the dialplan contexts (``ShowDialPlan``), the global ``IVR_AGI``, the queues
(``QueueStatus``), its clock (``Getvar`` of ``STRFTIME``), and FastAGI
(:mod:`ivr.doctor.fastagi`). Every answer becomes findings through
:mod:`ivr.doctor.checks`.

With several Asterisk nodes (``[ami.nodes]``, :mod:`ivr.config_nodes`) each node is
checked in turn with its own AMI settings, its checks named ``<node>:<check>``
(``b:ami.login``); besides, each node's ``IVR_AGI`` must end in its name (how the
server knows a call's node) and each must have its own ``systemname`` (call ids never
repeated between nodes)."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from ivr.ami.client import AmiClient, AmiError
from ivr.ami.events import AnyEvent
from ivr.config import ConfigError, Settings
from ivr.config_nodes import AmiNode, ami_nodes
from ivr.doctor import checks
from ivr.doctor.fastagi import fastagi_finding
from ivr.doctor.findings import Finding, fail, ok

__all__ = ["asterisk_findings", "node_findings"]


async def asterisk_findings(
    settings: Settings, needs: Sequence[checks.DialplanNeed], queues: Mapping[str, Collection[str]]
) -> list[Finding]:
    """Every AMI-side finding of every node."""
    try:
        nodes = ami_nodes(settings)
    except ConfigError as e:
        fix = "run `ivr check` and fix what it lists"
        return [fail("ami.nodes", f"the [ami.nodes] settings are wrong: {e.problems[0]}", fix)]
    if len(nodes) == 1 and not nodes[0].name:
        return await node_findings(settings, needs, queues)
    out: list[Finding] = []
    names: dict[str, list[str]] = {}
    for node in nodes:
        found = await node_findings(_as_settings(settings, node), needs, queues, node.name)
        for f in found:
            if f.check == "systemname" and f.ok:
                names.setdefault(f.detail.split()[2], []).append(node.name)
        out += [replace(f, check=f"{node.name}:{f.check}") for f in found]
    for name, same in sorted(names.items()):
        if len(same) > 1:
            out.append(
                fail(
                    "systemname",
                    f"nodes {', '.join(same)} have the same systemname {name}: their call "
                    "ids can be the same",
                    "give each node its own systemname in [options] of asterisk.conf",
                )
            )
    return out


def _as_settings(settings: Settings, node: AmiNode) -> Settings:
    """``settings`` with the node's AMI in ``[ami]`` (what the checks read)."""
    return replace(
        settings,
        ami_host=node.host,
        ami_port=node.port,
        ami_username=node.username,
        ami_secret=node.secret,
        ami_action_timeout=node.action_timeout,
        ami_nodes={},
    )


async def node_findings(
    settings: Settings,
    needs: Sequence[checks.DialplanNeed],
    queues: Mapping[str, Collection[str]],
    node: str = "",
) -> list[Finding]:
    """Every AMI-side finding of one node (named ``node`` among several); a failed
    login is the only one when it fails."""
    ami = AmiClient(
        settings.ami_host,
        settings.ami_port,
        settings.ami_username,
        settings.ami_secret,
        action_timeout=settings.ami_action_timeout,
        connect_timeout=5.0,
    )
    privileges: list[str] = []

    def seen(event: AnyEvent) -> None:
        privileges.append(event.get("Privilege"))

    ami.subscribe("*", seen)
    try:
        await ami.start()
    except AmiError as e:
        return [_login_failure(settings, str(e))]
    out: list[Finding] = []
    try:
        await _checks(ami, settings, (needs, queues, node), privileges, out)
    except AmiError as e:  # Asterisk stopped answering half-way: say so after the rest
        out.append(
            fail(
                "ami",
                f"Asterisk stopped answering during the checks: {e}",
                "look at Asterisk's log (overloaded? restarting?), then run the doctor again",
            )
        )
    finally:
        await ami.close()
    return out


def _login_failure(settings: Settings, error: str) -> Finding:
    where = f"{settings.ami_host}:{settings.ami_port}"
    if "AMI login to" in error:  # Asterisk answered and refused the user or secret
        fix = (
            f"set [ami] username and secret to a user of Asterisk's manager.conf"
            f" (now {settings.ami_username!r}), and let it connect from this machine (permit =)"
        )
    else:
        fix = (
            f"start Asterisk, or fix [ami] host/port (now {where}); in manager.conf:"
            " enabled = yes, bindaddr and port, and a firewall open from this machine"
        )
    return fail("ami.login", f"no AMI login at {where}: {error}", fix)


async def _checks(
    ami: AmiClient,
    settings: Settings,
    wanted: tuple[Sequence[checks.DialplanNeed], Mapping[str, Collection[str]], str],
    privileges: list[str],
    out: list[Finding],
) -> None:
    """Appends to ``out`` as it goes, so what was found survives an AMI failure."""
    needs, queues, node = wanted
    user = settings.ami_username
    out.append(ok("ami.login", f"logged in to {ami.address} as {user}"))
    listed = await ami.action("ListCommands", as_list=False)
    allowed = checks.parse_list_commands(listed if isinstance(listed, dict) else {})
    out += checks.write_findings(allowed, user)
    read = await _read_perm(ami, user) if "Command" in allowed else None
    if "ShowDialPlan" in allowed:
        found = {n.context: await _extensions(ami, n.context) for n in needs}
        out += checks.dialplan_findings(needs, found)
    else:
        out.append(_cannot("dialplan", "ShowDialPlan", "reporting", user))
    out.append(
        await _agi_global(ami, settings, node)
        if "Getvar" in allowed
        else _cannot("agi.global", "Getvar", "reporting", user)
    )
    if node and "Getvar" in allowed:
        out.append(checks.systemname_finding(await _getvar(ami, "SYSTEMNAME")))
    out += checks.queue_findings(queues, await _queues(ami))
    out.append(
        await _clock(ami)
        if "Getvar" in allowed
        else _cannot("clock.asterisk", "Getvar", "reporting", user)
    )
    if "Originate" in allowed:
        out.append(await fastagi_finding(ami, settings))
    seen = checks.privilege_classes(p for p in privileges if p)
    out += checks.read_findings(read, seen, user)


def _cannot(check: str, action: str, klass: str, user: str) -> Finding:
    return fail(
        check,
        f"not checked: user {user} may not send {action}",
        f"add {klass} to write = of [{user}] in manager.conf (the doctor needs it),"
        " then `manager reload`",
    )


async def _read_perm(ami: AmiClient, user: str) -> frozenset[str] | None:
    try:
        reply = await ami.action("Command", Command=f"manager show user {user}", as_list=False)
    except AmiError:
        return None
    output = reply.get("Output", "") if isinstance(reply, dict) else ""
    parsed = checks.parse_manager_user(output)
    return parsed[0] if parsed else None


async def _extensions(ami: AmiClient, context: str) -> set[str] | None:
    """The extensions of ``context``, None when Asterisk has no such context. A
    missing context answers ``Response: Error`` alone, hence the first plain call."""
    try:
        await ami.action("ShowDialPlan", Context=context, as_list=False)
    except AmiError:
        return None
    rows = await ami.action("ShowDialPlan", Context=context, as_list=True)
    items = rows if isinstance(rows, list) else []
    return {r.get("Extension", "") for r in items if r.get("Event") == "ListDialplan"}


async def _getvar(ami: AmiClient, variable: str) -> str:
    reply = await ami.action("Getvar", Variable=variable, as_list=False)
    return reply.get("Value", "") if isinstance(reply, dict) else ""


async def _agi_global(ami: AmiClient, settings: Settings, node: str = "") -> Finding:
    value = (await _getvar(ami, "IVR_AGI")).strip()
    fix_port = f"agi://<this server's address>:{settings.agi_port}" + (f"/{node}" if node else "")
    if not value:
        return fail(
            "agi.global",
            "Asterisk's global IVR_AGI is not set: hotline calls cannot reach the application",
            f"in extensions.conf [globals]: IVR_AGI = {fix_port}, then `dialplan reload`",
        )
    url = urlsplit(value)
    srv = url.scheme == "hagi" and url.port is None  # FastAGI fail-over: the ports are in DNS
    if not srv and (url.scheme not in ("agi", "hagi") or (url.port or 4573) != settings.agi_port):
        return fail(
            "agi.global",
            f"Asterisk's IVR_AGI = {value}, but the server listens on port {settings.agi_port}",
            f"set IVR_AGI = {fix_port} in [globals], or [agi] port to match",
        )
    if node and url.path.strip("/") != node:
        fix = f"hagi://{url.hostname}/{node}" if srv else fix_port
        return fail(
            "agi.global",
            f"Asterisk's IVR_AGI = {value} does not end in this node's name ({node}): the "
            "server cannot tell this node's calls from the other nodes'",
            f"set IVR_AGI = {fix} in this node's [globals], then `dialplan reload`",
        )
    if srv:
        return ok(
            "agi.global",
            f"Asterisk's IVR_AGI = {value}: the instances of the SRV records"
            f" _agi._tcp.{url.hostname} (fastagi: one of them answered)",
        )
    return ok("agi.global", f"Asterisk's IVR_AGI = {value}")


async def _queues(ami: AmiClient) -> set[str]:
    rows = await ami.action("QueueStatus", as_list=True)
    items = rows if isinstance(rows, list) else []
    return {r.get("Queue", "") for r in items if r.get("Event") == "QueueParams"}


async def _clock(ami: AmiClient) -> Finding:
    before = time.time()
    try:
        value = await _getvar(ami, "STRFTIME(,,%s.%3q)")
        remote = float(value)
    except (AmiError, ValueError) as e:
        return checks.skew_finding("asterisk", None, str(e) or "no time in the reply")
    after = time.time()
    return checks.skew_finding("asterisk", remote - (before + after) / 2)
