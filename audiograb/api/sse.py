"""Server-sent events: job events as `text/event-stream`, with keepalives and a clean shutdown.

Each frame is `id: N`, `event: <type tag>`, `data: <the event as JSON>`. A response runs two
tasks of its own inside its `send_body`: a producer that turns the feed into frames, and a
watcher that stops everything when the client disconnects. The sending loop writes a comment
line (`: keepalive`) whenever nothing was sent for `keepalive` seconds, so proxies and clients
keep idle streams open (Litestar has no keepalive of its own). The frames pass through a small
bounded buffer: when a client reads slowly, the producer waits, the pipeline's topic marks the
subscription lagged, and the feed resyncs from the store. A slow client never slows a job.

`StreamCloser.close()` ends every open stream politely (its final body chunk sent), which is how
a server shutting down gets its long-lived connections to finish.
"""

import contextlib
import logging
from collections.abc import AsyncGenerator, Iterator
from pathlib import PurePath
from typing import Any, ClassVar

import anyio
import msgspec
from anyio import CancelScope
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from litestar.response.base import ASGIResponse
from litestar.types import HTTPResponseBodyEvent, Receive, Send

from audiograb.domain import JobCompleted, JobEvent, encode_event

__all__ = ["EventStreamResponse", "StreamCloser", "sse_frame"]

_log = logging.getLogger(__name__)

#: Frames buffered between a stream's producer and its sender.
FRAME_BUFFER = 64
#: Frames joined into one body chunk when several are waiting.
FRAMES_PER_CHUNK = 32

_KEEPALIVE = b": keepalive\n\n"
_RETRY = b"retry: 3000\n\n"


def sse_frame(event_id: int, event: JobEvent) -> bytes:
    """One SSE frame for `event`, with `event_id` as its `id:` line.

    A finished job's `output_path` goes out as the file's name alone: the server's folders
    stay on the server, as in every other answer (the file itself is at the job's file URL).
    """
    if isinstance(event, JobCompleted):
        event = msgspec.structs.replace(event, output_path=PurePath(event.output_path).name)
    tag = type(event).__struct_config__.tag
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, str(tag).encode(), encode_event(event))


class StreamCloser:
    """Tells every open event stream of one app to finish (server shutdown)."""

    def __init__(self) -> None:
        self._events: set[anyio.Event] = set()
        self.closed = False

    @contextlib.contextmanager
    def watch(self) -> Iterator[anyio.Event]:
        """An event set when the streams should end (already set once closed)."""
        event = anyio.Event()
        if self.closed:
            event.set()
        self._events.add(event)
        try:
            yield event
        finally:
            self._events.discard(event)

    def close(self) -> None:
        """End every open stream and every stream opened from now on."""
        self.closed = True
        for event in tuple(self._events):
            event.set()


class EventStreamResponse(ASGIResponse):
    """A `text/event-stream` response fed by an async generator of ready-made frames."""

    _should_set_content_length: ClassVar[bool] = False

    def __init__(
        self,
        frames: AsyncGenerator[bytes, None] | None,
        *,
        keepalive: float,
        closer: StreamCloser,
    ) -> None:
        """`frames=None` answers 204 No Content, which tells `EventSource` not to reconnect."""
        super().__init__(
            status_code=200 if frames is not None else 204,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._frames = frames
        self._keepalive = keepalive
        self._closer = closer

    async def send_body(self, send: Send, receive: Receive) -> None:
        """Stream frames until the feed ends, the client leaves or the server shuts down."""
        if self._frames is None:
            await send(_body(b"", more=False))
            return
        tx, rx = anyio.create_memory_object_stream[bytes](FRAME_BUFFER)
        with self._closer.watch() as closing:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._produce, self._frames, tx, closing)
                tasks.start_soon(_cancel_on_disconnect, receive, tasks.cancel_scope)
                await self._deliver(send, rx)
                tasks.cancel_scope.cancel()

    async def _produce(
        self,
        frames: AsyncGenerator[bytes, None],
        tx: MemoryObjectSendStream[bytes],
        closing: anyio.Event,
    ) -> None:
        async with tx, contextlib.aclosing(frames), anyio.create_task_group() as tasks:
            tasks.start_soon(_cancel_when_set, closing, tasks.cancel_scope)
            try:
                async for frame in frames:
                    await tx.send(frame)
            except Exception:
                _log.exception("event stream failed; ending it")
            tasks.cancel_scope.cancel()

    async def _deliver(self, send: Send, rx: MemoryObjectReceiveStream[bytes]) -> None:
        await send(_body(_RETRY))
        async with rx:
            while True:
                chunk = _KEEPALIVE
                with anyio.move_on_after(self._keepalive):
                    try:
                        chunk = b"".join(_drain(await rx.receive(), rx))
                    except anyio.EndOfStream:
                        break
                await send(_body(chunk))
        await send(_body(b"", more=False))


def _drain(first: bytes, rx: MemoryObjectReceiveStream[bytes]) -> Iterator[bytes]:
    """`first` and whatever else is already waiting, up to `FRAMES_PER_CHUNK` frames."""
    yield first
    for _ in range(FRAMES_PER_CHUNK - 1):
        try:
            yield rx.receive_nowait()
        except (anyio.WouldBlock, anyio.EndOfStream):
            return


def _body(data: bytes, *, more: bool = True) -> HTTPResponseBodyEvent:
    return {"type": "http.response.body", "body": data, "more_body": more}


async def _cancel_on_disconnect(receive: Receive, scope: CancelScope) -> None:
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


async def _cancel_when_set(event: anyio.Event, scope: CancelScope) -> None:
    await event.wait()
    scope.cancel()
