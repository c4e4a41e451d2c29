"""The downloader, converter and transcriber actors: each runs its engine in worker threads.

A stage takes a `Start…` command, runs the work in a task of its own (so one actor serves many
jobs at once, up to its capacity limiter) and answers on the command's reply. Cancelling is
cooperative: the job sets the command's `cancel` event and the engine stops at its next check.
"""

from abc import abstractmethod
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import anyio
import msgspec

from actors import Actor, Reply, run_in_thread
from audiograb.domain import AudiograbError, ErrorCode, Transcript
from audiograb.engines import ffmpeg, whisper, ytdlp
from audiograb.pipeline import resolving
from audiograb.pipeline.messages import (
    Converted,
    StartConversion,
    StartDownload,
    StartTranscription,
)

T = TypeVar("T")


class _Command(Protocol):
    """A stage command: whatever it asks, it carries the reply to answer on."""

    @property
    def reply(self) -> Reply[Any]: ...


C = TypeVar("C", bound=_Command)


class StageActor(Actor[C], Generic[C, T]):
    """Runs `work(command)` in a worker thread under the stage's limiter, then replies."""

    def __init__(self, limiter: anyio.CapacityLimiter) -> None:
        self._limiter = limiter

    async def receive(self, msg: C) -> None:
        self.context.start_soon(self._serve, msg)

    async def _serve(self, msg: C) -> None:
        try:
            result = await run_in_thread(lambda _token: self.work(msg), limiter=self._limiter)
        except Exception as error:  # typed or not, the error belongs to the job that asked
            msg.reply.set_exception(error)
        else:
            msg.reply.set_result(result)
        finally:
            # Cancelled (the service is stopping): the asker still gets an answer, at once,
            # instead of waiting out its deadline for one that will never come.
            msg.reply.set_exception(AudiograbError(ErrorCode.CANCELLED, "the service stopped"))

    @abstractmethod
    def work(self, msg: C) -> T:
        """The blocking work, run in a worker thread."""


class Downloader(StageActor[StartDownload, ytdlp.DownloadResult]):
    """Resolves the link when its platform needs it, then fetches media with yt-dlp.

    With a preparation: the platform's resolver names the media URL and the metadata, which
    win over what yt-dlp's generic extractor finds there; X cookies go to a private cookies
    file; after the download the cover picture is fetched into the work folder.
    """

    def work(self, msg: StartDownload) -> ytdlp.DownloadResult:
        prep = msg.preparation
        if prep is None:
            return _titled_by_its_tags(
                ytdlp.download(msg.url, msg.options, on_progress=msg.on_progress, cancel=msg.cancel)
            )
        url, options = msg.url, prep.with_cookies(msg.options)
        resolved = prep.resolve(options)
        if resolved is not None:
            url = resolved.media_url
            options = msgspec.structs.replace(options, extra_params=resolved.ytdlp_params)
        result = _titled_by_its_tags(
            ytdlp.download(url, options, on_progress=msg.on_progress, cancel=msg.cancel)
        )
        media = resolving.merge_media(result.media, resolved)
        prep.fetch_cover(media, options.work_dir)
        return msgspec.structs.replace(result, media=media)


def _titled_by_its_tags(result: ytdlp.DownloadResult) -> ytdlp.DownloadResult:
    """A direct media link: the file's own title tag (ID3, Vorbis comment, MP4 atom) beats the
    file name, all that yt-dlp's generic extractor knows ("libri" for "Libri MP3")."""
    if (result.media.extractor or "").lower() != "generic":
        return result
    try:
        found = ffmpeg.probe(result.path)
    except AudiograbError:  # not media: the conversion says so
        return result
    tags = {key.lower(): value for key, value in {**found.audio_tags, **found.tags}.items()}
    title = tags.get("title", "").strip()
    if not title:
        return result
    return msgspec.structs.replace(result, media=msgspec.structs.replace(result.media, title=title))


class Converter(StageActor[StartConversion, Converted]):
    """Converts with FFmpeg, copying streams instead of re-encoding whenever they fit."""

    def __init__(self, limiter: anyio.CapacityLimiter, ffmpeg_path: str | None) -> None:
        super().__init__(limiter)
        self._ffmpeg_path = ffmpeg_path

    def work(self, msg: StartConversion) -> Converted:
        binary = ffmpeg.find_ffmpeg(self._ffmpeg_path)
        source = ffmpeg.probe(msg.source)
        plan = ffmpeg.plan_conversion(
            source,
            format=msg.format,
            quality=msg.quality,
            media=msg.media,
            tags=msg.tags,
            video_encoder=ffmpeg.video_encoder_for(binary),
            cover=_probe_cover(msg.cover),
        )
        msg.dest.parent.mkdir(parents=True, exist_ok=True)
        ffmpeg.convert(
            msg.source,
            msg.dest,
            plan,
            ffmpeg=binary,
            duration=source.duration,
            on_progress=msg.on_progress,
            cancel=msg.cancel,
            cover=msg.cover,
        )
        result = ffmpeg.probe(msg.dest)
        return Converted(
            path=msg.dest,
            size_bytes=msg.dest.stat().st_size,
            duration=result.duration,
            stream_copy=plan.stream_copy,
        )


def _probe_cover(cover: Path | None) -> ffmpeg.MediaProbe | None:
    """The cover picture's probe; an unreadable picture is dropped, not an error."""
    if cover is None:
        return None
    try:
        return ffmpeg.probe(cover)
    except AudiograbError:
        return None


class Transcriber(StageActor[StartTranscription, Transcript]):
    """Runs faster-whisper; each model is loaded once and shared by every job that uses it.

    The model follows the language (`whisper.pick_model`); audio of `batch_from` seconds or
    more is decoded `batch_size` VAD-cut chunks at a time.
    """

    def __init__(
        self,
        limiter: anyio.CapacityLimiter,
        models: whisper.ModelPool,
        policy: whisper.LanguagePolicy,
        *,
        batch_size: int = 1,
        batch_from: float = 60.0,
    ) -> None:
        super().__init__(limiter)
        self._models = models
        self._policy = policy
        self._batch_size = batch_size
        self._batch_from = batch_from

    def work(self, msg: StartTranscription) -> Transcript:
        options = msg.options
        if msg.cancel.is_set():
            raise AudiograbError(ErrorCode.CANCELLED, "transcription cancelled")
        audio = whisper.decode(msg.source)
        ahead = audio[round(msg.start_at * whisper.SAMPLE_RATE) :]
        picked = whisper.pick_model(options, ahead, policy=self._policy, pool=self._models)
        long_audio = len(ahead) >= self._batch_from * whisper.SAMPLE_RATE
        return whisper.transcribe_file(
            self._models.get(picked.spec),
            msg.source,
            msgspec.structs.replace(options, language=picked.language),
            start_at=msg.start_at,
            first_index=msg.first_index,
            on_segment=msg.on_segment,
            cancel=msg.cancel,
            model_name=picked.spec.name,
            audio=audio,
            language_probability=picked.probability,
            batch_size=self._batch_size if long_audio else 1,
        )
