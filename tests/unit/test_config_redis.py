"""The Redis settings (ivr.config_redis): one server or Sentinel, each mistake named
with its file, line and fix; and the client made from them (no connection opened)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config import ConfigError, load_settings
from ivr.config_redis import RedisTarget, parse_sentinel, redis_problems, redis_target
from ivr.store.client import POOL_SIZE, redis_client
from ivr.store.sentinel import PrimaryWatch


def settings_file(tmp_path: Path, redis_section: str) -> Path:
    p = tmp_path / "ivr.toml"
    p.write_text(f'[ami]\nhost = "127.0.0.1"\n\n[redis]\n{redis_section}', encoding="utf-8")
    return p


def test_without_sentinels_the_url_alone_is_used(tmp_path: Path) -> None:
    target = redis_target(
        load_settings(settings_file(tmp_path, 'url = "redis://10.0.0.5:6390/2"\n'))
    )
    assert target.sentinels == ()
    assert target.url == "redis://10.0.0.5:6390/2" and target.db == 2
    assert target.describe() == "redis://10.0.0.5:6390/2"


def test_sentinels_service_and_passwords_are_read(tmp_path: Path) -> None:
    p = settings_file(
        tmp_path,
        'url = "redis://127.0.0.1:6379/3"\n'
        'sentinels = ["10.0.0.1:26379", "[fd00::2]:26379", "sentinel3.example.go.th:26380"]\n'
        'service = "hotline-1111"\npassword = "s3cret"\nsentinel_password = "other"\n',
    )
    target = redis_target(load_settings(p))
    assert target.sentinels == (
        ("10.0.0.1", 26379),
        ("fd00::2", 26379),
        ("sentinel3.example.go.th", 26380),
    )
    assert (target.service, target.db) == ("hotline-1111", 3)
    assert (target.password, target.sentinel_password) == ("s3cret", "other")
    text = target.describe() + repr(target)
    assert "[fd00::2]:26379" in text and "s3cret" not in text and "other" not in text


def test_sentinels_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IVR_REDIS_SENTINELS", "127.0.0.1:26380, 127.0.0.1:26381")
    target = redis_target(load_settings(settings_file(tmp_path, "")))
    assert target.sentinels == (("127.0.0.1", 26380), ("127.0.0.1", 26381))
    monkeypatch.setenv("IVR_REDIS_SENTINELS", "127.0.0.1")
    [problem] = redis_problems(load_settings(settings_file(tmp_path, "")))
    assert problem.where == "$IVR_REDIS_SENTINELS"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("127.0.0.1", "not host:port"),
        (":26379", "not host:port"),
        ("127.0.0.1:0", "port"),
        ("127.0.0.1:65536", "port"),
        ("127.0.0.1:abc", "port"),
        ("fd00::2:26379", "IPv6 address goes in brackets"),
        ("[zz::1]:26379", "IPv6"),
        ("sentinel one:26379", "host name"),
    ],
)
def test_a_wrong_sentinel_address_is_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_sentinel(text)


def test_every_mistake_is_named_with_its_line_and_fix(tmp_path: Path) -> None:
    p = settings_file(
        tmp_path,
        'url = "rediss://:pw@127.0.0.1:6379/0"\n'  # line 5
        'sentinels = ["127.0.0.1:26380", "127.0.0.1", "127.0.0.1:26380"]\n'  # line 6
        'service = "my primary"\n'  # line 7
        'password = "again"\n',  # line 8
    )
    with pytest.raises(ConfigError) as e:
        redis_target(load_settings(p))
    got = [(pr.line, pr.message) for pr in e.value.problems]
    assert got == [
        (6, "[redis] sentinels: '127.0.0.1' is not host:port"),
        (6, "[redis] sentinels: '127.0.0.1:26380' twice"),
        (7, "[redis] service = 'my primary' is no sentinel's primary name"),
        (5, "[redis] url: rediss:// with sentinels"),
        (8, "a password both in url and in password"),
    ]
    assert all(pr.file == str(p) and pr.fix for pr in e.value.problems)
    assert 'sentinels = ["10.0.0.1:26379"' in e.value.problems[0].fix


def test_a_sentinel_password_without_sentinels_is_a_mistake(tmp_path: Path) -> None:
    [problem] = redis_problems(load_settings(settings_file(tmp_path, 'sentinel_password = "x"\n')))
    assert problem.line == 5 and "without sentinels" in problem.message


def test_a_url_that_is_no_redis_address_is_a_mistake(tmp_path: Path) -> None:
    [problem] = redis_problems(load_settings(settings_file(tmp_path, 'url = "127.0.0.1:6379"\n')))
    assert problem.line == 5 and "redis://" in problem.fix


async def test_the_client_asks_the_sentinels_for_the_named_primary() -> None:
    """Made from the settings, never connecting until used (no socket in unit tests)."""
    target = RedisTarget(
        url="redis://ignored:1/4",
        sentinels=(("127.0.0.1", 26380), ("127.0.0.1", 26381)),
        service="ivr",
        password="pw",
        sentinel_password="spw",
    )
    watch = PrimaryWatch()
    client = redis_client(target, watch=watch)
    pool = client.connection_pool
    assert getattr(pool, "service_name", None) == "ivr"
    assert pool.max_connections == POOL_SIZE
    kw = pool.connection_kwargs
    assert (kw["db"], kw["password"], kw["socket_timeout"]) == (4, "pw", 2.0)
    manager = getattr(pool, "sentinel_manager", None)
    assert manager is not None and len(manager.sentinels) == 2
    assert manager.sentinels[0].connection_pool.connection_kwargs["password"] == "spw"
    await client.aclose()  # closes the sentinels' clients too


def test_the_watch_counts_a_new_primary_once() -> None:
    watch = PrimaryWatch()
    watch.seen(("127.0.0.1", 6380))
    watch.seen(("127.0.0.1", 6380))
    assert watch.switches == 0 and watch.switched_at is None
    watch.seen(("127.0.0.1", 6381))
    watch.seen(("127.0.0.1", 6381))
    assert watch.switches == 1 and watch.address == ("127.0.0.1", 6381)


def test_ivr_check_names_a_wrong_sentinel(tmp_path: Path) -> None:
    p = settings_file(tmp_path, 'sentinels = ["127.0.0.1"]\n')
    run = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "--config", str(p), "check", "--no-audio"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert f"{p}:5: [redis] sentinels: '127.0.0.1' is not host:port" in run.stderr
