"""The JSON text of a queue's state, remade from the pieces that changed. Pure, no I/O.

The live queues write a queue's whole state after every AMI event that changed it
(:class:`ivr.store.queues.QueueStore`). With a long line, encoding every caller for
each event made the cost of one event grow with the callers waiting, and the cost of
a busy hour with their square. Here each caller's piece of JSON is kept between two
writes and made again only for a caller that is not the very object it was made
from: a caller is never changed in place, a change puts a new one in its place
(:mod:`ivr.queues.state`). The text is exactly
``json.dumps(state.to_dict(), ensure_ascii=False)``.
"""

from __future__ import annotations

import json

from ivr.queues.state import Caller, QueueState

__all__ = ["QueueText"]

_encode = json.JSONEncoder(ensure_ascii=False).encode


class QueueText:
    """The JSON of each queue's state, its callers' pieces kept from one call to the next."""

    def __init__(self) -> None:
        # queue -> uniqueid -> (the caller encoded, its ``"uid": {...}`` text)
        self._pieces: dict[str, dict[str, tuple[Caller, str]]] = {}

    def text(self, state: QueueState) -> str:
        """``json.dumps(state.to_dict(), ensure_ascii=False)``, encoding again only the
        callers that changed since the last text of this queue."""
        old = self._pieces.get(state.name, {})
        pieces: dict[str, tuple[Caller, str]] = {}
        for uid, caller in state.callers.items():
            piece = old.get(uid)
            if piece is None or piece[0] is not caller:
                piece = (caller, f"{_encode(uid)}: {_encode(vars(caller))}")
            pieces[uid] = piece
        self._pieces[state.name] = pieces
        callers = "{" + ", ".join(text for _, text in pieces.values()) + "}"
        parts = []
        for key, value in state.to_dict(callers=False).items():
            parts.append(f"{_encode(key)}: {callers if key == 'callers' else _encode(value)}")
        return "{" + ", ".join(parts) + "}"

    def forget(self, queue: str) -> None:
        self._pieces.pop(queue, None)
