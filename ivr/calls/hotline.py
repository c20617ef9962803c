"""The ``hotline`` route: ``AGI(agi://…/hotline,<hotline-id>)`` runs the hotline's menus.

An unknown hotline id sets ``IVR_ERROR=unknown-hotline`` (the dialplan sends the
caller to its fallback queue); otherwise the menu engine walks the hotline's
menus, and the call's trace is saved beside the call.

The supervisors' overrides (closed or open now, a closed queue, an emergency
announcement: :mod:`ivr.menus.overrides`) are read once, as the call starts (kept
from an earlier call while no change was announced: :mod:`ivr.store.overrides`).
With Redis away the call goes on with the file alone (logged): never dead air.

A reachability probe (``ivr probe``: the dialplan passes its ``IVR_PROBE_ID`` as
the second argument) is told its greeting starts (``IVR_PROBE_GREETING`` set to
the probe's id: a ``VarSet`` event)
and keeps no trace: probes never count among the calls.
"""

from __future__ import annotations

import re

from redis.exceptions import RedisError

from ivr.calls.base import CallController, CallSession, TraceSaver
from ivr.hotlines import HotlineRegistry
from ivr.log import call_log, fields
from ivr.menus.engine import MenuEngine
from ivr.menus.overrides import NO_OVERRIDES, CallOverrides
from ivr.privacy import mask_phone
from ivr.probes.model import GREETING_VARIABLE
from ivr.store.overrides import OverrideStore
from ivr.trace import CallTrace

__all__ = ["HotlineRoute"]

_PROBE_ID = re.compile(r"[A-Za-z0-9-]{1,40}")


class HotlineRoute(CallController):
    failure_error = "app-error"
    hangup_ends_call = True

    def __init__(
        self, registry: HotlineRegistry, saver: TraceSaver, overrides: OverrideStore | None = None
    ) -> None:
        super().__init__(saver)
        self.registry = registry
        self.overrides = overrides

    async def handle(self, session: CallSession) -> None:
        info = session.call.info
        hotline_id = session.args[0]
        hotline = self.registry.get(hotline_id)
        if hotline is None:
            call_log.error(
                "unknown hotline: caller sent to the dialplan fallback",
                extra=fields(call=info.uniqueid, hotline=hotline_id),
            )
            await self.set_error(session.call, "unknown-hotline")
            return
        trace = CallTrace(
            uniqueid=info.uniqueid,
            hotline=hotline.id,
            channel=info.channel,
            caller=mask_phone(info.caller_id),
            menu_version=hotline.version,
        )
        probe_id = session.args[1]
        if _PROBE_ID.fullmatch(probe_id):  # a probe: told, and no trace kept
            await session.call.set_variable(GREETING_VARIABLE, probe_id)
        else:
            session.trace = trace
        overrides = await self.read_overrides(hotline.id, info.uniqueid)
        await MenuEngine(hotline).run(session.call, trace, overrides)

    async def read_overrides(self, hotline: str, uniqueid: str) -> CallOverrides:
        """The overrides in force, or none when Redis cannot say (the file alone then)."""
        if self.overrides is None:
            return NO_OVERRIDES
        try:
            return await self.overrides.for_call(hotline)
        except (RedisError, OSError) as e:
            call_log.error(
                "overrides unknown (Redis away): the hotline file alone applies",
                extra=fields(call=uniqueid, hotline=hotline, error=str(e)),
            )
            return NO_OVERRIDES
