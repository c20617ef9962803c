"""``ivr tokens create | list | revoke``: API tokens for viewers, supervisors and admins.

A new token is printed once; only its hash is kept, so a lost token is revoked
and replaced, never recovered. A token lasts ``[api] token_lifetime_s`` (90 days)
unless ``--ttl`` says otherwise, and may be limited to some hotlines and queues
(``--hotlines 1111,1555 --queues complaint``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from ivr.config import Settings, load_settings
from ivr.config_redis import redis_target
from ivr.hotlines import HotlineRegistry
from ivr.store.client import redis_client
from ivr.store.tokens import ROLES, TokenInfo, TokenStore

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def duration(text: str) -> float:
    """Seconds in ``30d``, ``12h``, ``90m``, ``45s`` or a plain number of seconds."""
    m = _DURATION.match(text.lower())
    if m is None or float(m[1]) <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: write e.g. 30d, 12h, 90m or 3600 (seconds)"
        )
    return float(m[1]) * _UNITS[m[2] or "s"]


def names(text: str) -> list[str]:
    """``1111,1555`` -> ["1111", "1555"]."""
    return [n.strip() for n in text.split(",") if n.strip()]


def unknown_names(asked: list[str] | None, known: set[str], kind: str) -> list[str]:
    """The names in ``asked`` the hotline files do not know, one line each with the
    names that exist."""
    listed = ", ".join(sorted(known)) or "none"
    return [
        f"no {kind} `{n}` in the hotline files (known: {listed})"
        for n in asked or []
        if n not in known
    ]


def _scope_problems(args: argparse.Namespace, s: Settings) -> list[str]:
    """Unknown hotlines (refused: such a scope reaches nothing); unknown queues are
    only warned of (a queue may be served by Asterisk without a hotline file)."""
    if not args.hotlines and not args.queues:
        return []
    registry = HotlineRegistry(s.hotlines_dir, s.prompts_dir)
    registry.reload()
    for line in unknown_names(args.queues, registry.queues(), "queue"):
        print(f"tokens: warning: {line}", file=sys.stderr)
    return unknown_names(args.hotlines, set(registry.hotlines), "hotline")


def _when(at: float | None) -> str:
    return "never" if at is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def _scope(i: TokenInfo) -> str:
    parts = [f"hotlines={','.join(i.hotlines)}"] if i.hotlines else []
    parts += [f"queues={','.join(i.queues)}"] if i.queues else []
    return " ".join(parts) or "all"


def token_line(i: TokenInfo, now: float) -> str:
    """One token in ``ivr tokens list``: id, role, created, expires, scope, name."""
    expires = _when(i.expires_at) + (" (expired)" if i.expired(now) else "")
    return f"{i.id}  {i.role:<10}  {_when(i.created_at)}  {expires:<26}  {_scope(i)}  {i.name}"


Action = Callable[[TokenStore, Settings], Awaitable[int]]


def _run(args: argparse.Namespace, action: Action) -> int:
    async def go() -> int:
        s = load_settings(args.config)
        target = redis_target(s)
        redis = redis_client(target)
        try:
            return await action(TokenStore(redis), s)
        except (RedisError, OSError) as e:
            print(f"tokens: Redis ({target.describe()}) is unreachable ({e})", file=sys.stderr)
            return 1
        finally:
            await redis.aclose()

    return asyncio.run(go())


def cmd_tokens_create(args: argparse.Namespace) -> int:
    async def action(store: TokenStore, s: Settings) -> int:
        problems = _scope_problems(args, s)
        for line in problems:
            print(f"tokens: {line}", file=sys.stderr)
        if problems:
            return 2
        lifetime = args.ttl if args.ttl is not None else s.api_token_lifetime_s
        token, info = await store.create(
            args.role, args.name, lifetime_s=lifetime, hotlines=args.hotlines, queues=args.queues
        )
        print(token)
        print(
            f"id {info.id}  role {info.role}  name {info.name or '-'}  "
            f"expires {_when(info.expires_at)}  scope {_scope(info)}",
            file=sys.stderr,
        )
        print("this token is shown once and cannot be recovered: keep it now", file=sys.stderr)
        return 0

    return _run(args, action)


def cmd_tokens_list(args: argparse.Namespace) -> int:
    async def action(store: TokenStore, s: Settings) -> int:
        del s
        infos = await store.list()
        if not infos:
            print("no API token: create one with `ivr tokens create --role supervisor`")
            return 0
        now = time.time()
        for i in infos:
            print(token_line(i, now))
        return 0

    return _run(args, action)


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    async def action(store: TokenStore, s: Settings) -> int:
        del s
        if await store.revoke(args.id):
            print(f"revoked token {args.id}")
            return 0
        print(f"no token with id {args.id} — see `ivr tokens list`", file=sys.stderr)
        return 1

    return _run(args, action)


def add_token_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ivr tokens ...``; ``sub`` is the top-level ``add_subparsers()`` result."""
    sp = sub.add_parser("tokens", help="API tokens for viewers, supervisors and admins")
    tsub = sp.add_subparsers(dest="action", required=True)
    c = tsub.add_parser("create", help="create a token and print it (once)")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--name", default="", help="who or what uses it, e.g. a person or a wallboard")
    c.add_argument(
        "--hotlines",
        type=names,
        default=[],
        help="limit it to these hotlines and the queues they use, e.g. 1111,1555",
    )
    c.add_argument("--queues", type=names, default=[], help="limit it to these queues (and more)")
    c.add_argument(
        "--ttl",
        type=duration,
        default=None,
        help="lifetime, e.g. 30d, 12h (default: [api] token_lifetime_s, 90 days)",
    )
    c.set_defaults(func=cmd_tokens_create)
    ls = tsub.add_parser("list", help="list tokens (id, role, created, expires, scope, name)")
    ls.set_defaults(func=cmd_tokens_list)
    r = tsub.add_parser("revoke", help="revoke a token by its id")
    r.add_argument("id", help="the 8-character id shown by `ivr tokens list`")
    r.set_defaults(func=cmd_tokens_revoke)
