"""Server settings: one TOML file (``--config`` or ``$IVR_CONFIG``), env overrides.

Secrets (the AMI secret) live in the configuration, never in code. The file
``deploy/sandbox/ivr.toml`` holds the documented defaults of the local sandbox.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_CONFIG = PROJECT_ROOT / "deploy" / "sandbox" / "ivr.toml"


#: Waiting settings a queue may set for itself in a ``[queues.<name>]`` table.
PER_QUEUE_SETTINGS = (
    "announce_repeat_s",
    "announce_max_place",
    "default_handle_s",
    "callback_threshold_s",
    "callback_max_offers",
)


class ConfigError(Exception):
    """A configuration file is missing or wrong; the message names the file and the fix."""


@dataclass(frozen=True)
class Settings:
    # FastAGI
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    agi_header_timeout: float = 5.0
    # AMI (one Asterisk node for now)
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: str = field(default="", repr=False)
    ami_action_timeout: float = 10.0
    # Redis
    redis_url: str = "redis://127.0.0.1:6379/0"
    trace_ttl_s: int = 7 * 24 * 3600
    # HTTP
    http_host: str = "127.0.0.1"
    http_port: int = 8080
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
    # per queue: {"complaint": {"callback_threshold_s": 180.0}} from [queues.complaint]
    queue_overrides: Mapping[str, Mapping[str, float | int]] = field(default_factory=dict)
    # Callbacks (ivr.callbacks.dispatcher)
    callback_dial_template: str = "PJSIP/{number}@pstn"
    callback_ring_timeout_s: float = 30.0
    callback_retry_delay_s: float = 300.0
    callback_max_attempts: int = 3
    callback_tick_s: float = 2.0
    callback_reserve_agent: bool = True  # pause the agent while the citizen is rung
    callback_caller_id: str = ""  # shown to the citizen; empty: the hotline number
    instance_id: str = ""  # empty: host name and process id
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


def _coerce(name: str, value: Any, current: Any, where: str) -> Any:
    try:
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
        if isinstance(current, tuple):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
        return str(value)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {name} = {value!r} is not valid ({e})") from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Read the TOML file (flat keys, or the sections [agi] [ami] [redis] [http] [paths]
    whose keys are prefixed by the section name), then apply ``IVR_<NAME>`` env vars."""
    chosen = path or os.environ.get("IVR_CONFIG") or SANDBOX_CONFIG
    cfg_path = Path(chosen)
    base = Settings()
    known = {f.name: getattr(base, f.name) for f in fields(Settings)}
    values: dict[str, Any] = {}
    if cfg_path.exists():
        text = cfg_path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{cfg_path}: {e} — fix the TOML syntax") from None
        flat: dict[str, Any] = {}
        where: dict[str, str] = {}  # flat key -> "file:line" of the key as written
        for key, val in data.items():
            if isinstance(val, dict):
                for k2, v2 in val.items():
                    if key == "queues" and isinstance(v2, dict):
                        continue  # a [queues.<name>] table: read below
                    plain = key in ("paths", "server", "queues", "callbacks")
                    name = k2 if plain else f"{key}_{k2}"
                    flat[name] = v2
                    where[name] = _at(cfg_path, text, k2, key)
            else:
                flat[key] = val
                where[key] = _at(cfg_path, text, key, None)
        queue_tables = data.get("queues", {})
        overrides = _queue_overrides(queue_tables, known, cfg_path, text)
        if overrides:
            values["queue_overrides"] = overrides
        for key, val in flat.items():
            if key == "queue_overrides" or key not in known:
                raise ConfigError(
                    f"{where[key]}: unknown setting {key!r} — remove it or use one of: "
                    f"{', '.join(sorted(k for k in known if k not in _INTERNAL))}"
                )
            values[key] = _coerce(key, val, known[key], where[key])
    elif path is not None:
        raise ConfigError(f"{cfg_path}: no such configuration file — pass an existing --config")
    for name, current in known.items():
        env = os.environ.get(_ENV_PREFIX + name.upper())
        if env is not None and name not in _INTERNAL:
            values[name] = _coerce(name, env, current, f"${_ENV_PREFIX}{name.upper()}")
    return replace(base, **values, source=str(cfg_path))


def _at(cfg_path: Path, text: str, key: str | None, table: str | None) -> str:
    """``file:line`` of ``key`` as written in ``[table]`` (top level: None), or of
    the ``[table]`` header itself when ``key`` is None."""
    current: str | None = None
    pattern = re.compile(rf"""^\s*["']?{re.escape(key or "")}["']?\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[]").strip()
            if key is None and current == table:
                return f"{cfg_path}:{number}"
            continue
        if key is None:
            continue
        if current == table and pattern.match(line):
            return f"{cfg_path}:{number}"
    return str(cfg_path)


def _queue_overrides(
    tables: Any, known: Mapping[str, Any], cfg_path: Path, text: str = ""
) -> dict[str, dict[str, float | int]]:
    """``[queues.<name>]`` tables: the waiting settings one queue sets for itself."""
    out: dict[str, dict[str, float | int]] = {}
    if not isinstance(tables, dict):
        return out
    for name, table in tables.items():
        if not isinstance(table, dict):
            continue
        one: dict[str, float | int] = {}
        for key, val in table.items():
            where = f"{_at(cfg_path, text, key, f'queues.{name}')}: [queues.{name}]"
            if key not in PER_QUEUE_SETTINGS:
                raise ConfigError(
                    f"{where}: {key!r} cannot be set per queue — "
                    f"use one of {', '.join(PER_QUEUE_SETTINGS)}, or set it in [queues]"
                )
            value = _coerce(key, val, known[key], where)
            if value < 0:
                raise ConfigError(f"{where}: {key} = {val!r} must not be negative")
            one[key] = value
        out[str(name)] = one
    return out


def queue_setting(settings: Settings, queue: str, name: str) -> Any:
    """``name`` for ``queue``: its ``[queues.<queue>]`` value, else the global one."""
    if name not in PER_QUEUE_SETTINGS:
        raise KeyError(f"{name} is not a per-queue setting")
    return settings.queue_overrides.get(queue, {}).get(name, getattr(settings, name))


def unknown_queue_tables(settings: Settings, queues: AbstractSet[str]) -> list[str]:
    """``file:line: problem — fix`` for each ``[queues.<name>]`` table naming no
    queue of any hotline (a typo there would otherwise be ignored in silence)."""
    out: list[str] = []
    try:
        text = Path(settings.source).read_text(encoding="utf-8") if settings.source else ""
    except OSError:
        text = ""
    for name in sorted(settings.queue_overrides):
        if name in queues:
            continue
        where = _at(Path(settings.source), text, None, f"queues.{name}")
        out.append(
            f"{where}: [queues.{name}] names no queue of any hotline — use one of "
            f"{', '.join(sorted(queues)) or '(none)'}, or remove the table"
        )
    return out
