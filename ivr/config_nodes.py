"""The Asterisk nodes the server serves: one, or several behind a SIP proxy.

Without ``[ami.nodes]`` the ``[ami]`` settings are the one node (named ``""``): the
server works as it always has, and its queues keep their plain names. With it, each
``[ami.nodes.<name>]`` table is one node::

    [ami]
    username = "ivr-server"          # the defaults of every node
    secret = "..."

    [ami.nodes.a]
    host = "10.0.0.11"
    [ami.nodes.b]
    host = "10.0.0.12"
    port = 5038                      # host, port, username, secret, action_timeout

A key a node leaves out is the ``[ami]`` one. Every problem names the settings
file, the line of the key and the fix (``ivr check`` prints them; the server does not
start with them). How a call's node is known (the path of its AGI URL) and how a
queue on a node is named (``complaint@a``) is in :mod:`ivr.queues.nodes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.config import ConfigError, Settings, line_of
from ivr.problems import Problem

__all__ = ["NODE_NAME", "AmiNode", "ami_nodes", "node_problems"]

#: A node's name: it ends queue names (``complaint@a``) and starts AGI paths (``a/hotline``).
NODE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

_KEYS = ("host", "port", "username", "secret", "action_timeout")


@dataclass(frozen=True)
class AmiNode:
    """One Asterisk node: its name ("" for the one node of ``[ami]``) and its AMI."""

    name: str
    host: str
    port: int
    username: str
    secret: str = field(repr=False)
    action_timeout: float = 10.0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def ami_nodes(settings: Settings) -> list[AmiNode]:
    """The nodes of ``settings``, in the order written; raises :class:`ConfigError`
    with every problem of ``[ami.nodes]``."""
    nodes, problems = _parse(settings)
    if problems:
        raise ConfigError(problems)
    return nodes


def node_problems(settings: Settings) -> list[Problem]:
    """Every problem of ``[ami.nodes]`` (none: the nodes can be used)."""
    return _parse(settings)[1]


def _default(settings: Settings) -> AmiNode:
    s = settings
    return AmiNode("", s.ami_host, s.ami_port, s.ami_username, s.ami_secret, s.ami_action_timeout)


def _parse(settings: Settings) -> tuple[list[AmiNode], list[Problem]]:
    if not settings.ami_nodes:
        return [_default(settings)], []
    text = _text(settings.source)
    problems: list[Problem] = []
    nodes: list[AmiNode] = []
    for name, spec in settings.ami_nodes.items():
        node = _node(settings, str(name), spec, text, problems)
        if node is not None:
            nodes.append(node)
    seen: dict[str, str] = {}
    for node in nodes:
        other = seen.setdefault(node.address, node.name)
        if other != node.name:
            problems.append(
                Problem(
                    settings.source,
                    _line(text, node.name, None),
                    f"[ami.nodes.{node.name}] has the address of [ami.nodes.{other}] "
                    f"({node.address})",
                    "give each node its own host or port",
                )
            )
    return nodes, problems


def _node(
    settings: Settings, name: str, spec: Mapping[str, Any], text: str, problems: list[Problem]
) -> AmiNode | None:
    """One node from its table, or None with its problems added."""
    where = f"[ami.nodes.{name}]"
    before = len(problems)
    if not NODE_NAME.match(name):
        problems.append(
            Problem(
                settings.source,
                _line(text, name, None),
                f"{where}: the node name {name!r} is not valid",
                "use lower-case letters, digits, - and _ (at most 32), e.g. [ami.nodes.a]",
            )
        )
    if set(spec) == {"number"}:  # a bare value, not a table (ivr.config reads it so)
        problems.append(
            Problem(
                settings.source,
                _line(text, name, None),
                f"{where} must be a table",
                f"write [ami.nodes.{name}] with host = ..., port = ... under it",
            )
        )
        return None
    for key in sorted(set(spec) - set(_KEYS)):
        problems.append(
            Problem(
                settings.source,
                _line(text, name, key),
                f"{where}: unknown key {key!r}",
                f"use only {', '.join(_KEYS)} (the others come from [ami])",
            )
        )
    base = _default(settings)
    port = _number(spec, "port", base.port, int, (settings.source, text, name), problems)
    timeout = _number(
        spec, "action_timeout", base.action_timeout, float, (settings.source, text, name), problems
    )
    host = str(spec.get("host", base.host)).strip()
    if not host:
        problems.append(
            Problem(
                settings.source,
                _line(text, name, "host"),
                f"{where}: host is empty",
                "write the node's address",
            )
        )
    if len(problems) > before:
        return None
    username = str(spec.get("username", base.username))
    secret = str(spec.get("secret", base.secret))
    return AmiNode(name, host, int(port), username, secret, float(timeout))


def _number(
    spec: Mapping[str, Any],
    key: str,
    default: float,
    kind: type[int] | type[float],
    at: tuple[str, str, str],
    problems: list[Problem],
) -> float:
    """``spec[key]`` as a positive ``kind`` (``default`` when absent)."""
    source, text, name = at
    value = spec.get(key, default)
    try:
        number = kind(value)
        if isinstance(value, bool) or number <= 0 or (key == "port" and number > 65535):
            raise ValueError(value)
    except (TypeError, ValueError, OverflowError):
        fix = "write a port number (1 to 65535)" if key == "port" else "write seconds, above 0"
        problems.append(
            Problem(
                source,
                _line(text, name, key),
                f"[ami.nodes.{name}]: {key} = {value!r} is not valid",
                fix,
            )
        )
        return default
    return number


def _line(text: str, name: str, key: str | None) -> int:
    """The line of ``key`` in ``[ami.nodes.<name>]`` (its header for None; 0 if not
    found, e.g. an inline table)."""
    table = f"ami.nodes.{name}"
    return line_of(text, key, table) or (line_of(text, None, table) if key else 0)


def _text(source: str) -> str:
    try:
        return Path(source).read_text(encoding="utf-8") if source else ""
    except (OSError, UnicodeDecodeError):
        return ""
