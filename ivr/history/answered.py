"""The callers a queue answered and that have not ended yet, so that an answered
call's row ends even when Asterisk sends no ``AgentComplete`` for it.

Why ``AgentComplete`` goes missing (Asterisk 22 ``app_queue.c``): the queue logs
``COMPLETEAGENT``/``COMPLETECALLER`` to ``queue_log`` and publishes ``AgentComplete``
from its stasis handler of the bridged channels' hang-up (``handle_hangup``; a blind
or attended transfer goes through ``handle_blind_transfer`` / ``handle_attended_transfer``
instead). The ``queue_log`` line uses the caller's uniqueid the queue kept as a string,
but the AMI event is built from the caller's channel *snapshot* looked up again at that
moment; when the agent hangs up first (the sandbox's ``[sim-agent]`` ends with
``Hangup()`` after ``Wait``), the bridge then hangs the caller up, and the stasis
handler may run after the caller's snapshot has left the cache: the event is then
published without its caller part (no ``Uniqueid``/``Channel``, only the ``Dest…``
fields of the agent's channel), or not turned into an AMI event at all. Hence
``queue_log`` shows ``COMPLETEAGENT`` while no ``AgentComplete`` with that uniqueid
reaches AMI clients.

What the feed does about it (:class:`AnsweredCalls`): remember each answered caller
(``AgentConnect``: uniqueid -> answered time and the agent channel's uniqueid); an
``AgentComplete`` missing its ``Uniqueid`` is matched back to the caller by its
``DestUniqueid``; the caller's own ``Hangup`` ends the row with hang-up − answered as
its talk time, written so that Asterisk's talk time, when it comes (before or after),
stays (see ``ivr.history.rows`` ``talk_s_if_none``). Only uniqueids seen in an
``AgentConnect`` are ever recorded from a ``Hangup``: agents' Local channels, probes and
everything else are not in the map. The map is bounded (oldest first out).

After a server restart mid-call the map is empty: the call's ``Hangup`` is not
recognised and its row ends only if Asterisk's ``AgentComplete`` comes (as before
this map existed); another running instance that saw the ``AgentConnect`` still ends it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Answered", "AnsweredCalls"]


@dataclass(frozen=True)
class Answered:
    uniqueid: str  # the caller's channel
    at: float  # when the queue connected it to an agent
    agent_uniqueid: str  # the agent's (Dest) channel, to match a caller-less AgentComplete


class AnsweredCalls:
    """Answered callers not yet completed, at most ``max_calls`` (oldest dropped)."""

    def __init__(self, max_calls: int = 10_000) -> None:
        if max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        self.max_calls = max_calls
        self._calls: OrderedDict[str, Answered] = OrderedDict()
        # agent channel uniqueid -> caller uniqueid (kept after the caller's hang-up,
        # for a late AgentComplete; bounded like the calls)
        self._by_agent: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, uniqueid: object) -> bool:
        return uniqueid in self._calls

    def connected(self, uniqueid: str, at: float, agent_uniqueid: str = "") -> None:
        """An ``AgentConnect``: the caller ``uniqueid`` was answered at ``at``."""
        if not uniqueid:
            return
        self._drop(uniqueid)
        self._calls[uniqueid] = Answered(uniqueid, at, agent_uniqueid)
        if agent_uniqueid:
            self._by_agent.pop(agent_uniqueid, None)
            self._by_agent[agent_uniqueid] = uniqueid
        while len(self._calls) > self.max_calls:
            _, oldest = self._calls.popitem(last=False)
            self._forget_agent(oldest.agent_uniqueid, oldest.uniqueid)
        while len(self._by_agent) > self.max_calls:
            self._by_agent.popitem(last=False)

    def caller_of(self, uniqueid: str, agent_uniqueid: str = "") -> str:
        """The caller an ``AgentComplete`` is about: its ``Uniqueid``, or, when Asterisk
        sent it without one, the caller answered by the agent channel ``agent_uniqueid``."""
        if uniqueid:
            return uniqueid
        return self._by_agent.get(agent_uniqueid, "") if agent_uniqueid else ""

    def completed(self, uniqueid: str, agent_uniqueid: str = "") -> None:
        """An ``AgentComplete``: Asterisk's talk time came; the caller is done."""
        self._drop(uniqueid)
        self._forget_agent(agent_uniqueid, uniqueid)

    def hung_up(self, uniqueid: str) -> Answered | None:
        """A ``Hangup``: the answered caller it ends, or None (not an answered caller,
        or already completed). The agent-channel link stays until a late
        ``AgentComplete`` or the bound drops it."""
        return self._calls.pop(uniqueid, None)

    def _drop(self, uniqueid: str) -> None:
        gone = self._calls.pop(uniqueid, None)
        if gone is not None:
            self._forget_agent(gone.agent_uniqueid, uniqueid)

    def _forget_agent(self, agent_uniqueid: str, uniqueid: str) -> None:
        if agent_uniqueid and self._by_agent.get(agent_uniqueid) == uniqueid:
            del self._by_agent[agent_uniqueid]
