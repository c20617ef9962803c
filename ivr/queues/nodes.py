"""Queues on several Asterisk nodes: their names, and a queue over all nodes. Pure.

app_queue keeps each queue inside one Asterisk: with two nodes behind a SIP proxy,
``complaint`` is two queues, each with its own callers and members. Everything the
server shows of one of them names it ``<queue>@<node>`` (``complaint@a``): the API's
queue paths (``GET /api/queues/complaint@a``), the stream's events of its callers and
agents, the metrics' ``queue`` label. What belongs to the queue on every node keeps
the plain name: the hotline files, per-queue settings, token scopes, supervisors'
overrides, callbacks (dialled through whichever node first has an agent free) and
today's figures. With one node (no ``[ami.nodes]``) no name changes.

A call tells its node by the path of its AGI URL: the node's ``IVR_AGI`` global is
``agi://<server>:4573/<node>``, so the hotline dialplan's ``${IVR_AGI}/queue-wait``
arrives as ``<node>/queue-wait`` (:func:`node_route`).

:func:`merged` is one queue over all nodes (the API's totals, the staffing samples):
its callers and its members side by side, a member of the queue on two nodes
counting once on each.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.ami.nodes import SEPARATOR, base_queue, node_of
from ivr.queues.state import QueueState

__all__ = ["base_queue", "merged", "node_of", "node_queue", "node_route", "renamed"]


def node_queue(queue: str, node: str) -> str:
    """The name of ``queue`` on ``node`` (``complaint@a``); plain for the one node ("")."""
    return f"{queue}{SEPARATOR}{node}" if node else queue


def node_route(route: str, node: str) -> str:
    """The FastAGI script path of ``route`` on ``node`` (``a/queue-wait``)."""
    return f"{node}/{route}" if node else route


def renamed(state: QueueState, name: str) -> QueueState:
    """``state`` under another name (its callers and agents shared, not copied)."""
    if state.name == name:
        return state
    return QueueState(
        name=name,
        callers=state.callers,
        agents=state.agents,
        handle_times=state.handle_times,
        hold_times=state.hold_times,
        answered=state.answered,
        abandoned=state.abandoned,
        asterisk_holdtime=state.asterisk_holdtime,
        asterisk_talktime=state.asterisk_talktime,
        updated_at=state.updated_at,
    )


def merged(name: str, on_nodes: Mapping[str, QueueState]) -> QueueState:
    """Queue ``name`` over every node (node name -> its state there): callers of all
    nodes (uniqueids differ between nodes), members keyed ``<node>/<interface>``,
    handle and hold times together, the counts added."""
    out = QueueState(name=name)
    for node, st in sorted(on_nodes.items()):
        out.callers.update(st.callers)
        out.agents.update((f"{node}/{k}", a) for k, a in st.agents.items())
        out.handle_times += st.handle_times
        out.hold_times += st.hold_times
        out.answered += st.answered
        out.abandoned += st.abandoned
        out.updated_at = max(out.updated_at, st.updated_at)
    return out
