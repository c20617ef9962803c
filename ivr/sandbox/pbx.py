"""The local sandbox PBX: Asterisk 22 from Debian sid in a debootstrap root, plus Redis.

``ivr sandbox up`` builds the root when missing (cached, about 450 MB), writes the
project's Asterisk configuration and dialplans into it, installs the prompts and
starts Asterisk, Redis and (with ``[history] dsn`` on loopback) PostgreSQL.
Everything here is I/O by nature. Redis's start and stop are in
:mod:`ivr.sandbox.redis_server`, PostgreSQL's in :mod:`ivr.sandbox.postgres_server`,
the helpers they share (commands, ports, :class:`SandboxError`) in
:mod:`ivr.sandbox.procs`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ivr.config import PROJECT_ROOT, Settings
from ivr.sandbox import dns, postgres_server, redis_server
from ivr.sandbox.procs import SandboxError, port_open, run
from ivr.sandbox.timing import (
    TimingTest,
    TimingTestError,
    best,
    module_file,
    parse_timing_test,
)

TEMPLATES = PROJECT_ROOT / "deploy" / "sandbox" / "asterisk"
# the snippets an admin #includes in production, copied as they are to ivr/ beside the
# sandbox's configuration, which #includes them the same way
SHIPPED = PROJECT_ROOT / "deploy" / "production" / "asterisk"
ETC_IN_ROOT = "/etc/ivr-asterisk"
ASTERISK_CONF = f"{ETC_IN_ROOT}/asterisk.conf"
RUN_IN_ROOT = "/run/ivr-asterisk"
SOUNDS_IN_ROOT = "/usr/share/asterisk/sounds"
PROMPTS_IN_ROOT = "/usr/share/asterisk/ivr-prompts"  # <lang>/ivr/<id>.wav, linked from sounds/
MOH_IN_ROOT = "/usr/share/asterisk/moh-ivr"
APT_OPTS = ["-o", "Acquire::Check-Valid-Until=false"]


@dataclass
class Status:
    root_ready: bool
    asterisk_running: bool
    asterisk_version: str
    redis_running: bool
    ami_listening: bool
    sip_port: int
    timing: str = ""  # the timing module in use and how well it keeps time
    postgres: str = "off"  # up, down, or off (no [history] dsn on loopback)

    def lines(self) -> list[str]:
        def ok(b: bool) -> str:
            return "up" if b else "down"

        return [
            f"root      {'ready' if self.root_ready else 'missing'}",
            f"asterisk  {ok(self.asterisk_running)} {self.asterisk_version}".rstrip(),
            f"timing    {self.timing or '-'}",
            f"ami       {ok(self.ami_listening)}",
            f"sip       udp 127.0.0.1:{self.sip_port}",
            f"redis     {ok(self.redis_running)}",
            f"postgres  {self.postgres}",
        ]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Sandbox:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.root = settings.sandbox_root

    # -- the root -------------------------------------------------------------
    def root_ready(self) -> bool:
        return (self.root / "usr" / "sbin" / "asterisk").exists()

    def ensure_root(self, log: bool = True) -> None:
        """Build the Debian sid root with Asterisk unless it is already there."""
        with _locked(self.root.with_name(self.root.name + ".lock")):
            if self.root_ready():
                return
            if os.geteuid() != 0:
                raise SandboxError("building the sandbox needs root (debootstrap and chroot)")
            if shutil.which("debootstrap") is None:
                raise SandboxError("debootstrap is missing — apt-get install debootstrap")
            tmp = self.root.with_name(self.root.name + ".tmp")
            if tmp.exists():
                shutil.rmtree(tmp)
            if log:
                print(f"building the Asterisk sandbox in {self.root} (once, about 2 minutes)")
            run(["debootstrap", "--variant=minbase", "sid", str(tmp)], timeout=1800)
            run(["chroot", str(tmp), "apt-get", *APT_OPTS, "update"], timeout=900)
            run(
                ["chroot", str(tmp), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get",
                 *APT_OPTS, "install", "-y", "--no-install-recommends", "asterisk"],
                timeout=1800,
            )  # fmt: skip
            tmp.rename(self.root)

    # -- configuration ----------------------------------------------------------
    def _placeholders(self) -> dict[str, str]:
        return {
            "@@AMI_PORT@@": str(self.s.ami_port),
            "@@AMI_USERNAME@@": self.s.ami_username or "ivr",
            "@@AMI_SECRET@@": self.s.ami_secret,
            "@@AGI_HOST@@": self.s.agi_host if self.s.agi_host != "0.0.0.0" else "127.0.0.1",
            "@@AGI_PORT@@": str(self.s.agi_port),
            "@@SIP_PORT@@": str(self.s.sip_port),
            "@@QUEUE_INTERVAL@@": str(self.s.queue_interval_s),
        }

    def write_config(self) -> None:
        if not self.s.ami_secret:
            raise SandboxError(f"{self.s.source}: [ami] secret is empty — set one")
        etc = self.root / ETC_IN_ROOT.lstrip("/")
        etc.mkdir(parents=True, exist_ok=True)
        subs = self._placeholders()
        for tpl in sorted(TEMPLATES.glob("*.conf")):
            text = tpl.read_text(encoding="utf-8")
            for key, val in subs.items():
                text = text.replace(key, val)
            (etc / tpl.name).write_text(text, encoding="utf-8")
        for conf in sorted(self.s.dialplans_dir.glob("*.conf")):
            shutil.copyfile(conf, etc / conf.name)
        (etc / "ivr").mkdir(exist_ok=True)
        for conf in sorted(SHIPPED.glob("*.conf")):
            shutil.copyfile(conf, etc / "ivr" / conf.name)
        os.chmod(etc / "manager.conf", 0o600)
        os.chmod(etc / "ivr" / "ivr_manager.conf", 0o600)
        for d in ("run", "var/log", "var/lib", "var/spool", "var/cache"):
            (self.root / d / "ivr-asterisk").mkdir(parents=True, exist_ok=True)

    def install_sounds(self) -> int:
        from ivr.speech.build import build_prompts, install_sounds
        from ivr.speech.catalogue import load_catalogue

        langs = ("th", "en")
        catalogue = load_catalogue(self.s.prompts_dir)
        build_prompts(catalogue, self.s.prompts_dir)
        staged = self.root / PROMPTS_IN_ROOT.lstrip("/")
        count = install_sounds(catalogue, self.s.prompts_dir, staged, langs)
        for lang in langs:
            # sounds/<lang> may be an absolute symlink meant for inside the chroot
            lang_dir = self._in_root(f"{SOUNDS_IN_ROOT}/{lang}")
            lang_dir.mkdir(parents=True, exist_ok=True)
            link = lang_dir / "ivr"
            if link.is_symlink() or not link.exists():
                link.unlink(missing_ok=True)
                link.symlink_to(f"{PROMPTS_IN_ROOT}/{lang}/ivr")
        self._install_moh()
        return count

    def _in_root(self, path: str) -> Path:
        """``path`` as seen inside the chroot, following absolute symlinks there."""
        current = self.root / path.lstrip("/")
        for _ in range(20):
            if not current.is_symlink():
                return current
            target = os.readlink(current)
            current = (
                self.root / target.lstrip("/")
                if target.startswith("/")
                else current.parent / target
            )
        raise SandboxError(f"{path}: too many symbolic links inside the sandbox")

    def _install_moh(self) -> None:
        """A soft, synthesized melody as the default music on hold (replace with a real one)."""
        moh = self.root / MOH_IN_ROOT.lstrip("/")
        target = moh / "ivr-melody.wav"
        if target.exists():
            return
        moh.mkdir(parents=True, exist_ok=True)
        notes = ["C4", "E4", "G4", "E4", "F4", "A4", "G4", "-", "E4", "G4", "C5", "G4", "-"]
        parts: list[str] = []
        for i, note in enumerate(notes):
            part = moh / f".n{i}.wav"
            if note == "-":
                run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(part), "trim", "0",
                     "0.6"])  # fmt: skip
            else:
                run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(part), "synth", "0.6",
                     "pluck", note, "vol", "0.25"])  # fmt: skip
            parts.append(str(part))
        run(["sox", *parts, *parts, *parts, str(target)])
        for p in parts:
            Path(p).unlink()

    # -- Asterisk ----------------------------------------------------------------
    def _ast(self, *args: str, timeout: float = 30, check: bool = True) -> str:
        return run(
            ["chroot", str(self.root), "asterisk", "-C", ASTERISK_CONF, *args],
            timeout=timeout,
            check=check,
        )

    def cli(self, command: str, timeout: float = 30) -> str:
        return self._ast("-rx", command, timeout=timeout)

    def asterisk_pid(self) -> int | None:
        pidfile = self.root / RUN_IN_ROOT.lstrip("/") / "asterisk.pid"
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def start_asterisk(self, timeout: float = 60) -> None:
        if self.asterisk_pid() is not None:
            return
        self._ast()  # daemonizes
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.asterisk_pid() is not None:
                out = self._ast("-rx", "core waitfullybooted", timeout=timeout, check=False)
                if "fully booted" in out.lower():
                    break
            time.sleep(0.2)
        else:
            raise SandboxError(
                f"Asterisk did not start within {timeout:.0f} s — see "
                f"{self.root}/var/log/ivr-asterisk/messages.log"
            )
        while time.monotonic() < deadline and not port_open("127.0.0.1", self.s.ami_port):
            time.sleep(0.1)
        self.keep_real_time()

    def timing_test(self) -> TimingTest:
        """Asterisk's ``timing test``: 50 ticks asked for one second."""
        try:
            return parse_timing_test(self.cli("timing test"))
        except TimingTestError as e:
            raise SandboxError(f"{e} — is Asterisk running?") from None

    def timing_modules(self) -> list[str]:
        """The timing modules loaded now (``timerfd``, ``pthread``, ...)."""
        out = self.cli("module show like res_timing_")
        return [
            line.split()[0].removeprefix("res_timing_").removesuffix(".so")
            for line in out.splitlines()
            if line.startswith("res_timing_")
        ]

    def keep_real_time(self) -> TimingTest:
        """Use a timing module that keeps real time (see :mod:`ivr.sandbox.timing`):
        while the one in use is slow and another is loaded, unload it."""
        tried = [self.timing_test()]
        while not tried[-1].keeps_time():
            current = tried[-1].module
            if not [m for m in self.timing_modules() if m != current]:
                break
            self.cli(f"module unload {module_file(current)}")
            result = self.timing_test()
            if result.module == current:  # in use, not unloaded: keep it
                break
            tried.append(result)
        chosen = best(tried)
        if chosen.module != tried[-1].module:  # none keeps time: the closest one back
            self.cli(f"module load {module_file(chosen.module)}")
        return chosen

    def stop_asterisk(self, timeout: float = 20) -> None:
        pid = self.asterisk_pid()
        if pid is None:
            return
        self._ast("-rx", "core stop now", timeout=timeout, check=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.asterisk_pid() is not None:
            time.sleep(0.1)
        if self.asterisk_pid() is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    # -- Redis (ivr.sandbox.redis_server) ------------------------------------------
    def _redis_addr(self) -> tuple[str, int]:
        return redis_server.address(self.s.redis_url)

    def start_redis(self) -> None:
        redis_server.start(self.s.redis_url, self.s.run_dir)

    def stop_redis(self) -> None:
        """Stop the sandbox's Redis (see :func:`ivr.sandbox.redis_server.stop`)."""
        redis_server.stop(self.s.redis_url, self.s.run_dir)

    # -- PostgreSQL (ivr.sandbox.postgres_server) ---------------------------------
    @property
    def postgres_data(self) -> Path:
        return self.root.parent / "postgres" / "data"

    def postgres_state(self) -> str:
        if not postgres_server.wanted(self.s.history_dsn):
            return "off"
        return "up" if port_open(*postgres_server.address(self.s.history_dsn)) else "down"

    # -- whole sandbox ---------------------------------------------------------------
    def up(self) -> list[str]:
        """Bring everything up; return what was started now (not already running)."""
        started: list[str] = []
        self.ensure_root()
        self.write_config()
        self.install_sounds()
        host, port = self._redis_addr()
        if not port_open(host, port):
            self.start_redis()
            started.append("redis")
        if self.postgres_state() == "down":
            postgres_server.start(self.s.history_dsn, self.postgres_data)
            started.append("postgres")
        elif self.postgres_state() == "up":
            postgres_server.start(self.s.history_dsn, self.postgres_data)  # role and database
        if self._agi_failover() and dns.start(self.root, self._srv_targets()):
            started.append("dns")
        if self.asterisk_pid() is None:
            self.start_asterisk()
            started.append("asterisk")
        else:
            self.cli("core reload")
            self.keep_real_time()
        return started

    def _agi_failover(self) -> bool:
        """Whether the dialplan written sends FastAGI through ``hagi://`` (the resolver
        of :mod:`ivr.sandbox.dns` is then started; otherwise it is stopped)."""
        conf = self.root / ETC_IN_ROOT.lstrip("/") / "extensions.conf"
        if dns.wanted(conf.read_text(encoding="utf-8")):
            return True
        dns.stop(self.root)
        return False

    def _srv_targets(self) -> list[dns.SrvTarget]:
        return dns.sandbox_targets(self.s.agi_host, self.s.agi_port)

    def down(self, only: list[str] | None = None) -> None:
        if only is None or "asterisk" in only:
            self.stop_asterisk()
        if only is None or "redis" in only:
            self.stop_redis()
        if only is None or "dns" in only:
            dns.stop(self.root)
        if (only is None or "postgres" in only) and postgres_server.wanted(self.s.history_dsn):
            postgres_server.stop(self.s.history_dsn, self.postgres_data)

    def status(self) -> Status:
        version = timing = ""
        running = self.asterisk_pid() is not None
        if running:
            out = self._ast("-rx", "core show version", check=False).strip()
            version = out.split(" built ")[0] if out else ""
            with contextlib.suppress(SandboxError):
                timing = self.timing_test().describe()
        host, port = self._redis_addr()
        return Status(
            root_ready=self.root_ready(),
            asterisk_running=running,
            asterisk_version=version,
            redis_running=port_open(host, port),
            ami_listening=port_open("127.0.0.1", self.s.ami_port),
            sip_port=self.s.sip_port,
            timing=timing,
            postgres=self.postgres_state(),
        )
