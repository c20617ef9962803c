"""The ``ivr`` command: serve, check, doctor, reload, call, probe, calls, audit, prompts,
history, report, sandbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence

from ivr.cli_doctor import add_doctor_command
from ivr.cli_history import add_history_commands
from ivr.cli_report import add_report_commands
from ivr.cli_tokens import add_token_commands
from ivr.config import ConfigError, Settings, load_settings
from ivr.problems import AdminError, Problem


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def cmd_serve(args: argparse.Namespace) -> int:
    from ivr.app import HotlineApp
    from ivr.log import setup_logging

    settings = _settings(args)
    setup_logging(args.log_level, json_lines=settings.log_json)
    asyncio.run(HotlineApp(settings).run_forever())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ivr.config_checks import queue_table_problems
    from ivr.config_nodes import node_problems
    from ivr.config_redis import redis_problems
    from ivr.hotlines import prompt_sets
    from ivr.menus.loader import check_all, load_all
    from ivr.speech.catalogue import load_catalogue

    s = _settings(args)
    try:
        catalogue = load_catalogue(s.prompts_dir)
    except AdminError as e:
        return _report(e.problems, "the prompt catalogue was not loaded")
    known, with_audio = prompt_sets(catalogue)
    problems = check_all(s.hotlines_dir, known, None if args.no_audio else with_audio)
    if problems:
        return _report(problems, "nothing was loaded")
    hotlines = load_all(s.hotlines_dir, known, None if args.no_audio else with_audio)
    queues = {q for h in hotlines.values() for q in h.queues}
    settings_problems = redis_problems(s) + queue_table_problems(s, queues) + node_problems(s)
    if settings_problems:
        return _report(settings_problems, "fix the settings file")
    files = sorted(s.hotlines_dir.glob("*.y*ml"))
    print(f"ok: {len(files)} hotline file(s), {len(known)} prompts")
    return 0


def _report(problems: Sequence[Problem], outcome: str) -> int:
    """Print every problem, one a line (``file:line: problem — fix``), then a count."""
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(problems)} problem(s): {outcome}", file=sys.stderr)
    return 1


def cmd_reload(args: argparse.Namespace) -> int:
    s = _settings(args)
    try:
        pid = int(s.pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        print(f"no running server (pid file {s.pid_file}) — start it with `ivr serve`",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"reload asked of server pid {pid}: see its log for the result")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from ivr.sandbox.simcall import run_sim_call_cli

    return asyncio.run(run_sim_call_cli(_settings(args), args))


def cmd_probe(args: argparse.Namespace) -> int:
    from ivr.probes.command import run_probe_cli

    return asyncio.run(run_probe_cli(_settings(args), args))


def cmd_calls(args: argparse.Namespace) -> int:
    from ivr.config_redis import redis_target
    from ivr.store.client import redis_client
    from ivr.store.traces import TraceStore

    async def go() -> int:
        s = _settings(args)
        redis = redis_client(redis_target(s))
        try:
            traces = await TraceStore(redis, s.trace_ttl_s).recent(args.limit)
        finally:
            await redis.aclose()
        if args.json:
            print(json.dumps([t.to_dict() for t in traces], ensure_ascii=False, indent=2))
            return 0
        for t in traces:
            path = " > ".join(t.path)
            print(f"{t.uniqueid:>20}  {t.hotline:>5}  {t.caller:>12}  {t.outcome:<8} "
                  f"{t.target:<10} {t.duration or 0:6.1f}s  {path}")  # fmt: skip
        return 0

    return asyncio.run(go())


def cmd_audit(args: argparse.Namespace) -> int:
    from ivr.config_redis import redis_target
    from ivr.store.audit import AuditLog
    from ivr.store.client import redis_client

    async def go() -> int:
        redis = redis_client(redis_target(_settings(args)))
        try:
            entries = await AuditLog(redis).recent(args.limit)
        finally:
            await redis.aclose()
        for e in entries:
            print(json.dumps(e.to_dict(), ensure_ascii=False) if args.json else e.line())
        return 0

    return asyncio.run(go())


def cmd_prompts(args: argparse.Namespace) -> int:
    from ivr.speech.catalogue import load_catalogue

    s = _settings(args)
    if args.action == "build":
        from ivr.speech.build import build_prompts

        report = build_prompts(load_catalogue(s.prompts_dir), s.prompts_dir, force=args.force)
        print(report.summary())
        return 0
    # say
    from ivr.speech.thai_numbers import number_prompts, phone_prompts

    catalogue = load_catalogue(s.prompts_dir)
    value = args.value.strip()
    is_phone = args.phone or not value.isdigit() or (value.startswith("0") and len(value) > 1)
    try:
        ids = phone_prompts(value) if is_phone else number_prompts(int(value))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(" ".join(ids))
    print((" " if is_phone else "").join(catalogue.text(i, "th") for i in ids))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from ivr.sandbox.pbx import Sandbox
    from ivr.sandbox.procs import SandboxError

    sb = Sandbox(_settings(args))
    try:
        if args.action == "up":
            started = sb.up()
            if args.print_started:
                print(",".join(started))
            else:
                print("\n".join(sb.status().lines()))
        elif args.action == "down":
            sb.down(only=args.only.split(",") if args.only else None)
        elif args.action == "status":
            st = sb.status()
            print("\n".join(st.lines()))
            return 0 if st.asterisk_running and st.redis_running and st.postgres != "down" else 3
        elif args.action == "cli":
            print(sb.cli(" ".join(args.words)), end="")
    except SandboxError as e:
        print(f"sandbox: {e}", file=sys.stderr)
        return 1
    return 0


def _add_sandbox_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser("sandbox", help="the local Asterisk sandbox, Redis and PostgreSQL")
    ssub = sp.add_subparsers(dest="action", required=True)
    up = ssub.add_parser("up")
    up.add_argument("--print-started", action="store_true", help=argparse.SUPPRESS)
    down = ssub.add_parser("down")
    down.add_argument("--only", default="", help=argparse.SUPPRESS)
    ssub.add_parser("status")
    cli = ssub.add_parser("cli", help="run an Asterisk CLI command")
    cli.add_argument("words", nargs="+")
    sp.set_defaults(func=cmd_sandbox)


def _add_call_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser("call", help="place a simulated call through the AMI")
    sp.add_argument("number", help="hotline number, e.g. 1111")
    sp.add_argument("--press", default="", help="digits to press in turn (h = hang up)")
    sp.add_argument("--delay", type=float, default=0.8,
                    help="seconds into each prompt before pressing")  # fmt: skip
    sp.add_argument("--listen", action="store_true",
                    help="press only after each menu prompt has played to its end")  # fmt: skip
    sp.add_argument("--timeout", type=float, default=180.0)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_call)

    _add_probe_command(sub)


def _add_probe_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser("probe", help="test call to each published number; exit 1 on a failure")
    sp.add_argument("hotlines", nargs="*", metavar="HOTLINE",
                    help="hotline ids (default: every one in [probe.hotlines])")  # fmt: skip
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_probe)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ivr", description="Thai hotline application server")
    p.add_argument("--config", help="settings file (default $IVR_CONFIG or the sandbox's)")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("serve", help="run the server (FastAGI, AMI, HTTP)")
    sp.add_argument("--log-level", default="INFO")
    sp.set_defaults(func=cmd_serve)

    sp = sub.add_parser("check", help="validate every hotline file; non-zero exit on problems")
    sp.add_argument("--no-audio", action="store_true", help="do not require prompt audio")
    sp.set_defaults(func=cmd_check)

    add_doctor_command(sub)

    sp = sub.add_parser("reload", help="ask the running server to reload hotline files")
    sp.set_defaults(func=cmd_reload)

    _add_call_command(sub)

    sp = sub.add_parser("calls", help="recent calls and the path each took")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--limit", type=int, default=20)
    sp.set_defaults(func=cmd_calls)

    sp = sub.add_parser("audit", help="supervisor actions, newest first, one a line")
    sp.add_argument("--json", action="store_true", help="one JSON object a line")
    sp.add_argument("--limit", type=int, default=50)
    sp.set_defaults(func=cmd_audit)

    sp = sub.add_parser("prompts", help="build prompt audio or show how a number is read")
    psub = sp.add_subparsers(dest="action", required=True)
    b = psub.add_parser("build", help="synthesize missing or changed prompts (espeak-ng)")
    b.add_argument("--force", action="store_true")
    b.set_defaults(func=cmd_prompts)
    s2 = psub.add_parser("say", help="prompt ids and Thai text for a number")
    s2.add_argument("value")
    s2.add_argument("--phone", action="store_true", help="read digit by digit")
    s2.set_defaults(func=cmd_prompts)

    add_token_commands(sub)
    add_history_commands(sub)
    add_report_commands(sub)

    _add_sandbox_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        rc: int = args.func(args)
    except ConfigError as e:
        for p in e.problems:
            print(f"config: {p}", file=sys.stderr)
        return 2
    except AdminError as e:  # the prompt catalogue, a hotline file
        for p in e.problems:
            print(p, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return rc


if __name__ == "__main__":
    sys.exit(main())
