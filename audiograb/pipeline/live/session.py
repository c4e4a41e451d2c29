"""One live session: audio in, events out, the streaming engine driven off the event loop.

`feed` only queues the frame and wakes the session's task, which hands queued audio to the
engine's VAD in a worker thread and then asks for at most one decode at a time, under the
whisper limiter that the session shares with every other session and with file jobs. Finals
always go first; a partial is only asked for when the session has no audio waiting and no one
else waits for the limiter, so under load partials thin out and finals stay on time.
"""

import contextlib
from typing import Final as Constant

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors import run_in_thread
from audiograb.engines.whisper.streaming import Final, Partial, StreamEvent, StreamingTranscriber
from audiograb.engines.whisper.vad import SAMPLE_RATE
from audiograb.pipeline.live.events import Done, LiveCode, LiveError, LiveEvent, Stats
from audiograb.pipeline.live.polish import Polisher

__all__ = ["EVENT_BUFFER", "MAX_FRAME_BYTES", "MAX_LAG", "LiveSession"]

#: Events queued for the client; partials and stats beyond it are dropped, finals wait.
EVENT_BUFFER: Constant = 256
#: Largest audio frame accepted: one second of PCM16 at 16 kHz (frames should be 20-100 ms).
MAX_FRAME_BYTES: Constant = 2 * SAMPLE_RATE
#: Seconds of unsettled audio after which the session ends with `overloaded`.
MAX_LAG: Constant = 30.0
#: A partial is skipped when more than this much audio (seconds) waits for the VAD.
_PARTIAL_BACKLOG = 0.25
_STATS_EVERY = SAMPLE_RATE  # samples: one `stats` per second of audio


class LiveSession:
    """A live transcription: `feed` audio, read `events()`, `stop`, then `done()`.

    Made by `LiveHub.session`, which runs `run` in a task for as long as the session is open.
    """

    def __init__(
        self,
        engine: StreamingTranscriber,
        limiter: anyio.CapacityLimiter,
        *,
        model: str,
        polisher: Polisher | None = None,
        max_lag: float = MAX_LAG,
    ) -> None:
        self.model = model
        """The whisper model this session decodes with."""
        self._engine = engine
        self._limiter = limiter
        self._polisher = polisher
        self._max_lag = max_lag
        self._frames: list[bytes] = []
        self._received = 0
        """Samples fed so far (queued or accepted)."""
        self._next_stats = _STATS_EVERY
        self._skipped = 0
        self._stopping = False
        self._wake = anyio.Event()
        self._finished = anyio.Event()
        self._failure: Exception | None = None
        self._send: MemoryObjectSendStream[LiveEvent]
        self._receive: MemoryObjectReceiveStream[LiveEvent]
        self._send, self._receive = anyio.create_memory_object_stream[LiveEvent](EVENT_BUFFER)

    @property
    def lag(self) -> float:
        """Seconds of audio received but not yet settled (see `Stats.lag`)."""
        return (self._received - self._engine.settled) / SAMPLE_RATE

    def feed(self, pcm16: bytes) -> None:
        """Queue one frame of mono 16-bit little-endian PCM at 16 kHz; never blocks.

        A frame that is empty, of odd length or longer than a second raises `invalid_frame`;
        audio after `stop` raises `invalid_message`; a session too far behind to catch up
        raises a fatal `overloaded`.
        """
        if self._stopping:
            raise LiveError(LiveCode.INVALID_MESSAGE, "the session is stopping: no more audio")
        if not pcm16 or len(pcm16) % 2 or len(pcm16) > MAX_FRAME_BYTES:
            raise LiveError(
                LiveCode.INVALID_FRAME,
                f"a frame must be 16-bit PCM of at most {MAX_FRAME_BYTES} bytes "
                f"(got {len(pcm16)} bytes)",
            )
        if self.lag > self._max_lag:
            raise LiveError(
                LiveCode.OVERLOADED,
                f"the server is {self.lag:.0f} s behind this stream and cannot catch up",
                fatal=True,
            )
        self._frames.append(pcm16)
        self._received += len(pcm16) // 2
        self._wake.set()

    def stop(self) -> None:
        """No more audio: finish the last utterance, then end `events()`."""
        self._stopping = True
        self._wake.set()

    def events(self) -> MemoryObjectReceiveStream[LiveEvent]:
        """Partials, finals and stats as they come; ends once the session has finished."""
        return self._receive

    async def done(self) -> Done:
        """Wait for the session to finish; the whole transcript, polished if configured.

        Raises what ended the session early. A failed polish is no failure of the session:
        the raw text comes back with `polish_error` saying why.
        """
        await self._finished.wait()
        if self._failure is not None:
            raise self._failure
        text = self._engine.text
        if self._polisher is None or not text:
            return Done(text=text)
        try:
            return Done(text=text, polished=await self._polisher.polish(text))
        except LiveError as error:
            return Done(text=text, polish_error=error.message)

    async def run(self) -> None:
        """The session's task: VAD and decodes in worker threads until stopped and drained."""
        try:
            async with self._send:
                await self._serve()
        except Exception as exc:  # reported through `done`, the session is over either way
            self._failure = exc
        finally:
            self._finished.set()

    async def _serve(self) -> None:
        while True:
            if self._frames:
                await self._accept()
            elif self._engine.final_due or (self._engine.partial_due and self._may_partial()):
                await self._emit(await self._decode(allow_partial=self._may_partial()))
            elif self._stopping:
                break
            else:
                if self._engine.partial_due:
                    self._skipped += 1
                await self._wake.wait()
                self._wake = anyio.Event()
        await self._emit(
            await run_in_thread(lambda _token: self._engine.finish(), limiter=self._limiter)
        )
        self._publish(self._stats())

    async def _decode(self, *, allow_partial: bool) -> list[StreamEvent]:
        """One engine step under the shared whisper limiter."""
        return await run_in_thread(
            lambda _token: self._engine.step(allow_partial=allow_partial), limiter=self._limiter
        )

    async def _accept(self) -> None:
        audio = b"".join(self._frames)
        self._frames.clear()
        await anyio.to_thread.run_sync(self._engine.accept, audio)
        if self._engine.received >= self._next_stats:
            self._next_stats = self._engine.received + _STATS_EVERY
            self._publish(self._stats())

    def _may_partial(self) -> bool:
        """Partials only when nothing more urgent waits: not our audio, not another decode."""
        backlog = (self._received - self._engine.received) / SAMPLE_RATE
        return (
            not self._stopping
            and not self._engine.final_due
            and backlog < _PARTIAL_BACKLOG
            and self._limiter.statistics().tasks_waiting == 0
        )

    def _stats(self) -> Stats:
        return Stats(
            lag=round(max(0.0, self.lag), 3),
            audio=round(self._received / SAMPLE_RATE, 3),
            partials_skipped=self._skipped,
        )

    async def _emit(self, events: list[StreamEvent]) -> None:
        for event in events:
            if isinstance(event, Final):
                await self._send.send(event)  # never dropped: waits for a slow client
            else:
                self._publish(event)

    def _publish(self, event: Partial | Stats) -> None:
        """Send a partial or stats if there is room; a slow client misses some."""
        with contextlib.suppress(anyio.WouldBlock):
            self._send.send_nowait(event)
