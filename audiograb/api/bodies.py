"""A request body read under a limit chosen per request, for routes that read bodies themselves.

Litestar's `request_max_body_size` is fixed when a route is declared, but `POST
/api/transcriptions` takes both small JSON bodies (`max_request_bytes`) and uploads
(`max_upload_bytes`, a setting of each app), so it declares no limit and reads through
`capped`: a body announced (`Content-Length`) or streamed past the limit is refused with 413
`too_large` as soon as that is known, instead of after it has been held in memory or on disk.
"""

from typing import Any

from litestar import Request
from litestar.types import ReceiveMessage

from audiograb.domain import AudiograbError, ErrorCode

__all__ = ["capped"]


def capped(request: Request[Any, Any, Any], limit: int) -> Request[Any, Any, Any]:
    """`request`, reading at most `limit` body bytes; `too_large` past that, before reading on."""

    def too_large() -> AudiograbError:
        return AudiograbError(ErrorCode.TOO_LARGE, f"this body is limited to {limit} bytes")

    announced = request.content_length
    if announced is not None and announced > limit:
        raise too_large()
    received = 0

    async def receive() -> ReceiveMessage:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large()
        return message

    return Request(request.scope, receive)
