"""The live-session hub: admits sessions up to capacity and gives each its engine and task.

Sessions share the process's whisper models (`ModelPool`) and the whisper capacity limiter
with file transcriptions, so live audio and jobs draw on one thread budget. One session past
`capacity` is refused with `busy` at once rather than queued: a live stream that waits is of
no use to anyone.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread

from audiograb.engines import whisper
from audiograb.engines.whisper.streaming import StreamingTranscriber, StreamOptions
from audiograb.pipeline.live.events import LiveCode, LiveError
from audiograb.pipeline.live.polish import Polisher
from audiograb.pipeline.live.session import MAX_LAG, LiveSession

__all__ = ["LiveHub"]


class LiveHub:
    """Opens live sessions; at most `capacity` at once."""

    def __init__(
        self,
        *,
        capacity: int,
        limiter: anyio.CapacityLimiter,
        models: whisper.ModelPool,
        policy: whisper.LanguagePolicy | None = None,
        polisher: Polisher | None = None,
        on_count: Callable[[int], None] | None = None,
        max_lag: float = MAX_LAG,
    ) -> None:
        self.capacity = capacity
        self._limiter = limiter
        self._models = models
        self._policy = policy or whisper.LanguagePolicy()
        self._polisher = polisher
        self._on_count = on_count
        self._max_lag = max_lag
        self._active = 0

    @property
    def active(self) -> int:
        """Sessions open now."""
        return self._active

    @asynccontextmanager
    async def session(
        self,
        *,
        language: str | None = None,
        model: str | None = None,
        prompt: str | None = None,
    ) -> AsyncIterator[LiveSession]:
        """Open a session; it ends, and its slot frees, when the block exits.

        Raises `LiveError(busy)` past capacity, and `AudiograbError` when the model cannot be
        found or does not speak `language`. Call `stop()` and `done()` for the transcript;
        leaving the block without them drops the audio not yet transcribed.
        """
        if self._active >= self.capacity:
            raise LiveError(
                LiveCode.BUSY,
                f"all {self.capacity} live sessions are in use; try again later",
                fatal=True,
            )
        self._count(+1)
        try:
            engine, name = await anyio.to_thread.run_sync(
                self._engine, StreamOptions(language=language, prompt=prompt), model
            )
            session = LiveSession(
                engine, self._limiter, model=name, polisher=self._polisher, max_lag=self._max_lag
            )
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(session.run)
                try:
                    yield session
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            self._count(-1)

    def _engine(
        self, options: StreamOptions, model: str | None
    ) -> tuple[StreamingTranscriber, str]:
        """Pick, resolve and load the model (once per process) and make the engine: in a
        thread. Another language than English gets a multilingual model unless one is named;
        naming an English-only one for it is refused with `unsupported_language`."""
        policy = self._policy
        installed = policy.installed()
        name = whisper.model_for_language(model, options.language, policy, installed)
        spec = whisper.resolve_model(name, cache_dir=policy.cache_dir)
        language = options.language
        if language is not None and language not in whisper.LANGUAGES:
            raise whisper.unknown_language(language)
        if language is not None and language not in whisper.languages_of(Path(spec.path)):
            raise whisper.refusal(spec.name, language, installed)
        return StreamingTranscriber(self._models.get(spec), options), spec.name

    def _count(self, change: int) -> None:
        self._active += change
        if self._on_count is not None:
            self._on_count(self._active)
