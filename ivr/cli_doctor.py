"""``ivr doctor``: connects to the configured Asterisk (AMI), Redis and PostgreSQL and
says, one line each (ok / FAIL with the fix), what a deployment is missing. Exit 0
when all is ok, 1 on a problem; ``--json`` for machines."""

from __future__ import annotations

import argparse
import asyncio
import logging

from ivr.config import load_settings
from ivr.doctor.findings import exit_code, render_json, render_text
from ivr.doctor.run import run_doctor

__all__ = ["add_doctor_command"]


def cmd_doctor(args: argparse.Namespace) -> int:
    logging.disable(logging.CRITICAL)  # every failure is a finding; no log lines between them
    findings = asyncio.run(run_doctor(load_settings(args.config)))
    print(render_json(findings) if args.json else render_text(findings))
    return exit_code(findings)


def add_doctor_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser(
        "doctor",
        help="check Asterisk (AMI rights, dialplan, queues, FastAGI), Redis, PostgreSQL, "
        "prompts and clocks; exit 1 on a problem",
    )
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_doctor)
