"""The JSON text of a queue's state, remade from the pieces that changed. Pure, no I/O.

The live queues write a queue's whole state after every AMI event that changed it
(:class:`ivr.store.queues.QueueStore`), and keep a copy of what they last
published to tell the stream what changed (:mod:`ivr.lineup.changes`). With a
long line, encoding and copying every caller for each event made the cost of
one event grow with the callers waiting, and the cost of a busy hour with their
square. Here each caller's piece of JSON and its copy are kept between two
writes and made again only for a caller whose fields are no longer the very
same values (``is``: the fields are immutable values, and the model replaces a
field's value whenever it changes it). The text is exactly
``json.dumps(state.to_dict(), ensure_ascii=False)``.
"""

from __future__ import annotations

import json

from ivr.queues.state import Caller, QueueState, same_fields

__all__ = ["QueueText"]

_encode = json.JSONEncoder(ensure_ascii=False).encode


class _Piece:
    """One caller as last encoded: a copy of its fields and its ``"uid": {...}`` text."""

    __slots__ = ("fields", "text")

    def __init__(self, uid: str, caller: Caller) -> None:
        self.fields = dict(vars(caller))
        self.text = f"{_encode(uid)}: {_encode(self.fields)}"


class QueueText:
    """The JSON of each queue's state, its callers' pieces kept from one call to the next."""

    def __init__(self) -> None:
        self._pieces: dict[str, dict[str, _Piece]] = {}  # queue -> uniqueid -> piece

    def text(self, state: QueueState) -> str:
        """``json.dumps(state.to_dict(), ensure_ascii=False)``, remaking only the
        pieces of the callers that changed since the last text of this queue."""
        old = self._pieces.get(state.name, {})
        pieces: dict[str, _Piece] = {}
        for uid, caller in state.callers.items():
            piece = old.get(uid)
            if piece is None or not same_fields(vars(caller), piece.fields):
                piece = _Piece(uid, caller)
            pieces[uid] = piece
        self._pieces[state.name] = pieces
        callers = "{" + ", ".join(p.text for p in pieces.values()) + "}"
        parts = []
        for key, value in state.to_dict(callers=False).items():
            parts.append(f"{_encode(key)}: {callers if key == 'callers' else _encode(value)}")
        return "{" + ", ".join(parts) + "}"

    def forget(self, queue: str) -> None:
        self._pieces.pop(queue, None)
