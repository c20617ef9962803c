"""API tokens in Redis. A token is shown once when created; only its sha256 is kept.

A token is ``ivr_`` followed by 32 random bytes (URL-safe base64). Its short id,
the first 8 hex digits of the hash, names it in listings, logs and ``revoke``.
Each token has a role (``viewer``, ``supervisor``, ``admin``), may be limited to
some hotlines and queues (none listed: every one), and expires at ``expires_at``
(tokens created before lifetimes existed have none and do not expire).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from redis.asyncio import Redis

from ivr.log import fields, store_log
from ivr.store import keys

Role = Literal["viewer", "supervisor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
TOKEN_PREFIX = "ivr_"
DEFAULT_LIFETIME_S = 90 * 24 * 3600.0
_MAX_TOKEN_LEN = 200


@dataclass(frozen=True)
class TokenInfo:
    id: str
    role: Role
    name: str
    created_at: float
    expires_at: float | None = None  # None: never (a token from before lifetimes)
    hotlines: tuple[str, ...] = ()  # () and queues (): every hotline and queue
    queues: tuple[str, ...] = ()

    def expired(self, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at

    @property
    def limited(self) -> bool:
        return bool(self.hotlines or self.queues)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _names(text: str) -> tuple[str, ...]:
    return tuple(n for n in text.split(",") if n)


def _info(raw: dict[Any, Any]) -> TokenInfo | None:
    d = {_s(k): _s(v) for k, v in raw.items()}
    role = d.get("role", "")
    if role not in ROLES or "id" not in d:
        return None
    expires = d.get("expires_at", "")
    return TokenInfo(
        id=d["id"],
        role=role,
        name=d.get("name", ""),
        created_at=float(d.get("created_at", "0")),
        expires_at=float(expires) if expires else None,
        hotlines=_names(d.get("hotlines", "")),
        queues=_names(d.get("queues", "")),
    )


def _fields(info: TokenInfo) -> Mapping[Any, Any]:  # Any: what redis-py takes
    return {
        "id": info.id,
        "role": info.role,
        "name": info.name,
        "created_at": repr(info.created_at),
        "expires_at": "" if info.expires_at is None else repr(info.expires_at),
        "hotlines": ",".join(info.hotlines),
        "queues": ",".join(info.queues),
    }


def _checked_names(what: str, names: Sequence[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    for n in out:
        if "," in n:
            raise ValueError(f"a {what} name cannot hold a comma: {n!r}")
    return out


class TokenStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def create(
        self,
        role: Role,
        name: str = "",
        *,
        lifetime_s: float = DEFAULT_LIFETIME_S,
        hotlines: Sequence[str] = (),
        queues: Sequence[str] = (),
    ) -> tuple[str, TokenInfo]:
        """A new token for ``role``: returns the token itself (to show once) and its info."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        if lifetime_s <= 0:
            raise ValueError(f"a token's lifetime must be positive, not {lifetime_s}")
        scope = {"hotlines": _checked_names("hotline", hotlines)}
        scope["queues"] = _checked_names("queue", queues)
        while True:
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            digest = token_hash(token)
            now = time.time()
            info = TokenInfo(digest[:8], role, name, now, now + lifetime_s, **scope)
            # the short id must be unique too: claim it first (a clash is 1 in 4 billion)
            if await self.redis.hsetnx(keys.TOKEN_IDS, info.id, digest):
                break
        await self.redis.hset(keys.TOKEN.format(sha256=digest), mapping=_fields(info))
        store_log.info(
            "API token created",
            extra=fields(token_id=info.id, role=role, name=name, expires_at=info.expires_at),
        )
        return token, info

    async def lookup(self, token: str) -> TokenInfo | None:
        """The token's info, expired or not; None when it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN_LEN:
            return None
        raw = await self.redis.hgetall(keys.TOKEN.format(sha256=token_hash(token)))
        return _info(raw) if raw else None

    async def verify(self, token: str) -> TokenInfo | None:
        """The token's info, or None when it is unknown, revoked or expired."""
        info = await self.lookup(token)
        return None if info is None or info.expired() else info

    async def existing(self, digests: Collection[str]) -> set[str]:
        """Which of these token hashes are still stored (not revoked), in one round trip."""
        wanted = sorted(set(digests))
        if not wanted:
            return set()
        async with self.redis.pipeline(transaction=False) as pipe:
            for d in wanted:
                pipe.exists(keys.TOKEN.format(sha256=d))
            found = await pipe.execute()
        return {d for d, n in zip(wanted, found, strict=True) if n}

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
