"""What code that places calls needs of an AMI connection, as a protocol: met by
:class:`ivr.ami.client.AmiClient` and by every node's at once
(:class:`ivr.ami.nodes.NodeAmis`), and by the fakes of unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["Originator"]


class Originator(Protocol):
    """Actions, and ``Originate`` with its usual fields (see ``AmiClient.originate``)."""

    async def action(self, name: str, /, **fields_: Any) -> Any: ...

    async def originate(
        self,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        variables: Mapping[str, str] = ...,
        caller_id: str | None = None,
        timeout_ms: int = 30000,
        async_: bool = True,
        *,
        action_id: str | None = None,
    ) -> str: ...
