"""API tokens in Redis. A token is shown once when created; only its sha256 is kept.

A token is ``ivr_`` followed by 32 random bytes (URL-safe base64). Its short id,
the first 8 hex digits of the hash, names it in listings, logs and ``revoke``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal, get_args

from redis.asyncio import Redis

from ivr.log import fields, store_log
from ivr.store import keys

Role = Literal["supervisor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
TOKEN_PREFIX = "ivr_"
_MAX_TOKEN_LEN = 200


@dataclass(frozen=True)
class TokenInfo:
    id: str
    role: Role
    name: str
    created_at: float


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _info(raw: dict[Any, Any]) -> TokenInfo | None:
    d = {_s(k): _s(v) for k, v in raw.items()}
    role = d.get("role", "")
    if role not in ROLES or "id" not in d:
        return None
    return TokenInfo(
        id=d["id"],
        role=role,
        name=d.get("name", ""),
        created_at=float(d.get("created_at", "0")),
    )


class TokenStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def create(self, role: Role, name: str = "") -> tuple[str, TokenInfo]:
        """A new token for ``role``: returns the token itself (to show once) and its info."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        while True:
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            digest = token_hash(token)
            info = TokenInfo(id=digest[:8], role=role, name=name, created_at=time.time())
            # the short id must be unique too: claim it first (a clash is 1 in 4 billion)
            if await self.redis.hsetnx(keys.TOKEN_IDS, info.id, digest):
                break
        await self.redis.hset(
            keys.TOKEN.format(sha256=digest),
            mapping={
                "id": info.id,
                "role": info.role,
                "name": info.name,
                "created_at": repr(info.created_at),
            },
        )
        store_log.info("API token created", extra=fields(token_id=info.id, role=role, name=name))
        return token, info

    async def verify(self, token: str) -> TokenInfo | None:
        """The token's info, or None when it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN_LEN:
            return None
        raw = await self.redis.hgetall(keys.TOKEN.format(sha256=token_hash(token)))
        return _info(raw) if raw else None

    async def revoke(self, token_id: str) -> bool:
        """Forget the token with this short id; False if there is none."""
        digest = await self.redis.hget(keys.TOKEN_IDS, token_id)
        if digest is None:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.TOKEN.format(sha256=_s(digest)))
            pipe.hdel(keys.TOKEN_IDS, token_id)
            await pipe.execute()
        store_log.info("API token revoked", extra=fields(token_id=token_id))
        return True

    async def list(self) -> list[TokenInfo]:
        """Every token's info, oldest first."""
        digests = [_s(d) for d in (await self.redis.hgetall(keys.TOKEN_IDS)).values()]
        if not digests:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for d in digests:
                pipe.hgetall(keys.TOKEN.format(sha256=d))
            raws = await pipe.execute()
        infos = [i for i in (_info(r) for r in raws if r) if i is not None]
        return sorted(infos, key=lambda i: (i.created_at, i.id))
