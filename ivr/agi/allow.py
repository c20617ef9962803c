"""Which peers may open a FastAGI connection: the allowlist of networks (loopback when
none is configured), the check of a peer address against it, and the warnings about
rejected peers, rate-limited so that a flood of connections cannot flood the log.

Used by :class:`ivr.agi.server.AgiServer` before it reads anything from a connection.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Sequence
from typing import Any

from ivr.log import agi_log, fields

__all__ = ["IpNetwork", "RejectionLog", "parse_allow", "peer_allowed", "peer_str"]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LOOPBACK: tuple[IpNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)
_REJECT_WARN_PER_WINDOW = 5
_REJECT_WINDOW = 60.0


def parse_allow(allow: Sequence[str]) -> tuple[IpNetwork, ...]:
    """The networks of ``allow`` (addresses or CIDR); loopback only when empty."""
    if not allow:
        return _LOOPBACK
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in allow)


def peer_allowed(peer: Any, allow: Sequence[IpNetwork]) -> bool:
    """``peer`` (a socket's ``peername``) is in one of the ``allow`` networks; an
    IPv4-mapped IPv6 address is checked as IPv4, a scope id is ignored."""
    if not isinstance(peer, tuple) or not peer:
        return False
    try:
        addr = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == net.version and addr in net for net in allow)


def peer_str(peer: Any) -> str:
    """``host:port`` of a socket's ``peername`` (anything else as text) for the logs."""
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


class RejectionLog:
    """Logs rejected peers: the first few of each minute as warnings, the rest at debug
    level, with one warning counting those not logged one by one."""

    def __init__(self) -> None:
        self._window_start = 0.0
        self._in_window = 0

    def log(self, peer: Any, rejected_total: int) -> None:
        now = time.monotonic()
        if now - self._window_start >= _REJECT_WINDOW:
            suppressed = self._in_window - _REJECT_WARN_PER_WINDOW
            if suppressed > 0:
                agi_log.warning(
                    "more FastAGI connections rejected (not logged one by one)",
                    extra=fields(suppressed=suppressed, window_s=_REJECT_WINDOW),
                )
            self._window_start = now
            self._in_window = 0
        self._in_window += 1
        level = logging.WARNING if self._in_window <= _REJECT_WARN_PER_WINDOW else logging.DEBUG
        agi_log.log(
            level,
            "FastAGI connection rejected: address not allowed",
            extra=fields(peer=peer_str(peer), rejected_total=rejected_total),
        )
