"""Unit tests need nothing but Python: no server, no socket.

Every test here runs with socket ``connect`` and ``bind`` refused, so a test that
reaches for Redis, Asterisk or a loopback server fails at once with a message saying
where it belongs (tests/integration, with a ``redis``, ``network`` or ``sandbox``
marker) instead of passing only on a machine where that server happens to run.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

import tests.unit.fuzzing  # noqa: F401  (hypothesis profiles: ci by default, deep on demand)


class SocketInUnitTest(RuntimeError):
    pass


def _refuse(*_args: object, **_kw: object) -> None:
    raise SocketInUnitTest(
        "a unit test opened a socket: move it to tests/integration and mark it "
        "(redis, network or sandbox)"
    )


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, _refuse)
    yield
