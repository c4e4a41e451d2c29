"""`HEAD` on every `GET` route, and an `Allow` that names every method of a route.

Litestar routes `HEAD` only to handlers declared for it (the file route has one, which answers
without reading the file). This ASGI wrapper lets every other `HEAD` through first and, when the
app answers 405, runs the request again as `GET`, sending the status and headers and dropping
the body (RFC 9110 §9.3.2). Once the headers are sent the app is told the client has gone, so an
event stream ends at once instead of streaming to no one.

Litestar's automatic `OPTIONS` answer names only the methods of the first handler declared on a
path (`GET, OPTIONS` where `PATCH` and `DELETE` exist too), while its 405 names them all: an
`OPTIONS` request is answered here with the methods a 405 lists. Both name `HEAD` wherever
`GET` is.
"""

from typing import Any

import anyio
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HeadAsGet"]

_DISCONNECT: dict[str, Any] = {"type": "http.disconnect"}
#: A method no route has: the app's 405 to it lists the methods the path does have.
_PROBE = "AUDIOGRAB-PROBE"


class HeadAsGet:
    """An ASGI wrapper answering `HEAD` like `GET` (without the body) where the app has no
    `HEAD` of its own, and `OPTIONS` with every method of the path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, _allowing_head(send))
            return
        if scope["method"] == "OPTIONS":
            allowed = await _methods_of(self.app, scope)
            await self.app(scope, receive, _allowing_head(send, allowed))
            return
        refused = False

        async def first_send(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = True
            if not refused:
                await send(message)

        await self.app(scope, receive, _allowing_head(first_send))
        if refused:
            await _as_get(self.app, scope, receive, _allowing_head(send))


def _allowing_head(send: Send, allowed: bytes | None = None) -> Send:
    """`send`, with the `Allow` of a response replaced by `allowed` (when given) and `HEAD`
    added to it wherever it names `GET`."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = []
            for name, value in message.get("headers", ()):
                if name.lower() == b"allow":
                    value = _with_head(allowed if allowed is not None else value)
                headers.append((name, value))
            message = {**message, "headers": headers}
        await send(message)

    return sending


def _with_head(allow: bytes) -> bytes:
    methods = [m.strip() for m in allow.decode("latin-1").split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return ", ".join(methods).encode("latin-1")


async def _methods_of(app: ASGIApp, scope: Scope) -> bytes | None:
    """The methods the app's 405 lists for `scope`'s path (None: no such path)."""
    allowed: bytes | None = None

    async def nothing() -> Message:
        return _DISCONNECT  # type: ignore[return-value]

    async def keep_allow(message: Message) -> None:
        nonlocal allowed
        if message["type"] == "http.response.start" and message["status"] == 405:
            allowed = dict(message.get("headers", ())).get(b"allow")

    await app({**scope, "method": _PROBE}, nothing, keep_allow)  # type: ignore[arg-type]
    return allowed


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
