"""API tokens in a real Redis: shown once, kept only as a hash, revocable."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ivr.store.tokens import TOKEN_PREFIX, TokenStore, token_hash

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
