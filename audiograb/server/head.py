"""`HEAD` on every `GET` route: the same status and headers, no body (RFC 9110 §9.3.2).

Litestar routes `HEAD` only to handlers declared for it (the file route has one, which answers
without reading the file). This ASGI wrapper lets every other `HEAD` through first and, when the
app answers 405, runs the request again as `GET`, sending the status and headers and dropping
the body. Once the headers are sent the app is told the client has gone, so an event stream
ends at once instead of streaming to no one.
"""

from typing import Any

import anyio
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HeadAsGet"]

_DISCONNECT: dict[str, Any] = {"type": "http.disconnect"}


class HeadAsGet:
    """An ASGI wrapper answering `HEAD` like `GET` (without the body) where the app has no
    `HEAD` of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        refused = False

        async def first_send(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = True
            if not refused:
                await send(message)

        await self.app(scope, receive, first_send)
        if refused:
            await _as_get(self.app, scope, receive, send)


async def _as_get(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run `scope` as a `GET`, passing on its status and headers only."""
    headers_sent = anyio.Event()
    body_ended = False

    async def headers_only(message: Message) -> None:
        nonlocal body_ended
        if message["type"] == "http.response.start":
            await send(message)
            headers_sent.set()
        elif message["type"] == "http.response.body" and not body_ended:
            body_ended = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def gone_once_answered() -> Message:
        if headers_sent.is_set():
            return _DISCONNECT  # type: ignore[return-value]
        received: Message | None = None
        async with anyio.create_task_group() as tasks:

            async def client() -> None:
                nonlocal received
                received = await receive()  # type: ignore[assignment]
                tasks.cancel_scope.cancel()

            async def answered() -> None:
                await headers_sent.wait()
                tasks.cancel_scope.cancel()

            tasks.start_soon(client)
            tasks.start_soon(answered)
        return received if received is not None else _DISCONNECT  # type: ignore[return-value]

    await app({**scope, "method": "GET"}, gone_once_answered, headers_only)  # type: ignore[arg-type]
