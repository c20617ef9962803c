"""``ivr history purge``: replace the phone numbers in history that are older than
``[history] keep_numbers_days`` by their keyed hash (``ivr serve`` does it daily)."""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg

from ivr.config import load_settings
from ivr.history.jobs import purge_now

__all__ = ["add_history_commands"]


def cmd_history(args: argparse.Namespace) -> int:
    s = load_settings(args.config)
    if not s.history_dsn:
        print("history is off: set [history] dsn in the settings", file=sys.stderr)
        return 2
    try:
        counts = asyncio.run(
            purge_now(s.history_dsn, s.history_number_key, s.history_keep_numbers_days)
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        print(f"history: PostgreSQL: {e} — is it running? (ivr sandbox up)", file=sys.stderr)
        return 1
    how = "hashed" if s.history_number_key else "removed (no [history] number_key)"
    for table, n in counts.items():
        print(f"{table}: {n} numbers older than {s.history_keep_numbers_days:g} days {how}")
    return 0


def add_history_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ivr history ...``; ``sub`` is the top-level ``add_subparsers()`` result."""
    sp = sub.add_parser("history", help="call history in PostgreSQL")
    hsub = sp.add_subparsers(dest="action", required=True)
    hsub.add_parser("purge", help="replace phone numbers past their retention by hashes")
    sp.set_defaults(func=cmd_history)
