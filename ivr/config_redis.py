"""Where the server finds Redis: one server (``[redis] url``), or a primary and its
replicas watched by Redis Sentinel (``[redis] sentinels``), checked with a clear
problem for each mistake.

With sentinels, the server asks them for the primary named ``service`` (the name in
each sentinel's ``sentinel monitor <name> <host> <port> <quorum>``) and follows it
when they promote a replica; ``url`` then gives only the database number (its host
and port are not used). ``password`` is the Redis servers' own (``requirepass``,
and ``masterauth`` on the replicas); ``sentinel_password`` the sentinels', when
they require one. ``IVR_REDIS_SENTINELS`` may list them separated by commas.

:func:`redis_target` turns the settings into a :class:`RedisTarget` (or raises
:class:`~ivr.config.ConfigError` naming the file, the line and the fix);
:func:`redis_problems` lists the same problems for ``ivr check``. Pure but for
reading the settings file again for the line numbers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from ivr.config import ConfigError, Settings, line_of
from ivr.problems import Problem

__all__ = ["RedisTarget", "parse_sentinel", "redis_problems", "redis_target"]

_SERVICE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True)
class RedisTarget:
    """Where the Redis client connects (:func:`ivr.store.client.redis_client`)."""

    url: str = "redis://127.0.0.1:6379/0"  # one server; with sentinels, its database only
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str = "ivr"
    password: str = field(default="", repr=False)
    sentinel_password: str = field(default="", repr=False)

    @property
    def db(self) -> int:
        """The database number of ``url`` (``/0`` when it names none)."""
        path = urlparse(self.url).path.strip("/")
        return int(path) if path.isdigit() else 0

    def describe(self) -> str:
        """Where, for logs and ``ivr doctor`` (never a password)."""
        if self.sentinels:
            at = ", ".join(_address(h, p) for h, p in self.sentinels)
            return f"primary {self.service!r} of the sentinels {at} (database {self.db})"
        u = urlparse(self.url)
        netloc = (u.hostname or "") + (f":{u.port}" if u.port else "")
        return u._replace(netloc=netloc).geturl()


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_sentinel(text: str) -> tuple[str, int]:
    """``"host:port"`` (an IPv6 host in brackets: ``"[::1]:26379"``) as a pair;
    ValueError saying what is wrong."""
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError("not host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if not re.match(r"^[0-9A-Fa-f:.]+$", host):
            raise ValueError("not an IPv6 address in brackets")
    elif not _HOST.match(host):
        raise ValueError("not a host name or address (an IPv6 address goes in brackets)")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("the port is not a number from 1 to 65535")
    return host, int(port)


class _Where:
    """Problems at the key they are about: ``$IVR_REDIS_<KEY>`` when the environment
    set it, else the settings file and the key's line in ``[redis]``."""

    def __init__(self, settings: Settings) -> None:
        self.source = settings.source
        try:
            self.text = Path(settings.source).read_text(encoding="utf-8") if settings.source else ""
        except (OSError, UnicodeDecodeError):
            self.text = ""

    def problem(self, key: str, message: str, fix: str) -> Problem:
        env = f"IVR_REDIS_{key.upper()}"
        if env in os.environ:
            return Problem(f"${env}", 0, message, fix)
        line = line_of(self.text, key, "redis") or line_of(self.text, f"redis_{key}", None)
        return Problem(self.source or "settings", line, message, fix)


def redis_problems(settings: Settings) -> list[Problem]:
    """Every mistake in the Redis settings, each naming where and the fix."""
    where = _Where(settings)
    out: list[Problem] = []
    seen: set[tuple[str, int]] = set()
    for text in settings.redis_sentinels:
        try:
            address = parse_sentinel(text)
        except ValueError as e:
            fix = 'write each as "host:port", e.g. sentinels = ["10.0.0.1:26379", "10.0.0.2:26379"]'
            out.append(where.problem("sentinels", f"[redis] sentinels: {text!r} is {e}", fix))
            continue
        if address in seen:
            fix = "list each sentinel once"
            out.append(where.problem("sentinels", f"[redis] sentinels: {text!r} twice", fix))
        seen.add(address)
    u = urlparse(settings.redis_url)
    if u.scheme not in _SCHEMES:
        fix = "write redis://host:port/0 (or rediss:// for TLS, unix:///path?db=0)"
        out.append(where.problem("url", f"[redis] url {u.scheme or settings.redis_url!r}: "
                                 "not a Redis address", fix))  # fmt: skip
    if settings.redis_sentinels:
        out += _sentinel_mode_problems(settings, where)
    elif settings.redis_sentinel_password:
        fix = "remove it, or list the sentinels in [redis] sentinels"
        out.append(where.problem("sentinel_password", "sentinel_password without sentinels", fix))
    if settings.redis_password and u.password:
        fix = "keep one: remove the password from url, or remove [redis] password"
        out.append(where.problem("password", "a password both in url and in password", fix))
    return out


def _sentinel_mode_problems(settings: Settings, where: _Where) -> list[Problem]:
    out: list[Problem] = []
    if not _SERVICE.match(settings.redis_service):
        fix = 'write the name of "sentinel monitor <name> ..." in sentinel.conf, e.g. "ivr"'
        why = f"[redis] service = {settings.redis_service!r} is no sentinel's primary name"
        out.append(where.problem("service", why, fix))
    u = urlparse(settings.redis_url)
    if u.scheme != "redis":
        fix = 'write url = "redis://127.0.0.1:6379/0" (with sentinels only its /database is used)'
        out.append(where.problem("url", f"[redis] url: {u.scheme}:// with sentinels", fix))
    elif u.path.strip("/") and not u.path.strip("/").isdigit():
        fix = "end url with the database number, e.g. /0"
        out.append(where.problem("url", f"[redis] url: database {u.path!r}", fix))
    return out


def redis_target(settings: Settings) -> RedisTarget:
    """Where the server's Redis is; raises :class:`ConfigError` with every problem."""
    problems = redis_problems(settings)
    if problems:
        raise ConfigError(problems)
    return RedisTarget(
        url=settings.redis_url,
        sentinels=tuple(parse_sentinel(s) for s in settings.redis_sentinels),
        service=settings.redis_service,
        password=settings.redis_password,
        sentinel_password=settings.redis_sentinel_password,
    )
