"""The audit of supervisor actions: :func:`audited` records each action's outcome,
``GET /api/audit`` (admin only, newest first, ``?limit=``) reads them back; an
admin token limited to some hotlines or queues may not read it (403).

An action's entry names the token (id and name), the action, its queue, agent or
callback, and the result: ``ok`` or the error id the client got. A failure to
write the entry is logged and never changes the action's answer.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from redis.exceptions import RedisError

from ivr.api.action_input import audit_limit
from ivr.api.auth import TOKEN_INFO, require_role
from ivr.api.errors import ApiError, Forbidden
from ivr.log import api_log, fields
from ivr.store.audit import AuditEntry, AuditLog

AUDIT_LOG = web.AppKey("audit_log", AuditLog)

routes = web.RouteTableDef()


@dataclass
class AuditNote:
    """What a handler adds to its entry while it runs (the reason, Asterisk's answer)."""

    detail: str = ""


@asynccontextmanager
async def audited(
    request: web.Request, action: str, *, queue: str = "", agent: str = "", callback: str = ""
) -> AsyncIterator[AuditNote]:
    """Run one action and write its entry, whatever its outcome (errors re-raised)."""
    note = AuditNote()
    result = "ok"
    try:
        yield note
    except ApiError as e:
        result = e.error_id
        note.detail = note.detail or e.message
        raise
    except Exception:
        result = "internal-error"
        raise
    finally:
        info = request[TOKEN_INFO]
        entry = AuditEntry(
            time.time(), info.id, info.name, action, queue, agent, callback, result, note.detail
        )
        try:
            await request.app[AUDIT_LOG].write(entry)
        except (RedisError, OSError) as e:
            api_log.error(
                "audit entry not written",
                extra=fields(action=action, token_id=info.id, result=result, error=str(e)),
            )


@routes.get("/audit")
async def read_audit(request: web.Request) -> web.Response:
    info = require_role(request, "admin")
    if info.limited:
        raise Forbidden(
            "the audit log covers every queue: it needs an admin token without a "
            "hotline or queue limit",
            error_id="out-of-scope",
        )
    limit = audit_limit(request.query)
    entries = await request.app[AUDIT_LOG].recent(limit)
    return web.json_response(
        {"entries": [e.to_dict() for e in entries]}, headers={"Cache-Control": "no-store"}
    )
