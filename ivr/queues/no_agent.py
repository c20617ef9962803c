"""Nobody waits for nobody: the rules for a queue with no agent staffed and for a
caller who has waited too long. Pure functions, no I/O.

Two rules act on a waiting caller (the ``queue-wait`` route asks :func:`decide`
at each turn of the waiting loop):

* **no-agent**: nobody is staffed in the queue (see :func:`staffed`). The
  queue's ``no_agent`` setting says what happens, once per queue and caller:

  - ``"callback"`` (the default): the caller hears why and is offered a
    callback, placed once an agent is staffed again ("when an officer is
    available", or the next opening when the queue will be closed);
  - ``"overflow:<queue>"``: the caller hears why and moves to the other queue,
    keeping the original arrival (its place there is given by it);
  - ``"message"``: the caller hears why, then goodbye;
  - ``"wait"``: today's behaviour, the caller keeps waiting (places and music).

* **max-wait**: the caller has waited ``max_wait_s`` in this queue (default 600
  s). The same ``no_agent`` policy acts, once per queue and caller; ``"wait"``
  still offers a callback here, so nobody waits longer than the maximum
  without being offered a way out. ``max_wait_s = 0`` turns the rule off.

**Staffed** means at least one member who takes calls: available, ringing, in a
call or in wrap-up. A member logged out or unreachable (unavailable) is not
staffed. A **paused** member is on a break and comes back: a queue whose only
members are paused counts as staffed for ``paused_grace_s`` (default 300 s)
after the most recent pause, then as nobody staffed (a lunch break of the whole
team is not a five-minute wait).
The waiting route never says "nobody" for a queue whose state it does not know
(not yet read from Asterisk): :func:`decide` is then told it is staffed.

An overflow never goes back to a queue the caller already left (overflows from
A to B and back to A would loop): the caller is offered a callback instead.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, Literal

from ivr.queues.state import AgentState, QueueState

__all__ = [
    "ACTIONS",
    "TAKING_CALLS",
    "NoAgentPolicy",
    "RuleDecision",
    "decide",
    "parse_policy",
    "staffed",
]

Action = Literal["callback", "overflow", "message", "wait"]
Rule = Literal["no-agent", "max-wait"]

#: What ``no_agent`` may say (``overflow`` is written ``overflow:<queue>``).
ACTIONS: Final = ("callback", "overflow:<queue>", "message", "wait")

#: The members counted as staffed: they take calls (see the module documentation).
TAKING_CALLS: Final = frozenset(
    {AgentState.AVAILABLE, AgentState.RINGING, AgentState.IN_CALL, AgentState.WRAPUP}
)
_TAKING_CALLS: Final = TAKING_CALLS


@dataclass(frozen=True)
class NoAgentPolicy:
    action: Action
    target: str = ""  # the queue of an overflow

    def __str__(self) -> str:
        return f"overflow:{self.target}" if self.action == "overflow" else self.action


def parse_policy(text: str) -> NoAgentPolicy:
    """``"callback"``, ``"message"``, ``"wait"`` or ``"overflow:<queue>"``; ValueError
    naming the values allowed otherwise."""
    value = text.strip()
    if value in ("callback", "message", "wait"):
        return NoAgentPolicy(value)  # type: ignore[arg-type]
    kind, _, target = value.partition(":")
    if kind.strip() == "overflow" and target.strip():
        return NoAgentPolicy("overflow", target.strip())
    raise ValueError(f"no_agent = {text!r}: write one of {', '.join(ACTIONS)}")


def staffed(state: QueueState, now: float, paused_grace_s: float) -> bool:
    """At least one member takes calls, or the only members present were paused
    less than ``paused_grace_s`` ago (see the module documentation)."""
    paused_since = []
    for agent in state.agents.values():
        if agent.state in _TAKING_CALLS:
            return True
        if agent.state is AgentState.PAUSED:
            paused_since.append(agent.since)
    return bool(paused_since) and now - max(paused_since) < paused_grace_s


@dataclass(frozen=True)
class RuleDecision:
    """Which rule acted and what it does; ``target`` is the queue of an overflow."""

    rule: Rule
    action: Literal["callback", "overflow", "message"]
    target: str = ""

    @property
    def key(self) -> str:
        """How the caller's memory records that the rule acted (once per queue)."""
        return self.rule


def decide(
    policy: NoAgentPolicy,
    max_wait_s: float,
    *,
    is_staffed: bool,
    waited_s: float,
    acted: Collection[str],
    visited: Collection[str] = (),
) -> RuleDecision | None:
    """The rule that acts now for a caller of one queue, or None (keep waiting).

    ``waited_s``: the caller's wait in this queue; ``acted``: the rules that
    already acted for this caller in this queue (:attr:`RuleDecision.key`);
    ``visited``: the queues the caller already left by an overflow.
    """
    rule: Rule | None = None
    if not is_staffed and "no-agent" not in acted and policy.action != "wait":
        rule = "no-agent"
    elif max_wait_s > 0 and waited_s >= max_wait_s and "max-wait" not in acted:
        rule = "max-wait"
    if rule is None:
        return None
    if policy.action == "wait":  # max-wait: a way out all the same
        return RuleDecision(rule, "callback")
    if policy.action == "overflow":
        if policy.target in visited:
            return RuleDecision(rule, "callback")
        return RuleDecision(rule, "overflow", policy.target)
    return RuleDecision(rule, policy.action)
