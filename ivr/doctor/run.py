"""Every check of ``ivr doctor`` in turn: the hotline files and their prompt audio
(this machine), Redis (and its clock), PostgreSQL when ``[history] dsn`` is set (and
its clock), then Asterisk over the AMI (:mod:`ivr.doctor.asterisk`)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping

import asyncpg
from redis.exceptions import RedisError

from ivr.config import ConfigError, Settings
from ivr.config_redis import redis_target
from ivr.doctor import checks
from ivr.doctor.asterisk import asterisk_findings
from ivr.doctor.findings import Finding, fail, ok
from ivr.menus.loader import load_all
from ivr.menus.model import Hotline
from ivr.problems import AdminError
from ivr.speech.catalogue import Catalogue, load_catalogue
from ivr.store.client import redis_client

__all__ = ["run_doctor"]


async def run_doctor(settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    hotlines, catalogue = _hotlines(settings, out)
    if catalogue is not None:
        out += _prompts(hotlines, catalogue)
    out += await _redis(settings)
    if settings.history_dsn:
        out += await _postgres(settings.history_dsn)
    queues: dict[str, set[str]] = defaultdict(set)
    for hotline in hotlines.values():
        for queue in hotline.queues:
            queues[queue].add(hotline.id)
    needs = checks.dialplan_needs(
        hotlines, probe_context=settings.probe_context, spy=bool(settings.api_supervisor_phones)
    )
    out += await asterisk_findings(settings, needs, queues)
    return out


def _hotlines(
    settings: Settings, out: list[Finding]
) -> tuple[dict[str, Hotline], Catalogue | None]:
    try:
        catalogue = load_catalogue(settings.prompts_dir)
        hotlines = load_all(settings.hotlines_dir, set(catalogue.ids))
    except AdminError as e:
        first = e.problems[0] if e.problems else None
        out.append(
            fail(
                "hotlines",
                f"{len(e.problems)} problem(s) in the hotline files or prompts"
                + (f", first: {first}" if first else ""),
                "run `ivr check` and fix what it lists",
            )
        )
        return {}, None
    out.append(ok("hotlines", f"{len(hotlines)} hotline file(s): {', '.join(sorted(hotlines))}"))
    return hotlines, catalogue


def _prompts(hotlines: Mapping[str, Hotline], catalogue: Catalogue) -> list[Finding]:
    needed: dict[tuple[str, str], set[str]] = {}
    missing: dict[tuple[str, str], list[str]] = {}
    for hotline in hotlines.values():
        ids = hotline.prompts()
        for lang in hotline.languages:
            needed[(hotline.id, lang)] = ids
            missing[(hotline.id, lang)] = [i for i in ids if catalogue.audio_path(i, lang) is None]
    return checks.prompt_findings(needed, missing)


async def _redis(settings: Settings) -> list[Finding]:
    try:
        target = redis_target(settings)
    except ConfigError as e:
        first = e.problems[0]
        return [fail("redis", f"the Redis settings are wrong: {first.message}", first.fix)]
    where = target.describe() if target.sentinels else _no_password(settings.redis_url)
    redis = redis_client(target)
    try:
        before = time.time()
        seconds, micros = await redis.time()
        after = time.time()
    except (RedisError, OSError) as e:
        fix = "start Redis, or fix [redis] url (host, port, password, database)"
        if target.sentinels:
            fix = (
                f"start the sentinels and check that they monitor {target.service!r} "
                "(sentinel monitor), or fix [redis] sentinels, service and passwords"
            )
        return [fail("redis", f"no answer from Redis at {where}: {e}", fix)]
    finally:
        await redis.aclose()
    skew = seconds + micros / 1e6 - (before + after) / 2
    return [ok("redis", f"Redis answers at {where}"), checks.skew_finding("redis", skew)]


async def _postgres(dsn: str) -> list[Finding]:
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
        return [
            fail(
                "postgres",
                f"no connection to PostgreSQL at {_no_password(dsn)}: {e}",
                "start PostgreSQL, or fix [history] dsn (host, port, user, password, database)",
            )
        ]
    try:
        before = time.time()
        remote = float(await conn.fetchval("SELECT extract(epoch FROM clock_timestamp())"))
        after = time.time()
    finally:
        await conn.close()
    skew = remote - (before + after) / 2
    return [
        ok("postgres", f"PostgreSQL answers at {_no_password(dsn)}"),
        checks.skew_finding("postgres", skew),
    ]


def _no_password(url: str) -> str:
    """The URL without its password (``redis://:secret@host`` -> ``redis://:***@host``)."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, auth = head.partition("//")
    user = auth.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"
