"""Server settings: one TOML file (``--config`` or ``$IVR_CONFIG``), env overrides.

Secrets (the AMI secret) live in the configuration, never in code. The file
``deploy/sandbox/ivr.toml`` holds the documented defaults of the local sandbox.
Every mistake in the file (or in an ``IVR_<NAME>`` variable) is reported at
once, each as ``file:line: problem — fix`` (:mod:`ivr.problems`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from ivr.problems import AdminError, Problem

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_CONFIG = PROJECT_ROOT / "deploy" / "sandbox" / "ivr.toml"

#: Waiting and figure settings a queue may set for itself in a ``[queues.<name>]`` table.
PER_QUEUE_SETTINGS = (
    "announce_repeat_s",
    "announce_max_place",
    "default_handle_s",
    "callback_threshold_s",
    "callback_max_offers",
    "service_level_s",
    "service_level_target",
    "short_abandon_s",
    "no_agent",
    "max_wait_s",
    "paused_grace_s",
)

#: Pause reasons of a Thai call centre: a break, lunch, training, a meeting, paperwork.
DEFAULT_PAUSE_REASONS = ("break", "lunch", "training", "meeting", "admin")


class ConfigError(AdminError):
    """A settings file is missing or wrong; ``problems``: each with file, line and fix."""


@dataclass(frozen=True)
class Settings:
    # FastAGI
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    agi_header_timeout: float = 5.0
    # AMI of one Asterisk node; several: [ami.nodes.<name>] tables (ivr.config_nodes)
    ami_nodes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: str = field(default="", repr=False)
    ami_action_timeout: float = 10.0
    redis_url: str = "redis://127.0.0.1:6379/0"  # Redis; or Sentinel: ivr.config_redis
    redis_sentinels: tuple[str, ...] = ()  # "host:port" of each sentinel; empty: url alone
    redis_service: str = "ivr"  # the primary's name in the sentinels' "sentinel monitor"
    redis_password: str = field(default="", repr=False)  # the Redis servers' (requirepass)
    redis_sentinel_password: str = field(default="", repr=False)  # the sentinels' own
    trace_ttl_s: int = 7 * 24 * 3600
    # HTTP
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # [metrics] (ivr.metrics): who may scrape GET /metrics on the HTTP port: these
    # networks without a token (empty: loopback only), anyone with the bearer token
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    metrics_token: str = field(default="", repr=False)
    # [api] supervisor_phones: the phones a supervisor may be called on to listen to a
    # call (ivr.api.spy), as Asterisk dial strings: ["PJSIP/supervisor1"]
    api_supervisor_phones: tuple[str, ...] = ()
    # API tokens: lifetime of a new token (`ivr tokens create --ttl` overrides), in [api]
    api_token_lifetime_s: float = 90 * 24 * 3600.0
    # Files
    dialplans_dir: Path = PROJECT_ROOT / "dialplans"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    run_dir: Path = PROJECT_ROOT / "var" / "run"
    shutdown_grace_s: float = 30.0
    # Waiting in queues (ivr.queues.waiting)
    queue_interval_s: int = 30  # Queue() timeout between two turns of the waiting loop
    queue_wrapup_s: float = 5.0  # the queues' wrapuptime (queues.conf)
    announce_repeat_s: float = 60.0
    announce_max_place: int = 20
    default_handle_s: float = 180.0
    callback_threshold_s: float = 300.0
    callback_max_offers: int = 2
    # nobody waits for nobody (ivr.queues.no_agent): nobody staffed -> "callback",
    # "overflow:<queue>", "message" or "wait"; the same after max_wait_s (0: never)
    no_agent: str = "callback"
    max_wait_s: float = 600.0
    paused_grace_s: float = 300.0  # paused-only members count as staffed this long
    # today's figures (ivr.queues.figures): 80 % answered within 30 s; shorter abandons apart
    service_level_s: float = 30.0
    service_level_target: float = 0.8
    short_abandon_s: float = 5.0
    # per queue: {"complaint": {"callback_threshold_s": 180.0}} from [queues.complaint]
    queue_overrides: Mapping[str, Mapping[str, float | int | str]] = field(default_factory=dict)
    # reasons a supervisor may give to pause an agent (ivr.api.actions), in [queues]
    pause_reasons: tuple[str, ...] = DEFAULT_PAUSE_REASONS
    # Callbacks (ivr.lineup.dispatcher)
    callback_dial_template: str = "PJSIP/{number}@pstn"
    callback_ring_timeout_s: float = 30.0
    callback_retry_delay_s: float = 300.0
    callback_max_attempts: int = 3
    callback_tick_s: float = 2.0
    callback_reserve_agent: bool = True  # pause the agent while the citizen is rung
    callback_caller_id: str = ""  # shown to the citizen; empty: the hotline number
    instance_id: str = ""  # empty: host name and process id
    # [history] (ivr.history): PostgreSQL; an empty dsn keeps history off
    history_dsn: str = field(default="", repr=False)
    history_keep_numbers_days: float = 90.0  # then replaced by a keyed hash (PDPA)
    history_number_key: str = field(default="", repr=False)  # HMAC key; empty: removed
    history_outbox_max: int = 100_000  # records waiting for PostgreSQL, oldest dropped
    # Reachability probes (ivr.probes), in [probe]; the hotlines in [probe.hotlines]
    probe_dial_template: str = "PJSIP/{number}@pstn"
    probe_context: str = "ivr-probe"  # what the probe's own end runs once answered
    probe_caller_id: str = ""
    probe_interval_s: float = 0.0  # the scheduler in `ivr serve`; 0: off
    probe_ring_timeout_s: float = 20.0
    probe_greeting_timeout_s: float = 10.0
    probe_alert_after: int = 3  # failures in a row before the alert goes out
    probe_webhook_url: str = ""  # POSTed a JSON body on alert and on clear
    probe_webhook_timeout_s: float = 5.0
    probe_keep: int = 50  # results kept per hotline
    probe_hotlines: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Sandbox PBX
    sandbox_root: Path = Path("/var/cache/ivr-sandbox/root")
    sip_port: int = 5060
    log_json: bool = True
    source: str = ""

    @property
    def hotlines_dir(self) -> Path:
        return self.dialplans_dir / "hotlines"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "ivr.pid"


_ENV_PREFIX = "IVR_"
_INTERNAL = frozenset({"source", "queue_overrides"})  # not written as plain keys

_FIXES = {bool: "write true or false", int: "write a whole number", float: "write a number"}


def _coerce(value: Any, current: Any) -> Any:
    """``value`` as the type of the setting's default ``current``; ValueError,
    TypeError or OverflowError (``port = inf``) when it cannot be."""
    if isinstance(current, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, Path):
        p = Path(str(value))
        return p if p.is_absolute() else PROJECT_ROOT / p
    if isinstance(current, Mapping):
        return _table(value)
    if isinstance(current, tuple):
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return tuple(str(v) for v in value)
    return str(value)


def _table(value: Any) -> dict[str, dict[str, Any]]:
    """A table of tables: ``{"1111": {"number": "1111"}}``; a bare value per key, or a
    list or comma-separated string of keys, is accepted too."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return {str(v): {} for v in value}
    if not isinstance(value, dict):
        raise TypeError("expected a table")
    return {
        str(k): dict(v) if isinstance(v, dict) else {"number": str(v)} for k, v in value.items()
    }


def _coerced(
    name: str, value: Any, current: Any, at: Problem, problems: list[Problem]
) -> tuple[bool, Any]:
    """(True, the value as the setting's type), or (False, None) with a problem
    added at ``at`` (its file, line and message prefix)."""
    try:
        return True, _coerce(value, current)
    except (TypeError, ValueError, OverflowError) as e:
        problems.append(
            Problem(
                at.file,
                at.line,
                f"{at.message}{name} = {value!r} is not valid ({e})",
                _FIXES.get(type(current), "write a value of the right kind"),
            )
        )
        return False, None


def load_settings(path: str | Path | None = None) -> Settings:
    """Read the TOML file (flat keys, or the sections [agi] [ami] [redis] [http] [paths]
    whose keys are prefixed by the section name), then apply ``IVR_<NAME>`` env vars.

    Raises :class:`ConfigError` with every problem of the file and the environment."""
    chosen = path or os.environ.get("IVR_CONFIG") or SANDBOX_CONFIG
    cfg_path = Path(chosen)
    base = Settings()
    known = {f.name: getattr(base, f.name) for f in fields(Settings)}
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    if cfg_path.exists():
        values = _read_file(cfg_path, known, problems)
    elif path is not None:
        problems.append(
            Problem(str(cfg_path), 0, "no such configuration file", "pass an existing --config")
        )
    for name, current in known.items():
        env = os.environ.get(_ENV_PREFIX + name.upper())
        if env is not None and name not in _INTERNAL:
            at = Problem(f"${_ENV_PREFIX}{name.upper()}", 0, "")
            ok, value = _coerced(name, env, current, at, problems)
            if ok and isinstance(value, str):
                ok = _policy_ok(name, value, at, problems)
            if ok:
                values[name] = value
    if problems:
        raise ConfigError(problems)
    return replace(base, **values, source=str(cfg_path))


def _read_file(cfg_path: Path, known: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """The settings written in the file; its problems (sorted by line) go to ``problems``."""
    try:
        raw = cfg_path.read_bytes()
    except OSError as e:  # a folder, no permission
        why = f"cannot read the file ({e.strerror or e})"
        problems.append(Problem(str(cfg_path), 0, why, "check the path and permissions"))
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        problems.append(Problem(str(cfg_path), line, "not UTF-8 text", "save the file as UTF-8"))
        return {}
    try:
        data = tomllib.loads(text)
    except RecursionError:  # tomllib parses recursively: "a = [[[[…" a thousand deep
        problems.append(Problem(str(cfg_path), 0, "nested too deeply", "write flat values, lists"))
        return {}
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        problems.append(
            Problem(
                str(cfg_path),
                int(m[1]) if m else 0,
                f"TOML syntax error: {e}",
                "fix the TOML syntax",
            )
        )
        return {}
    found: list[Problem] = []
    values: dict[str, Any] = {}
    overrides = _queue_overrides(data.get("queues", {}), known, cfg_path, text, found)
    if overrides:
        values["queue_overrides"] = overrides
    for key, (val, line) in _flatten(data, text).items():
        if key == "queue_overrides" or key not in known:
            found.append(
                Problem(
                    str(cfg_path),
                    line,
                    f"unknown setting {key!r}",
                    "remove it or use one of: "
                    + ", ".join(sorted(k for k in known if k not in _INTERNAL)),
                )
            )
            continue
        at = Problem(str(cfg_path), line, "")
        ok, value = _coerced(key, val, known[key], at, found)
        if ok and isinstance(value, str):
            ok = _policy_ok(key, value, at, found)
        if ok:
            values[key] = value
    problems.extend(sorted(found, key=lambda p: p.line))
    return values


_NO_AGENT = re.compile(r"^(callback|message|wait|overflow:[A-Za-z0-9_.-]+)$")


def _policy_ok(key: str, value: str, at: Problem, problems: list[Problem]) -> bool:
    """A ``no_agent`` value is one of the policies of :mod:`ivr.queues.no_agent`."""
    if key != "no_agent" or _NO_AGENT.match(value):
        return True
    fix = 'write "callback", "overflow:<queue>", "message" or "wait"'
    problems.append(replace(at, message=f"{at.message}no_agent = {value!r} is wrong", fix=fix))
    return False


def _flatten(data: Mapping[str, Any], text: str) -> dict[str, tuple[Any, int]]:
    """Setting name -> (value, line of its key), sections folded into names."""
    flat: dict[str, tuple[Any, int]] = {}
    for key, val in data.items():
        if isinstance(val, dict):
            for k2, v2 in val.items():
                if key == "queues" and isinstance(v2, dict):
                    continue  # a [queues.<name>] table: see _queue_overrides
                plain = key in ("paths", "server", "queues", "callbacks")
                name = k2 if plain else f"{key}_{k2}"
                flat[name] = (v2, line_of(text, k2, key))
        else:
            flat[key] = (val, line_of(text, key, None))
    return flat


def line_of(text: str, key: str | None, table: str | None) -> int:
    """The line of ``key`` as written in ``[table]`` (top level: None), or of the
    ``[table]`` header itself when ``key`` is None; 0 when not found."""
    current: str | None = None
    pattern = re.compile(rf"""^\s*["']?{re.escape(key or "")}["']?\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[]").strip()
            if key is None and current == table:
                return number
            continue
        if key is None:
            continue
        if current == table and pattern.match(line):
            return number
    return 0


def _queue_overrides(
    tables: Any, known: Mapping[str, Any], cfg_path: Path, text: str, problems: list[Problem]
) -> dict[str, dict[str, float | int | str]]:
    """``[queues.<name>]`` tables: the waiting settings one queue sets for itself."""
    out: dict[str, dict[str, float | int | str]] = {}
    if not isinstance(tables, dict):
        return out
    for name, table in tables.items():
        if not isinstance(table, dict):
            continue
        one: dict[str, float | int | str] = {}
        for key, val in table.items():
            at = Problem(str(cfg_path), line_of(text, key, f"queues.{name}"), f"[queues.{name}]: ")
            if key not in PER_QUEUE_SETTINGS:
                problems.append(
                    replace(
                        at,
                        message=f"{at.message}{key!r} cannot be set per queue",
                        fix=f"use one of {', '.join(PER_QUEUE_SETTINGS)}, or set it in [queues]",
                    )
                )
                continue
            ok, value = _coerced(key, val, known[key], at, problems)
            if ok and isinstance(value, str):
                ok = _policy_ok(key, value, at, problems)
                if ok:
                    one[key] = value
            elif ok and value < 0:
                problems.append(
                    replace(
                        at,
                        message=f"{at.message}{key} = {val!r} must not be negative",
                        fix="write 0 or more",
                    )
                )
            elif ok:
                one[key] = value
        out[str(name)] = one
    return out


def queue_setting(settings: Settings, queue: str, name: str) -> Any:
    """``name`` for ``queue``: its ``[queues.<queue>]`` value, else the global one."""
    if name not in PER_QUEUE_SETTINGS:
        raise KeyError(f"{name} is not a per-queue setting")
    return settings.queue_overrides.get(queue, {}).get(name, getattr(settings, name))


QueueSettings = TypeVar("QueueSettings", bound="DataclassInstance")


def queue_settings(settings: Settings, queue: str, kind: type[QueueSettings]) -> QueueSettings:
    """A dataclass of per-queue settings for ``queue`` (its field names are setting
    names): each from the ``[queues.<queue>]`` table, else the global value."""
    return kind(**{f.name: queue_setting(settings, queue, f.name) for f in fields(kind)})
