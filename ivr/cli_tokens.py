"""``ivr tokens create | list | revoke``: API tokens for supervisors and admins.

A new token is printed once; only its hash is kept, so a lost token is revoked
and replaced, never recovered.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from ivr.config import load_settings
from ivr.store.client import redis_client
from ivr.store.tokens import ROLES, TokenStore


def _run(args: argparse.Namespace, action: Callable[[TokenStore], Awaitable[int]]) -> int:
    async def go() -> int:
        s = load_settings(args.config)
        redis = redis_client(s.redis_url)
        try:
            return await action(TokenStore(redis))
        except (RedisError, OSError) as e:
            print(f"tokens: Redis at {s.redis_url} is unreachable ({e})", file=sys.stderr)
            return 1
        finally:
            await redis.aclose()

    return asyncio.run(go())


def cmd_tokens_create(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        token, info = await store.create(args.role, args.name)
        print(token)
        print(f"id {info.id}  role {info.role}  name {info.name or '-'}", file=sys.stderr)
        print("this token is shown once and cannot be recovered: keep it now", file=sys.stderr)
        return 0

    return _run(args, action)


def cmd_tokens_list(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        infos = await store.list()
        if not infos:
            print("no API token: create one with `ivr tokens create --role supervisor`")
            return 0
        for i in infos:
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(i.created_at))
            print(f"{i.id}  {i.role:<10}  {created}  {i.name}")
        return 0

    return _run(args, action)


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        if await store.revoke(args.id):
            print(f"revoked token {args.id}")
            return 0
        print(f"no token with id {args.id} — see `ivr tokens list`", file=sys.stderr)
        return 1

    return _run(args, action)


def add_token_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ivr tokens ...``; ``sub`` is the top-level ``add_subparsers()`` result."""
    sp = sub.add_parser("tokens", help="API tokens for supervisors and admins")
    tsub = sp.add_subparsers(dest="action", required=True)
    c = tsub.add_parser("create", help="create a token and print it (once)")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--name", default="", help="who or what uses it, e.g. a person or a wallboard")
    c.set_defaults(func=cmd_tokens_create)
    ls = tsub.add_parser("list", help="list tokens (id, role, created, name)")
    ls.set_defaults(func=cmd_tokens_list)
    r = tsub.add_parser("revoke", help="revoke a token by its id")
    r.add_argument("id", help="the 8-character id shown by `ivr tokens list`")
    r.set_defaults(func=cmd_tokens_revoke)
