"""The metrics the call path moves: a counter increment or a histogram observation each.

Each server has its own :class:`~prometheus_client.CollectorRegistry` (several
servers may run in one process, as the tests do), never the global one.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

from ivr.callbacks.model import CallbackRequest
from ivr.trace import CallTrace

__all__ = ["AGI_BUCKETS", "Instruments"]

# no ``*_created`` series beside each counter and histogram: they double what is
# scraped and nothing here reads them (process-wide in prometheus-client)
disable_created_metrics()  # type: ignore[no-untyped-call]

AGI_BUCKETS = (
    *(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    *(1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
"""Seconds: a SET VARIABLE takes a millisecond, a STREAM FILE the prompt's length."""


class Instruments:
    """The counters and the histogram of one server, in its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.calls = Counter(
            "ivr_calls",
            "Calls through a hotline's menu, by hotline and outcome "
            "(queue, transfer, goodbye, closed, hangup, error)",
            ["hotline", "outcome"],
            registry=self.registry,
        )
        self.agi_seconds = Histogram(
            "ivr_agi_command_seconds",
            "Time from sending an AGI command to Asterisk's reply, by command",
            ["command"],
            buckets=AGI_BUCKETS,
            registry=self.registry,
        )
        self._agi_by_command: dict[str, Any] = {}  # labels() without its lock, per command
        self.callback_changes = Counter(
            "ivr_callback_changes",
            "Changes of callback requests by queue and the status after the change "
            "(pending, dialing, connected, failed, cancelled); counted by the instance "
            "that made the change",
            ["queue", "status"],
            registry=self.registry,
        )

    def on_trace(self, trace: CallTrace, _number: str = "") -> None:
        """A call's menu ended (:class:`ivr.calls.base.TraceSaver` ``on_saved``)."""
        self.calls.labels(trace.hotline or "-", trace.outcome or "hangup").inc()

    def on_agi_command(self, command: str, seconds: float) -> None:
        """An AGI command was answered (:class:`ivr.agi.call.AgiCall` ``observe``)."""
        child = self._agi_by_command.get(command)
        if child is None:
            child = self._agi_by_command[command] = self.agi_seconds.labels(command)
        child.observe(seconds)

    async def on_callback(self, req: CallbackRequest) -> None:
        """A callback changed (a :class:`ivr.store.callbacks.CallbackStore` watcher)."""
        self.callback_changes.labels(req.queue, req.status.value).inc()
