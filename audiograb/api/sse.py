"""Server-sent events: job events as `text/event-stream`, with keepalives and a clean shutdown.

Each frame is `id: N`, `event: <type tag>`, `data: <the event as JSON>`, encoded once per event
however many streams send it (`FrameCache`). Inside its `send_body` a response sends each frame
from the task that reads the feed, beside a task that writes a comment line (`: keepalive`)
whenever nothing was sent for `keepalive` seconds, so proxies and clients keep idle streams
open (Litestar has no keepalive of its own), and a watcher that stops everything when the
client disconnects. When a client reads slowly, sending waits, the pipeline's topic marks the
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
from litestar.response.base import ASGIResponse
from litestar.types import HTTPResponseBodyEvent, Receive, Send

from audiograb.domain import JobCompleted, JobEvent, encode_event

__all__ = ["EventStreamResponse", "FrameCache", "StreamCloser", "sse_frame"]

_log = logging.getLogger(__name__)

#: Encoded frames kept for the streams that send the same event (oldest forgotten first).
FRAME_CACHE = 4096

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


class FrameCache:
    """Each event's frame, encoded once for all the streams that send it.

    Five hundred clients following one job would otherwise encode every event five hundred
    times. Keyed by the event's place in the log of all jobs and the `id:` the frame carries
    (a job's stream numbers its events by `seq`, the stream of all jobs by log id).
    """

    def __init__(self, size: int = FRAME_CACHE) -> None:
        self._size = size
        self._frames: dict[tuple[int, int], bytes] = {}

    def frame(self, log_id: int, frame_id: int, event: JobEvent) -> bytes:
        """The frame of `event` (stored as `log_id`) with `frame_id` as its `id:` line."""
        key = (log_id, frame_id)
        frame = self._frames.get(key)
        if frame is None:
            frame = self._frames[key] = sse_frame(frame_id, event)
            if len(self._frames) > self._size:
                del self._frames[next(iter(self._frames))]  # dicts keep insertion order
        return frame


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
        sender = _Sender(send)
        await sender.send(_RETRY)
        with self._closer.watch() as closing:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_cancel_on_disconnect, receive, tasks.cancel_scope)
                tasks.start_soon(sender.keep_alive, self._keepalive)
                with CancelScope() as producing:
                    tasks.start_soon(_cancel_when_set, closing, producing)
                    await _pump(self._frames, sender)
                await sender.send(b"", more=False)  # ended or closed: finish politely
                tasks.cancel_scope.cancel()


class _Sender:
    """Writes one stream's body: frames as the feed yields them, and keepalives when idle.

    The feed's task sends each frame itself (no hand-over to another task: with hundreds of
    streams, every task switch per event adds up); a lock keeps a keepalive from interleaving.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = anyio.Lock(fast_acquire=True)
        self._last = anyio.current_time()

    async def send(self, data: bytes, *, more: bool = True) -> None:
        async with self._lock:
            await self._send(_body(data, more=more))
            self._last = anyio.current_time()

    async def keep_alive(self, every: float) -> None:
        """Send a comment whenever nothing was sent for `every` seconds."""
        while True:
            await anyio.sleep_until(self._last + every)
            if anyio.current_time() - self._last >= every:
                await self.send(_KEEPALIVE)


async def _pump(frames: AsyncGenerator[bytes, None], sender: _Sender) -> None:
    """Send each frame as it comes; a failing feed ends the stream (logged), not the server."""
    async with contextlib.aclosing(frames):
        try:
            async for frame in frames:
                await sender.send(frame)
        except Exception:
            _log.exception("event stream failed; ending it")


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
