"""The ``hotline`` route: ``AGI(agi://…/hotline,<hotline-id>)`` runs the hotline's menus.

An unknown hotline id sets ``IVR_ERROR=unknown-hotline`` (the dialplan sends the
caller to its fallback queue); otherwise the menu engine walks the hotline's
menus, and the call's trace is saved beside the call.
"""

from __future__ import annotations

from ivr.calls.base import CallController, CallSession, TraceSaver
from ivr.hotlines import HotlineRegistry
from ivr.log import call_log, fields
from ivr.menus.engine import MenuEngine
from ivr.privacy import mask_phone
from ivr.trace import CallTrace

__all__ = ["HotlineRoute"]


class HotlineRoute(CallController):
    failure_error = "app-error"
    hangup_ends_call = True

    def __init__(self, registry: HotlineRegistry, saver: TraceSaver) -> None:
        super().__init__(saver)
        self.registry = registry

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
        session.trace = CallTrace(
            uniqueid=info.uniqueid,
            hotline=hotline.id,
            channel=info.channel,
            caller=mask_phone(info.caller_id),
            menu_version=hotline.version,
        )
        await MenuEngine(hotline).run(session.call, session.trace)
