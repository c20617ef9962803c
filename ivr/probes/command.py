"""``ivr probe [HOTLINE…]``: probe now, print one line per hotline, exit 1 on a failure.

The results are kept and pushed on the stream like the scheduler's (Redis away:
printed only). The alert is the scheduler's business; from cron, the exit status
is the alert. With several Asterisk nodes the probes go out through the first node
whose AMI answers and are heard on every node (:class:`ivr.ami.nodes.NodeAmis`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence

from redis.exceptions import RedisError

from ivr.ami.client import AmiClient, AmiError
from ivr.ami.nodes import NodeAmis
from ivr.config import Settings
from ivr.config_nodes import ami_nodes
from ivr.config_redis import redis_target
from ivr.probes.call import ProbeConfig
from ivr.probes.model import ProbeResult
from ivr.probes.service import ProbeService
from ivr.probes.settings import probe_targets
from ivr.store.client import redis_client
from ivr.store.events import EventStore
from ivr.store.probes import ProbeStore

__all__ = ["probe_config", "run_probe_cli"]


def probe_config(s: Settings) -> ProbeConfig:
    return ProbeConfig(
        dial_template=s.probe_dial_template,
        context=s.probe_context,
        caller_id=s.probe_caller_id,
        ring_timeout_s=s.probe_ring_timeout_s,
        greeting_timeout_s=s.probe_greeting_timeout_s,
    )


def line(r: ProbeResult) -> str:
    answer = f"{r.answer_s:.2f} s to answer" if r.answer_s is not None else "-"
    mark = "ok  " if r.ok else "FAIL"
    return f"{mark} {r.hotline:>6} ({r.published}): {r.label()}; {answer}; {r.detail}"


async def run_probe_cli(settings: Settings, args: argparse.Namespace) -> int:
    targets = probe_targets(settings, args.hotlines)
    if not targets:
        print("no hotline to probe: list them in [probe.hotlines] or name them: ivr probe 1111")
        return 2
    clients = {n.name: AmiClient(n.host, n.port, n.username, n.secret) for n in ami_nodes(settings)}
    ami = clients[""] if "" in clients else NodeAmis(clients)
    redis = redis_client(redis_target(settings))
    try:
        await _start(list(clients.values()))
        service = ProbeService(
            ami,
            probe_config(settings),
            None,  # no alert from here: the exit status is cron's alert
            store=ProbeStore(redis, settings.probe_keep),
            publish=lambda ev: EventStore(redis).publish([ev]),
        )
        results = await service.probe_all(targets)
    except (AmiError, OSError, RedisError) as e:
        print(f"probe: not placed: {e} — is Asterisk up and the [ami] settings right?")
        return 2
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()))
        await redis.aclose()
    _print(results, args.json)
    return 0 if all(r.ok for r in results) else 1


async def _start(clients: Sequence[AmiClient]) -> None:
    """Log in to every node at once; an error only when none answers."""
    errors = await asyncio.gather(*(c.start() for c in clients), return_exceptions=True)
    failed = [e for e in errors if isinstance(e, BaseException)]
    if len(failed) == len(clients):
        raise failed[0]


def _print(results: Sequence[ProbeResult], as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
        return
    for r in results:
        print(line(r))
