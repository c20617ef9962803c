"""Token scopes, expiry, the stream's token re-check and the token command's parsing:
the parts of access that need no server."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Collection
from typing import cast

import pytest

from ivr.api.scope import EVERYTHING, Scope, event_visible, scope_of
from ivr.api.stream import StreamHub
from ivr.app import HotlineApp
from ivr.cli_tokens import duration, names, token_line
from ivr.config import load_settings
from ivr.store.events import EventStore
from ivr.store.tokens import TokenInfo

HOTLINES = {
    "1111": ["complaint", "operator"],
    "1555": ["health", "operator"],
    "1300": ["social"],
}


def token(hotlines: tuple[str, ...] = (), queues: tuple[str, ...] = ()) -> TokenInfo:
    return TokenInfo("abcd1234", "supervisor", "x", 0.0, 100.0, hotlines, queues)


def test_a_token_without_limits_reaches_everything() -> None:
    assert scope_of(token(), HOTLINES) is EVERYTHING
    assert EVERYTHING.queue("anything") and EVERYTHING.hotline("anything")


def test_hotlines_reach_their_queues_plus_listed_queues() -> None:
    s = scope_of(token(hotlines=("1111",), queues=("social",)), HOTLINES)
    assert s.queues == frozenset({"complaint", "operator", "social"})
    # 1300 uses only `social`, which the token reaches: acting on it touches nothing else
    assert s.hotlines == frozenset({"1111", "1300"})
    assert not s.queue("health") and not s.hotline("1555")


def test_queues_alone_reach_no_hotline_that_uses_other_queues() -> None:
    s = scope_of(token(queues=("operator",)), HOTLINES)
    assert s.queues == frozenset({"operator"})
    assert s.hotlines == frozenset()


def test_an_unknown_hotline_reaches_no_queue_but_itself() -> None:
    s = scope_of(token(hotlines=("9999",)), HOTLINES)
    assert s.queues == frozenset() and s.hotlines == frozenset({"9999"})


@pytest.mark.parametrize(
    ("queue", "data", "seen"),
    [
        ("complaint", {"number": "0811111111"}, True),
        ("health", {}, False),
        ("health", {"hotline": "1111"}, False),  # a queue event goes by its queue
        ("", {"hotline": "1111"}, True),
        ("", {"hotline": "1555"}, False),
        ("", {}, True),  # neither queue nor hotline: everyone's
    ],
)
def test_event_visible(queue: str, data: dict[str, str], seen: bool) -> None:
    scope = Scope(frozenset({"1111"}), frozenset({"complaint", "operator"}))
    assert event_visible(scope, queue, data) is seen
    assert event_visible(EVERYTHING, queue, data)


def test_expiry() -> None:
    t = token()
    assert not t.expired(99.9) and t.expired(100.0)
    assert not TokenInfo("a", "admin", "", 0.0).expired(1e12)  # an old token without one


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("45s", 45), ("3600", 3600)],
)
def test_duration(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0d", "-1d", "3w", "d", "1.5.2h"])
def test_bad_duration_names_the_fix(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"e\.g\. 30d"):
        duration(text)


def test_names_and_list_line() -> None:
    assert names(" 1111, 1555,,") == ["1111", "1555"]
    line = token_line(token(("1111",), ("social",)), now=200.0)
    assert "abcd1234" in line and "(expired)" in line
    assert "hotlines=1111 queues=social" in line
    assert "  all  " in token_line(TokenInfo("a", "viewer", "", 0.0), now=0.0)


def test_the_server_gives_the_api_each_hotlines_queues() -> None:
    app = HotlineApp(load_settings())
    app.registry.reload()
    assert app.hotline_queues() == {
        "1111": ["complaint", "operator"],
        "1555": ["complaint", "operator"],
    }


class FakeTokens:
    """Token hashes still stored, and what the hub asked."""

    def __init__(self, alive: set[str]) -> None:
        self.alive = alive
        self.asked: list[set[str]] = []

    async def existing(self, digests: Collection[str]) -> set[str]:
        self.asked.append(set(digests))
        return self.alive & set(digests)


async def test_recheck_ends_streams_of_expired_then_revoked_tokens() -> None:
    tokens = FakeTokens({"kept", "late"})
    hub = StreamHub(cast(EventStore, None), tokens=tokens)
    ended: list[str] = []
    for digest, expires in [("late", 100.0), ("gone", None), ("kept", 200.0), ("kept", None)]:
        hub.subscribe(functools.partial(ended.append, digest), digest=digest, expires_at=expires)
    await hub.recheck(now=150.0)
    assert sorted(ended) == ["gone", "late"]
    assert tokens.asked == [{"gone", "kept"}]  # one batch, each token once, expired left out
    assert {s.digest for s in hub.subscribers} == {"kept"} and len(hub.subscribers) == 2
    await hub.recheck(now=300.0)
    assert sorted(ended) == ["gone", "kept", "late"]  # the one with an expiry


async def test_recheck_asks_nothing_without_token_streams() -> None:
    tokens = FakeTokens(set())
    hub = StreamHub(cast(EventStore, None), tokens=tokens)
    hub.subscribe(lambda: None)  # no token (an internal subscriber)
    await hub.recheck()
    assert tokens.asked == [] and len(hub.subscribers) == 1


def test_scope_names_unknown_to_the_hotline_files_are_named_with_the_known_ones() -> None:
    from ivr.cli_tokens import unknown_names

    known = {"1111", "1555"}
    assert unknown_names(["1111"], known, "hotline") == []
    assert unknown_names(None, known, "hotline") == []
    assert unknown_names(["1112", "1555"], known, "hotline") == [
        "no hotline `1112` in the hotline files (known: 1111, 1555)"
    ]
    assert unknown_names(["x"], set(), "queue") == [
        "no queue `x` in the hotline files (known: none)"
    ]
