"""One error shape for every API failure, and the one table from error code to HTTP status.

Every error leaves the API as `{"error": {"code": ..., "message": ...}}` (validation errors add
`details`). Codes are stable strings: the domain's `ErrorCode` values plus a few that only the
HTTP layer knows (`unauthorized`, `rate_limited`, ...). Litestar's own exceptions (malformed
JSON, failed validation, body too large, unknown route) are translated here too, so a client
never sees Litestar's default error body and bad input never becomes a 500.
"""

import logging
from collections.abc import Mapping
from enum import StrEnum
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response, WebSocket
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi import ResponseSpec
from litestar.types import ExceptionHandlersMap

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.pipeline.errors import NotAuthorError, NotFoundError

__all__ = [
    "STATUS_OF",
    "URL_CHECKS",
    "ApiCode",
    "ApiError",
    "ErrorBody",
    "ErrorDetail",
    "ErrorInfo",
    "code_of",
    "error_responses",
    "exception_handlers",
    "invalid_body",
    "refuse_handshake",
    "status_of",
]

_log = logging.getLogger(__name__)


class ApiCode(StrEnum):
    """Error codes that only the HTTP layer produces (the rest are `ErrorCode`s)."""

    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    HEADERS_TOO_LARGE = "headers_too_large"
    VALIDATION_FAILED = "validation_failed"
    ROUTE_NOT_FOUND = "route_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    NOT_READY = "not_ready"
    SHUTTING_DOWN = "shutting_down"
    BATCH_NOT_FOUND = "batch_not_found"
    SCHEDULE_NOT_FOUND = "schedule_not_found"
    ANNOTATION_NOT_FOUND = "annotation_not_found"
    NOT_AUTHOR = "not_author"


_ORIGIN_FAILED = HTTPStatus.BAD_GATEWAY
"""The site we fetch from failed us: not the client's fault and not ours."""

#: The one table: every error code the API can return, and its HTTP status.
STATUS_OF: Mapping[str, HTTPStatus] = {
    ErrorCode.INVALID_URL: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.UNSUPPORTED_URL: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.UNSUPPORTED_YET: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.INVALID_REQUEST: HTTPStatus.BAD_REQUEST,
    ErrorCode.NOT_FOUND: _ORIGIN_FAILED,
    ErrorCode.AUTH_REQUIRED: _ORIGIN_FAILED,
    ErrorCode.GEO_BLOCKED: _ORIGIN_FAILED,
    ErrorCode.NETWORK: _ORIGIN_FAILED,
    ErrorCode.FORBIDDEN_ADDRESS: HTTPStatus.FORBIDDEN,
    ErrorCode.DOWNLOAD_FAILED: _ORIGIN_FAILED,
    ErrorCode.CONVERSION_FAILED: HTTPStatus.INTERNAL_SERVER_ERROR,
    ErrorCode.TRANSCRIPTION_FAILED: HTTPStatus.INTERNAL_SERVER_ERROR,
    ErrorCode.MODEL_NOT_FOUND: HTTPStatus.SERVICE_UNAVAILABLE,
    ErrorCode.UNSUPPORTED_LANGUAGE: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.JOB_NOT_FOUND: HTTPStatus.NOT_FOUND,
    ErrorCode.INVALID_STATE: HTTPStatus.CONFLICT,
    ErrorCode.JOB_RUNNING: HTTPStatus.CONFLICT,
    ErrorCode.FILE_NOT_FOUND: HTTPStatus.NOT_FOUND,
    ErrorCode.NOT_MEDIA: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.NOT_WRITABLE: HTTPStatus.INTERNAL_SERVER_ERROR,
    ErrorCode.CANCELLED: HTTPStatus.CONFLICT,
    ErrorCode.INTERRUPTED: HTTPStatus.CONFLICT,
    ErrorCode.TOO_LARGE: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.TOO_LONG: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.DISK_FULL: HTTPStatus.INSUFFICIENT_STORAGE,
    ErrorCode.INTERNAL: HTTPStatus.INTERNAL_SERVER_ERROR,
    ApiCode.UNAUTHORIZED: HTTPStatus.UNAUTHORIZED,
    ApiCode.RATE_LIMITED: HTTPStatus.TOO_MANY_REQUESTS,
    ApiCode.HEADERS_TOO_LARGE: HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
    ApiCode.VALIDATION_FAILED: HTTPStatus.UNPROCESSABLE_ENTITY,
    ApiCode.ROUTE_NOT_FOUND: HTTPStatus.NOT_FOUND,
    ApiCode.METHOD_NOT_ALLOWED: HTTPStatus.METHOD_NOT_ALLOWED,
    ApiCode.RANGE_NOT_SATISFIABLE: HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
    ApiCode.NOT_READY: HTTPStatus.SERVICE_UNAVAILABLE,
    ApiCode.SHUTTING_DOWN: HTTPStatus.SERVICE_UNAVAILABLE,
    ApiCode.BATCH_NOT_FOUND: HTTPStatus.NOT_FOUND,
    ApiCode.SCHEDULE_NOT_FOUND: HTTPStatus.NOT_FOUND,
    ApiCode.ANNOTATION_NOT_FOUND: HTTPStatus.NOT_FOUND,
    ApiCode.NOT_AUTHOR: HTTPStatus.FORBIDDEN,
}

#: Litestar's own HTTP errors, by status, when nothing more precise is known.
_CODE_FOR_STATUS: Mapping[int, str] = {
    HTTPStatus.BAD_REQUEST: ErrorCode.INVALID_REQUEST,
    HTTPStatus.UNAUTHORIZED: ApiCode.UNAUTHORIZED,
    HTTPStatus.FORBIDDEN: ApiCode.UNAUTHORIZED,
    HTTPStatus.NOT_FOUND: ApiCode.ROUTE_NOT_FOUND,
    HTTPStatus.METHOD_NOT_ALLOWED: ApiCode.METHOD_NOT_ALLOWED,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: ErrorCode.TOO_LARGE,
    HTTPStatus.UNPROCESSABLE_ENTITY: ApiCode.VALIDATION_FAILED,
    HTTPStatus.TOO_MANY_REQUESTS: ApiCode.RATE_LIMITED,
    HTTPStatus.SERVICE_UNAVAILABLE: ApiCode.NOT_READY,
}


def status_of(code: str) -> HTTPStatus:
    """The HTTP status for an error code (500 for a code the table does not know)."""
    return STATUS_OF.get(code, HTTPStatus.INTERNAL_SERVER_ERROR)


class ErrorDetail(msgspec.Struct, frozen=True, kw_only=True):
    """One reason a request failed validation."""

    field: str
    """The offending field or parameter (`body` when the body as a whole is wrong)."""
    source: str
    """Where it was: `body`, `query`, `path` or `header`."""
    message: str


class ErrorInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The inside of the error body."""

    code: str
    message: str
    details: tuple[ErrorDetail, ...] = ()


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    """Every API error response: `{"error": {"code": ..., "message": ...}}`."""

    error: ErrorInfo


class ApiError(Exception):
    """An HTTP-layer failure with a stable code (its status comes from `STATUS_OF`)."""

    def __init__(
        self, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def _respond(
    info: ErrorInfo, *, status: int | None = None, headers: Mapping[str, str] | None = None
) -> Response[ErrorBody]:
    return Response(
        ErrorBody(error=info),
        status_code=status or status_of(info.code),
        headers=dict(headers or {}),
        media_type="application/json",
    )


def code_of(error: AudiograbError) -> str:
    """The API code of an error: its domain code, or a more precise one the pipeline names."""
    if isinstance(error, NotFoundError):
        return f"{error.kind}_not_found"
    if isinstance(error, NotAuthorError):
        return ApiCode.NOT_AUTHOR
    return error.code.value


def invalid_body(error: msgspec.ValidationError) -> ValidationException:
    """The 422 `validation_failed` for a body a handler converted itself and msgspec refused.

    Carries the field msgspec names (`- at `$.priority``) as a detail, as Litestar's own
    validation does, so the client learns what was wrong and where.
    """
    message, _, where = str(error).partition(" - at `$")
    field = where.rstrip("`").lstrip(".") or "body"
    return ValidationException(
        detail=str(error), extra=[{"key": field, "source": "body", "message": message}]
    )


async def refuse_handshake(socket: WebSocket[Any, Any, Any], error: AudiograbError) -> None:
    """Answer a WebSocket handshake with the HTTP error a `GET` would get (404 for an unknown
    job, not the 403 of a bare refusal), through the ASGI denial-response extension."""
    code = code_of(error)
    body = msgspec.json.encode(ErrorBody(error=ErrorInfo(code=code, message=error.message)))
    await socket.send(
        {
            "type": "websocket.http.response.start",
            "status": status_of(code),
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await socket.send({"type": "websocket.http.response.body", "body": body, "more_body": False})


def _on_audiograb_error(_: Request[Any, Any, Any], exc: AudiograbError) -> Response[ErrorBody]:
    return _respond(ErrorInfo(code=code_of(exc), message=exc.message))


def _on_api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return _respond(ErrorInfo(code=exc.code, message=exc.message), headers=exc.headers)


def _details(exc: ValidationException) -> tuple[ErrorDetail, ...]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    return tuple(
        ErrorDetail(
            field=str(item.get("key", "body")),
            source=str(getattr(item.get("source"), "value", item.get("source") or "body")),
            message=str(item.get("message", "invalid value")),
        )
        for item in extra
        if isinstance(item, dict)
    )


def _without_body(request: Request[Any, Any, Any], details: tuple[ErrorDetail, ...]) -> bool:
    """Whether Litestar's complaint is that a route's body (its `data`) did not come at all."""
    headers = request.headers
    empty = headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers
    return empty and any(d.field == "data" and d.source == "body" for d in details)


def _on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    headers = exc.headers or {}
    if isinstance(exc, ValidationException):
        details = _details(exc)
        if _without_body(request, details):
            message = "the body is empty: send a JSON object"
            return _respond(ErrorInfo(code=ErrorCode.INVALID_REQUEST, message=message))
        reasons = "; ".join(f"{d.field}: {d.message}" for d in details)
        message = f"the request is invalid ({reasons})" if reasons else "the request is invalid"
        info = ErrorInfo(code=ApiCode.VALIDATION_FAILED, message=message, details=details)
        return _respond(info, headers=headers)
    if isinstance(exc.__cause__, SerializationException):
        info = ErrorInfo(
            code=ErrorCode.INVALID_REQUEST, message=f"the body is not valid JSON: {exc.__cause__}"
        )
        return _respond(info, headers=headers)
    if isinstance(exc, RequestEntityTooLarge):
        info = ErrorInfo(code=ErrorCode.TOO_LARGE, message="the request body is too large")
        return _respond(info, headers=headers)
    code = _CODE_FOR_STATUS.get(exc.status_code)
    if code is None:
        code = ErrorCode.INTERNAL if exc.status_code >= 500 else ErrorCode.INVALID_REQUEST
    info = ErrorInfo(code=code, message=str(exc.detail))
    return _respond(info, status=exc.status_code, headers=headers)  # 405 keeps its `Allow`


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    _log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(ErrorInfo(code=ErrorCode.INTERNAL, message="internal error"))


def exception_handlers() -> ExceptionHandlersMap:
    """The handlers `create_app` installs: every error becomes an `ErrorBody`."""
    return {
        AudiograbError: _on_audiograb_error,
        ApiError: _on_api_error,
        HTTPException: _on_http_exception,
        Exception: _on_unexpected,
    }


_ANY_ROUTE = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.UNPROCESSABLE_ENTITY,
    HTTPStatus.TOO_MANY_REQUESTS,
)


URL_CHECKS = (HTTPStatus.FORBIDDEN, _ORIGIN_FAILED)
"""What a route that checks a URL when it is submitted may answer besides: 403 for an address
the SSRF guard refuses, 502 when the name does not resolve (or the site fails a lookup)."""


def error_responses(*statuses: HTTPStatus) -> dict[int, ResponseSpec]:
    """OpenAPI entries (all `ErrorBody`) for `statuses` and those any keyed route may answer.

    They also replace Litestar's own 400 entry, whose body is not the one we send.
    """
    return {
        int(status): ResponseSpec(
            data_container=ErrorBody, description=status.phrase, generate_examples=False
        )
        for status in sorted({*statuses, *_ANY_ROUTE})
    }
