"""Reading request bodies: JSON of any depth, and bodies under a limit chosen per request.

`ApiRequest` is the app's request class: msgspec refuses JSON nested deeper than it recurses
with a `RecursionError`, which Litestar lets through as a 500; here it is 400 `invalid_request`,
like any other JSON that cannot be read.

Litestar's `request_max_body_size` is fixed when a route is declared, but `POST
/api/transcriptions` takes both small JSON bodies (`max_request_bytes`) and uploads
(`max_upload_bytes`, a setting of each app), so it declares no limit and reads through
`capped`: a body announced (`Content-Length`) or streamed past the limit is refused with 413
`too_large` as soon as that is known, instead of after it has been held in memory or on disk.
"""

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from litestar.types import ReceiveMessage

from audiograb.domain import AudiograbError, ErrorCode

__all__ = ["ApiRequest", "capped"]


class ApiRequest(Request[Any, Any, Any]):
    """Litestar's request, with JSON too deeply nested to decode refused as a client error."""

    async def json(self) -> Any:
        """The body as JSON; 400 when it nests too deeply to decode."""
        try:
            return await super().json()
        except RecursionError:
            raise ClientException("the JSON body is nested too deeply") from None


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

    return type(request)(request.scope, receive)
