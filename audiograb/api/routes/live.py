"""`WS /api/transcribe/live`: live transcription of PCM audio over a WebSocket.

The protocol (docs/live-protocol.md): the client sends `start`, then binary frames of mono
16-bit PCM at 16 kHz, then `stop`; the server answers `ready`, streams `partial`, `final` and
`stats`, and ends with `done`. Mistakes (a malformed frame, an unknown message) get an
`error` and the session goes on; fatal errors (`unauthorized`, `busy`, `overloaded`, a model
that cannot be found) get an `error` and the socket closes. A client that disconnects ends its
session at once, freeing its slot.

The API key comes with the upgrade request (header, `?token=` or the `audiograb_key` cookie of
a same-origin page) or in `start.token`, since browsers cannot set headers on a WebSocket: the
route is public to the access guard and checks the key itself. A key that comes with the
upgrade is checked at once (a wrong one is refused before `start`); a socket without one waits
for `start` in one of `MAX_PENDING_PER_CLIENT` places of its client address. Either way the
socket counts against the rate limit, so refusals and waiting sockets are paced too.
"""

import contextlib
import logging
from collections.abc import Iterator
from typing import Annotated, Any

import anyio
import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.status_codes import WS_1000_NORMAL_CLOSURE, WS_1008_POLICY_VIOLATION

from audiograb.api.access import PUBLIC, Doorkeeper, presented_key
from audiograb.api.context import Api
from audiograb.api.errors import ApiCode, ApiError
from audiograb.api.schemas import Language, ModelName
from audiograb.domain import AudiograbError, ErrorCode
from audiograb.pipeline.live import (
    MAX_FRAME_BYTES,
    Done,
    Final,
    LiveCode,
    LiveError,
    LiveSession,
    Partial,
    Stats,
)

__all__ = [
    "MAX_PENDING_PER_CLIENT",
    "ClientMessage",
    "Error",
    "Ready",
    "ServerMessage",
    "Start",
    "Stop",
    "live_transcription",
]

_log = logging.getLogger(__name__)

#: What a client that went away looks like: Litestar's disconnect, uvicorn's `ClientDisconnected`.
_GONE = (WebSocketDisconnect, OSError)
#: Seconds a client has after connecting to send `start`.
START_TIMEOUT = 10.0
#: Close code for errors that mean "try again later" (busy, overloaded).
WS_1013_TRY_AGAIN_LATER = 1013
#: Close code for a server-side failure.
WS_1011_INTERNAL_ERROR = 1011
SAMPLE_RATE = 16_000
#: Sockets one client address may hold open while they wait for `start` to bring their key.
MAX_PENDING_PER_CLIENT = 4


class Start(msgspec.Struct, frozen=True, kw_only=True, tag="start", tag_field="type"):
    """Open the session: the language (None: English for `.en` models, else detected)."""

    language: Language | None = None
    model: ModelName | None = None
    prompt: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    token: str | None = None
    """The API key, for clients that cannot send it with the upgrade request."""


class Stop(msgspec.Struct, frozen=True, kw_only=True, tag="stop", tag_field="type"):
    """No more audio: finish the last utterance and send `done`."""


class Ready(msgspec.Struct, frozen=True, kw_only=True, tag="ready", tag_field="type"):
    """The session is open: send audio in this format."""

    model: str
    sample_rate: int = SAMPLE_RATE
    max_frame_bytes: int = MAX_FRAME_BYTES


class Error(msgspec.Struct, frozen=True, kw_only=True, tag="error", tag_field="type"):
    """Something went wrong; `fatal` errors are followed by the socket closing."""

    code: str
    message: str
    fatal: bool = False


ClientMessage = Start | Stop
ServerMessage = Ready | Partial | Final | Stats | Error | Done

_DECODER = msgspec.json.Decoder(ClientMessage)
_ENCODER = msgspec.json.Encoder()
_CLOSE_CODE = {
    LiveCode.UNAUTHORIZED: WS_1008_POLICY_VIOLATION,
    LiveCode.RATE_LIMITED: WS_1013_TRY_AGAIN_LATER,
    LiveCode.BUSY: WS_1013_TRY_AGAIN_LATER,
    LiveCode.OVERLOADED: WS_1013_TRY_AGAIN_LATER,
    LiveCode.TIMEOUT: WS_1008_POLICY_VIOLATION,
}


class _Channel:
    """The socket's sending side, shared by two tasks (one message at a time)."""

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        self.socket = socket
        self._lock = anyio.Lock()

    async def send(self, message: ServerMessage) -> None:
        async with self._lock:
            await self.socket.send_text(_ENCODER.encode(message).decode())

    async def fail(self, code: str, message: str, *, close: int) -> None:
        """Send a fatal error and close the socket (unless the client has gone already)."""
        with contextlib.suppress(*_GONE):
            await self.send(Error(code=code, message=message, fatal=True))
            await self.socket.close(code=close, reason=code[:100])


@websocket("/api/transcribe/live", opt={PUBLIC: True})
async def live_transcription(socket: WebSocket[Any, Any, Any], api: Api) -> None:
    """Live transcription: see docs/live-protocol.md."""
    await socket.accept()
    channel = _Channel(socket)
    try:
        with _first_error():
            await _serve(channel, api)
    except _GONE:
        return  # the client left; its session (if any) has ended and freed its slot
    except LiveError as error:
        await channel.fail(error.code, error.message, close=_CLOSE_CODE.get(error.code, 1011))
    except AudiograbError as error:
        await channel.fail(error.code.value, error.message, close=WS_1011_INTERNAL_ERROR)
    except Exception:
        _log.exception("live session failed")
        await channel.fail(ErrorCode.INTERNAL.value, "internal error", close=WS_1011_INTERNAL_ERROR)


@contextlib.contextmanager
def _first_error() -> Iterator[None]:
    """Unwrap task groups' error groups, however nested (the session's group holds the
    socket's), so the error that ended the session is handled as itself: an `overloaded`
    two groups deep is still a 1013, not an internal error."""
    try:
        yield
    except ExceptionGroup as group:
        errors = _leaves(group)
        gone = [e for e in errors if isinstance(e, _GONE)]
        fatal = [e for e in errors if isinstance(e, LiveError | AudiograbError)]
        raise (gone or fatal or errors)[0] from None


def _leaves(group: BaseExceptionGroup[Exception]) -> list[Exception]:
    """The errors of a group and of the groups inside it, in order."""
    found: list[Exception] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            found.extend(_leaves(error))
        else:
            found.append(error)
    return found


async def _serve(channel: _Channel, api: Api) -> None:
    start = await _admitted_start(channel, api.doorkeeper)
    async with api.ag.live_session(
        language=start.language, model=start.model, prompt=start.prompt
    ) as session:
        await channel.send(Ready(model=session.model))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_forward, channel, session)
            await _receive_audio(channel, session)
        done = await session.done()
    await channel.send(done)
    await channel.socket.close(code=WS_1000_NORMAL_CLOSURE)


async def _admitted_start(channel: _Channel, doorkeeper: Doorkeeper) -> Start:
    """The client's `start`, once its key (from the upgrade request, else from `start`) has
    passed the same key check and rate limit as every other route, so keys cannot be guessed
    here any faster."""
    socket = channel.socket
    presented = presented_key(socket, query=True, cookie=True)
    if presented is not None:
        with _refusals():
            doorkeeper.admit(socket, presented)
        return await _start_in_time(channel)
    with _refusals():
        place = doorkeeper.wait_for_key(socket, most=MAX_PENDING_PER_CLIENT)
    with place:
        start = await _start_in_time(channel)
    with _refusals():
        doorkeeper.admit(socket, start.token)
    return start


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """The access check's refusals as the live protocol's fatal errors."""
    try:
        yield
    except ApiError as refused:
        limited = refused.code == ApiCode.RATE_LIMITED
        code = LiveCode.RATE_LIMITED if limited else LiveCode.UNAUTHORIZED
        raise LiveError(code, refused.message, fatal=True) from None


async def _start_in_time(channel: _Channel) -> Start:
    try:
        with anyio.fail_after(START_TIMEOUT):
            return await _wait_for_start(channel)
    except TimeoutError:
        raise LiveError(LiveCode.TIMEOUT, "no start message in time", fatal=True) from None


async def _wait_for_start(channel: _Channel) -> Start:
    """Read until a `start` arrives; anything else before it gets `invalid_message`."""
    while True:
        message = await _receive(channel.socket)
        if isinstance(message, Start):
            return message
        reason = message.message if isinstance(message, _Malformed) else "send start first"
        await _complain(channel, LiveCode.INVALID_MESSAGE, reason)


async def _receive_audio(channel: _Channel, session: LiveSession) -> None:
    """Feed frames to the session until `stop`; mistakes get an error and are skipped."""
    while True:
        message = await _receive(channel.socket)
        if isinstance(message, Stop):
            session.stop()
            return
        try:
            if isinstance(message, bytes):
                session.feed(message)
            elif isinstance(message, Start):
                raise LiveError(LiveCode.INVALID_MESSAGE, "the session has started already")
            else:
                raise LiveError(message.code, message.message)
        except LiveError as error:
            if error.fatal:
                raise
            await _complain(channel, error.code, error.message)


class _Malformed(msgspec.Struct, frozen=True):
    """A text message that is not a valid client message."""

    code: LiveCode
    message: str


async def _receive(socket: WebSocket[Any, Any, Any]) -> Start | Stop | bytes | _Malformed:
    """The next message: decoded JSON, raw audio, or what is wrong with it."""
    event: dict[str, Any] = dict(await socket.receive())
    if event["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(detail="disconnected", code=event.get("code", 1000))
    data = event.get("bytes")
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    text = event.get("text")
    try:
        message: Start | Stop = _DECODER.decode(text if isinstance(text, str) else "")
        return message
    except (msgspec.DecodeError, RecursionError) as exc:  # the latter: JSON nested too deep
        return _Malformed(code=LiveCode.INVALID_MESSAGE, message=f"not a valid message: {exc}")


async def _complain(channel: _Channel, code: str, message: str) -> None:
    await channel.send(Error(code=code, message=message))


async def _forward(channel: _Channel, session: LiveSession) -> None:
    """Send the session's events to the client until the session ends."""
    async with session.events() as events:
        async for event in events:
            await channel.send(event)
