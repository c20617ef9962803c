"""Erlang C: how many agents a half hour needs for its service-level target (pure).

With ``arrivals`` callers in a slot of ``slot_s`` seconds, each handled in
``aht_s`` seconds on average, the traffic is ``A = arrivals × aht_s / slot_s``
erlangs. With ``N > A`` agents, the probability that a caller waits at all is
Erlang C, ``C(N, A)``, computed here from Erlang B's recursion (stable for
hundreds of agents, no factorials):

    B(0) = 1,  B(n) = A·B(n-1) / (n + A·B(n-1)),   C = N·B(N) / (N - A·(1 - B(N)))

and the share answered within ``target_s`` is ``1 - C·exp(-(N - A)·target_s / aht_s)``.
The agents needed are the fewest ``N`` reaching the target (and, when given, an
occupancy ``A / N`` at most ``max_occupancy``). The model assumes callers who
arrive at random and wait without giving up; shrinkage (breaks, training) is not
in it: these are agents taking calls.
"""

from __future__ import annotations

import math

__all__ = ["agents_needed", "erlang_c", "service_level", "traffic"]

MAX_AGENTS = 10_000


def traffic(arrivals: float, aht_s: float, slot_s: float = 1800.0) -> float:
    """The slot's traffic in erlangs."""
    return arrivals * aht_s / slot_s


def erlang_c(agents: int, erlangs: float) -> float:
    """The probability that a caller waits (1.0 when ``agents <= erlangs``)."""
    if erlangs <= 0:
        return 0.0
    if agents <= erlangs:
        return 1.0
    b = 1.0
    for n in range(1, agents + 1):
        b = erlangs * b / (n + erlangs * b)
    return agents * b / (agents - erlangs * (1 - b))


def service_level(
    agents: int, arrivals: float, aht_s: float, slot_s: float = 1800.0, target_s: float = 30.0
) -> float:
    """The share of callers answered within ``target_s`` with ``agents`` agents."""
    a = traffic(arrivals, aht_s, slot_s)
    if a <= 0:
        return 1.0
    if agents <= a:
        return 0.0
    return 1.0 - erlang_c(agents, a) * math.exp(-(agents - a) * target_s / aht_s)


def agents_needed(
    arrivals_per_slot: float,
    aht_s: float,
    slot_s: float = 1800.0,
    target_sl: float = 0.8,
    target_s: float = 30.0,
    max_occupancy: float | None = None,
) -> int:
    """The fewest agents answering ``target_sl`` of the callers within ``target_s``
    (0 without arrivals or handle time); ValueError for a target that cannot be met."""
    a = traffic(arrivals_per_slot, aht_s, slot_s)
    if a <= 0:
        return 0
    if not 0 < target_sl < 1:
        raise ValueError(f"service-level target {target_sl}: give a share between 0 and 1")
    n = max(1, math.floor(a) + 1)
    if max_occupancy is not None and max_occupancy > 0:
        n = max(n, math.ceil(a / max_occupancy))
    while service_level(n, arrivals_per_slot, aht_s, slot_s, target_s) < target_sl:
        n += 1
        if n > MAX_AGENTS:
            raise ValueError(f"more than {MAX_AGENTS} agents needed: check the arrivals")
    return n
