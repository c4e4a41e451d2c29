"""Limits on a request's head, checked before the app (or its router) sees the request.

uvicorn's h11 parser cuts off a head that is still incomplete past a byte limit (400), which
bounds the memory one connection can take; this wrapper then refuses a complete head with too
many header fields or too many bytes of them with 431 `headers_too_large`, the API's error
body, and a WebSocket handshake with them with a refused upgrade (403).
"""

from collections.abc import Iterable
from http import HTTPStatus

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from audiograb.api.errors import ApiCode, ErrorBody, ErrorInfo

__all__ = ["HeaderLimits"]


class HeaderLimits:
    """An ASGI wrapper: at most `max_count` header fields of at most `max_bytes` in all."""

    def __init__(self, app: ASGIApp, *, max_count: int, max_bytes: int) -> None:
        self.app = app
        self._max_count = max_count
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = self._problem(scope["headers"])
            if problem is not None:
                await _refuse(scope["type"], problem, send)
                return
        await self.app(scope, receive, send)

    def _problem(self, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        fields = list(headers)
        if len(fields) > self._max_count:
            return f"more than {self._max_count} header fields"
        if sum(len(name) + len(value) for name, value in fields) > self._max_bytes:
            return f"more than {self._max_bytes} bytes of header fields"
        return None


async def _refuse(kind: str, problem: str, send: Send) -> None:
    if kind == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": ""})
        return
    body = msgspec.json.encode(
        ErrorBody(error=ErrorInfo(code=ApiCode.HEADERS_TOO_LARGE, message=f"{problem} sent"))
    )
    await send(
        {
            "type": "http.response.start",
            "status": HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
