"""Changes published for the live stream: callback transitions (the hook of
:class:`ivr.store.callbacks.CallbackStore`), supervisors' overrides and the rules
that acted for a waiting caller (:func:`rule_watcher`), wired by the app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ivr.callbacks.model import CallbackRequest
from ivr.lineup.changes import Change, callback_change
from ivr.log import fields, store_log
from ivr.queues.no_agent import RuleDecision
from ivr.store.events import EventStore
from ivr.store.traces import TraceStore
from ivr.trace import CallTrace, TraceStep

__all__ = ["callback_publisher", "callback_watchers", "change_publisher", "rule_watcher"]

#: Tries to add a rule's step to the call's trace (half a second apart).
TRACE_TRIES = 6


def callback_publisher(events: EventStore) -> Callable[[CallbackRequest], Awaitable[None]]:
    """``on_change`` for a CallbackStore: publish each transition as one change."""

    async def publish(req: CallbackRequest) -> None:
        await events.publish([callback_change(req).to_dict()])

    return publish


def callback_watchers(
    *watchers: Callable[[CallbackRequest], Awaitable[object]],
) -> Callable[[CallbackRequest], Awaitable[None]]:
    """``on_change`` telling each watcher in turn (the stream, today's figures); one
    failing is logged and the others are still told."""

    async def tell(req: CallbackRequest) -> None:
        for watch in watchers:
            try:
                await watch(req)
            except Exception as e:  # one watcher failing never keeps the next one out
                store_log.warning(
                    "callback change not told", extra=fields(callback=req.id, error=str(e))
                )

    return tell


def change_publisher(events: EventStore) -> Callable[[Change], Awaitable[None]]:
    """Publish one change (an override set by a supervisor) to the stream."""

    async def publish(change: Change) -> None:
        await events.publish([change.to_dict()])

    return publish


def rule_watcher(
    events: EventStore,
    traces: TraceStore,
    history: Callable[[str, str, str], None] | None = None,
) -> Callable[[str, str, RuleDecision], Awaitable[None]]:
    """``on_rule`` of the waiting route: the rule that acted goes into the call's
    trace (a ``rule`` step: "no-agent callback", "max-wait overflow operator"), on
    the stream as ``caller.rule`` {uniqueid, rule, action, target} and, when there
    is one, into the history (``history(uniqueid, rule, action)``, which never
    waits). Best effort: the caller is never kept waiting by any of them."""

    tracing: set[asyncio.Task[None]] = set()

    async def trace(uid: str, queue: str, detail: str) -> None:
        # the hotline route's trace may still be on its way to Redis: a few tries
        for _ in range(TRACE_TRIES):
            if await traces.add_step(uid, "rule", detail):
                return
            await asyncio.sleep(0.5)
        # no trace of the menus (the caller came through the fallback): one of its own
        trace = CallTrace(uid, hotline="", outcome="queue", target=queue)
        trace.steps.append(TraceStep(0.0, "rule", detail))
        if not await traces.save(trace):
            store_log.warning("rule not traced yet", extra=fields(call=uid, rule=detail))

    async def tell(uid: str, queue: str, decision: RuleDecision) -> None:
        detail = f"{decision.rule} {decision.action} {decision.target}".strip()
        if history is not None:
            history(uid, decision.rule, decision.action)
        task = asyncio.create_task(trace(uid, queue, detail))  # beside the call
        tracing.add(task)
        task.add_done_callback(tracing.discard)
        data = {"uniqueid": uid, "rule": decision.rule, "action": decision.action,
                "target": decision.target}  # fmt: skip
        try:
            await events.publish([Change("caller.rule", queue, data).to_dict()])
        except Exception as e:  # the stream being away never disturbs the call
            store_log.warning("rule not published", extra=fields(call=uid, error=str(e)))

    return tell
