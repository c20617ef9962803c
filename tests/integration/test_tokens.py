"""API tokens in a real Redis: shown once, kept only as a hash, revocable, with a
role, a scope and an expiry."""

from __future__ import annotations

import time
from typing import Any

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from ivr.cli import main
from ivr.config import load_settings
from ivr.store.tokens import DEFAULT_LIFETIME_S, TOKEN_PREFIX, TokenStore, token_hash
from tests.until import until

pytestmark = pytest.mark.redis


async def all_redis_bytes(r: Redis) -> bytes:
    """Every key name and every value (strings, hashes, sets, lists, zsets) in the db."""
    out = []
    async for key in r.scan_iter():
        out.append(key)
        raw_kind = await r.type(key)
        kind = raw_kind.decode() if isinstance(raw_kind, bytes) else raw_kind
        if kind == "string":
            out.append(await r.get(key))
        elif kind == "hash":
            for f, v in (await r.hgetall(key)).items():
                out += [f, v]
        elif kind == "set":
            out += list(await r.smembers(key))
        elif kind == "list":
            out += await r.lrange(key, 0, -1)
        elif kind == "zset":
            out += await r.zrange(key, 0, -1)
    return b"\n".join(out)


async def test_token_is_never_stored_in_clear(redis_clean: Redis) -> None:
    store = TokenStore(redis_clean)
    token, info = await store.create("supervisor", "wallboard")
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    assert info.id == token_hash(token)[:8]
    dump = await all_redis_bytes(redis_clean)
    assert dump  # something was written
    secret = token.removeprefix(TOKEN_PREFIX)
    assert secret.encode() not in dump
    assert secret[:16].encode() not in dump


async def test_verify(redis_clean: Redis) -> None:
    store = TokenStore(redis_clean)
    token, info = await store.create("admin", "telephony admin")
    got = await store.verify(token)
    assert got == info
    assert got.role == "admin" and got.name == "telephony admin"
    assert await store.verify(token + "x") is None
    assert await store.verify("") is None
    assert await store.verify(token.removeprefix(TOKEN_PREFIX)) is None
    assert await store.verify(TOKEN_PREFIX + "x" * 1000) is None


async def test_tokens_differ(redis_clean: Redis) -> None:
    store = TokenStore(redis_clean)
    a, _ = await store.create("supervisor", "a")
    b, _ = await store.create("supervisor", "b")
    assert a != b


async def test_list_and_revoke(redis_clean: Redis) -> None:
    store = TokenStore(redis_clean)
    t1, i1 = await store.create("supervisor", "first")
    t2, i2 = await store.create("admin", "second")
    assert await store.list() == [i1, i2]
    assert await store.revoke(i1.id) is True
    assert await store.verify(t1) is None
    assert await store.verify(t2) == i2
    assert await store.list() == [i2]
    assert await store.revoke(i1.id) is False
    assert await store.revoke("00000000") is False


async def test_unknown_role_is_refused(redis_clean: Redis) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        await TokenStore(redis_clean).create("boss", "x")  # type: ignore[arg-type]


async def test_scope_lifetime_and_viewer_role_are_kept(redis_clean: Redis) -> None:
    store = TokenStore(redis_clean)
    before = time.time()
    token, info = await store.create(
        "viewer", "wall", lifetime_s=3600, hotlines=["1111", " 1555 ", "1111"], queues=["social"]
    )
    assert info.role == "viewer" and info.hotlines == ("1111", "1555")
    assert info.queues == ("social",) and info.limited
    assert info.expires_at is not None and before + 3600 <= info.expires_at <= time.time() + 3600
    assert await store.verify(token) == info
    assert await store.list() == [info]
    _, plain = await store.create("supervisor")
    assert plain.expires_at == pytest.approx(plain.created_at + DEFAULT_LIFETIME_S)
    assert not plain.limited


async def test_expired_token_is_found_by_lookup_but_not_verified(redis_clean: Redis) -> None:
    store = TokenStore(redis_clean)
    token, info = await store.create("admin", "short", lifetime_s=0.05)
    await until(lambda: info.expired(), what="the token's expiry")
    assert await store.verify(token) is None
    got = await store.lookup(token)
    assert got == info and got.expired()


async def test_existing_tells_revoked_tokens_apart(redis_clean: Redis) -> None:
    store = TokenStore(redis_clean)
    t1, i1 = await store.create("supervisor")
    t2, _ = await store.create("supervisor")
    digests = {token_hash(t1), token_hash(t2), "f" * 64}
    assert await store.existing(digests) == {token_hash(t1), token_hash(t2)}
    assert await store.revoke(i1.id)
    assert await store.existing(digests) == {token_hash(t2)}
    assert await store.existing([]) == set()


@pytest.mark.parametrize("bad", [{"lifetime_s": 0}, {"hotlines": ["1111,1555"]}])
async def test_bad_lifetime_or_name_is_refused(redis_clean: Redis, bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        await TokenStore(redis_clean).create("supervisor", **bad)


def test_tokens_command_creates_lists_and_revokes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``ivr tokens`` end to end, on the test database (15) of the configured Redis."""
    url = load_settings().redis_url.rsplit("/", 1)[0] + "/15"
    monkeypatch.setenv("IVR_REDIS_URL", url)
    sync = SyncRedis.from_url(url)
    sync.flushdb()
    try:
        argv = ["tokens", "create", "--role", "viewer", "--name", "wall 3F"]
        assert main([*argv, "--hotlines", "1111,1555", "--queues", "social", "--ttl", "30d"]) == 0
        out, err = capsys.readouterr()
        assert out.strip().startswith(TOKEN_PREFIX)
        assert "scope hotlines=1111,1555 queues=social" in err
        assert "warning: no queue `social` in the hotline files (known: " in err
        # a hotline the files do not have is refused: such a token would reach nothing
        assert main([*argv, "--hotlines", "1112"]) == 2
        err = capsys.readouterr().err
        assert "no hotline `1112` in the hotline files (known: 1111, 1555)" in err
        assert main(["tokens", "list"]) == 0
        (line,) = capsys.readouterr().out.splitlines()
        token_id = line.split()[0]
        expires = time.strftime("%Y-%m-%d", time.localtime(time.time() + 30 * 86400))
        assert "viewer" in line and expires in line and "wall 3F" in line
        assert main(["tokens", "revoke", token_id]) == 0
        assert main(["tokens", "revoke", token_id]) == 1
    finally:
        sync.flushdb()
        sync.close()
