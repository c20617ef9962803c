"""API errors: each exception carries its HTTP status and a stable ``error_id``;
the middleware renders every error under the API, even an unknown route, as
``{"error": {"id": ..., "message": ...}}``."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler
from redis.exceptions import RedisError

from ivr.log import api_log, fields


class ApiError(Exception):
    status_code = 500
    error_id = "internal-error"

    def __init__(
        self,
        message: str,
        *,
        error_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if error_id is not None:
            self.error_id = error_id
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return error_response(self.status_code, self.error_id, self.message, self.headers)


class BadRequest(ApiError):
    status_code = 400
    error_id = "bad-request"


class Unauthorized(ApiError):
    status_code = 401
    error_id = "invalid-token"


class Forbidden(ApiError):
    status_code = 403
    error_id = "forbidden"


class NotFound(ApiError):
    status_code = 404
    error_id = "not-found"


class UnknownQueue(NotFound):
    error_id = "unknown-queue"


class UnknownAgent(NotFound):
    error_id = "unknown-agent"


class UnknownCallback(NotFound):
    error_id = "unknown-callback"


class UnknownReason(BadRequest):
    error_id = "unknown-reason"


class Conflict(ApiError):
    status_code = 409
    error_id = "conflict"


class AsteriskRefused(ApiError):
    status_code = 502
    error_id = "asterisk-refused"


class AmiUnavailable(ApiError):
    status_code = 503
    error_id = "ami-unavailable"


class Unavailable(ApiError):
    status_code = 503
    error_id = "store-unavailable"


_HTTP_IDS = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}


def error_response(
    status: int, error_id: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"id": error_id, "message": message}},
        status=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as e:
        return e.response()
    except web.HTTPException as e:
        if e.status < 400:
            raise
        headers = {k: v for k, v in e.headers.items() if k in ("Allow",)}
        error_id = _HTTP_IDS.get(e.status, "http-error")
        message = e.reason
        if e.status == 404:
            message = f"no such API resource: {request.method} {request.path}"
        return error_response(e.status, error_id, message, headers)
    except (RedisError, OSError) as e:
        api_log.error(
            "store unavailable", extra=fields(path=request.path, error=str(e) or type(e).__name__)
        )
        return Unavailable("the store (Redis) is unavailable; try again shortly").response()
    except Exception:
        api_log.exception("API handler failed", extra=fields(path=request.path))
        return ApiError("internal error; see the server log").response()
