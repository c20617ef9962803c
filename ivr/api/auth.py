"""Bearer-token authentication for the API: ``Authorization: Bearer <token>``.

The middleware guards every route of the application it is installed in (the
API sub-application mounted at ``/api``), unknown routes included, and leaves
the caller's :class:`TokenInfo` on the request for handlers (``TOKEN_INFO``).
An unknown or revoked token is 401 ``invalid-token``, an expired one 401
``expired-token`` saying when it expired.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from ivr.api.errors import Forbidden, Unauthorized
from ivr.store.tokens import ROLES, Role, TokenInfo, TokenStore

TOKEN_INFO = web.RequestKey("token_info", TokenInfo)

_CHALLENGE = 'Bearer realm="ivr"'


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def auth_middleware(tokens: TokenStore, roles: Collection[Role] = ROLES) -> Middleware:
    """Refuse requests without a valid token (401) or whose role is not in ``roles`` (403)."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = bearer_token(request)
        if token is None:
            raise Unauthorized(
                "an API token is required: send `Authorization: Bearer <token>` "
                "(create one with `ivr tokens create --role supervisor`)",
                error_id="missing-token",
                headers={hdrs.WWW_AUTHENTICATE: _CHALLENGE},
            )
        info = await tokens.lookup(token)
        if info is None:
            raise Unauthorized(
                "the API token is unknown or revoked",
                error_id="invalid-token",
                headers={hdrs.WWW_AUTHENTICATE: _CHALLENGE + ', error="invalid_token"'},
            )
        if info.expired():
            raise _expired(info)
        if info.role not in roles:
            raise Forbidden(f"role `{info.role}` may not use this API")
        request[TOKEN_INFO] = info
        return await handler(request)

    return authenticate


def _expired(info: TokenInfo) -> Unauthorized:
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(info.expires_at or 0))
    return Unauthorized(
        f"the API token `{info.id}` expired at {when} UTC: ask an admin for a new one "
        "(`ivr tokens create`)",
        error_id="expired-token",
        headers={hdrs.WWW_AUTHENTICATE: _CHALLENGE + ', error="invalid_token"'},
    )


def require_role(request: web.Request, *roles: Role) -> TokenInfo:
    """The caller's token info, or 403 when its role is not one of ``roles``."""
    info = request[TOKEN_INFO]
    if info.role not in roles:
        raise Forbidden(f"this needs a token with role {' or '.join(roles)}, not `{info.role}`")
    return info
