"""``/metrics`` on the sandbox: one citizen walks the 1111 menu into a queue and the
counters move (calls, AGI commands), the live model shows the caller waiting while
they wait and no more once they hang up; and the Redis client counts the commands
that fail."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.app import HotlineApp
from ivr.store.client import RedisErrors, redis_client
from tests.integration.conftest import SimCaller
from tests.until import until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        text = await resp.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


@pytest.mark.sandbox
async def test_a_call_moves_the_counters(app: HotlineApp, call: SimCaller) -> None:
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    url = f"http://{host}:{port}/metrics"

    async def ready() -> Samples | None:  # logged in to the AMI, the queues read
        s = await scrape(url)
        up = total(s, "ivr_ami_connected") == 1
        return s if up and total(s, "ivr_queue_agents", queue="complaint") >= 1 else None

    before: Samples = await until(ready, within=10, what="the AMI and the queues", every=0.2)
    c = await call("1111", "2", keep=True, until=lambda c: bool(c.queue))
    try:
        assert c.queue == "complaint"

        async def waiting() -> Samples | None:
            s = await scrape(url)
            return s if total(s, "ivr_queue_callers", queue="complaint") >= 1 else None

        during: Samples = await until(
            waiting, within=10, what="the caller counted as waiting", every=0.2
        )
        assert total(during, "ivr_callbacks", queue="complaint") >= 0  # read from Redis
        assert total(during, "ivr_scrape_errors") == 0
    finally:
        await app.ami.action("Hangup", Channel=c.channel)
    gone: Samples = await until(
        lambda: _no_caller(url), within=10, what="the caller gone once hung up", every=0.2
    )
    calls = ("ivr_calls_total", {"hotline": "1111", "outcome": "queue"})
    assert total(gone, calls[0], **calls[1]) == total(before, calls[0], **calls[1]) + 1
    started = total(gone, "ivr_agi_calls_started_total") - total(
        before, "ivr_agi_calls_started_total"
    )
    assert started >= 2  # the menu, then its turns waiting in the queue
    for command in ("STREAM FILE", "SET VARIABLE"):
        answered = total(gone, "ivr_agi_command_seconds_count", command=command)
        assert answered > total(before, "ivr_agi_command_seconds_count", command=command)
    assert total(gone, "ivr_redis_errors_total") == total(before, "ivr_redis_errors_total")


async def _no_caller(url: str) -> Samples | None:
    s = await scrape(url)
    return s if total(s, "ivr_queue_callers", queue="complaint") == 0 else None


@pytest.mark.network
async def test_a_redis_that_refuses_is_counted_once_per_command() -> None:
    errors = RedisErrors()
    client = redis_client("redis://127.0.0.1:1/0", errors)  # nothing listens on port 1
    try:
        for _ in range(2):
            with pytest.raises(RedisConnectionError):
                await client.ping()
    finally:
        await client.aclose()
    assert errors.counts == {"connection": 2, "timeout": 0, "response": 0}
