"""Request ids: each request gets one (the client's `X-Request-ID`, when sane, or a new one),
echoed in the response and stamped on every log line written while serving it."""

import re
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from audiograb.logs import REQUEST_ID

__all__ = ["HEADER", "request_id_middleware"]

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Wrap `app` so that each HTTP or WebSocket request runs with its id set."""

    async def with_request_id(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.lower().encode(), b"").decode("latin-1")
        request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[HEADER] = request_id
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)

    return with_request_id
