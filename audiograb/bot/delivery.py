"""Sending results: a job's file as audio, video or document, and transcripts as text or files.

mp3 and m4a (and AAC) go out as audio, which Telegram plays with its title, performer and
length; video as streamable video; anything else as a document.
"""

from collections.abc import AsyncGenerator
from pathlib import PurePath

from aiogram import Bot
from aiogram.types import BufferedInputFile, InputFile, Message

from audiograb.bot.filecache import CachedFile, SentAs
from audiograb.domain import AudioFormat, Job, MediaKind
from audiograb.domain.transcript import Transcript, TranscriptFormat, render
from audiograb.storage import OutputFiles

__all__ = [
    "TEXT_LIMIT",
    "OutputUpload",
    "send_cached",
    "send_output",
    "send_transcript",
    "sent_as",
]

#: Longest transcript sent as a message (Telegram allows 4096 characters).
TEXT_LIMIT = 4000
_AUDIO_FORMATS = frozenset({AudioFormat.MP3, AudioFormat.M4A, AudioFormat.AAC, AudioFormat.MP4})


def sent_as(job: Job) -> SentAs:
    """How a job's file goes out: a video job whose source turned out to be sound only goes
    out as audio, not as a "video" without a picture."""
    sound_only = job.media is not None and job.media.has_video is False
    if job.request.media is MediaKind.VIDEO and not sound_only:
        return SentAs.VIDEO
    return SentAs.AUDIO if job.request.format in _AUDIO_FORMATS else SentAs.DOCUMENT


class OutputUpload(InputFile):
    """A job's finished file streamed to Telegram from where it lives (`OutputFiles`): this
    node's output folder, or the object store shared by every node."""

    def __init__(self, outputs: OutputFiles, job: Job) -> None:
        super().__init__(filename=PurePath(job.output_path or job.id).name)
        self._outputs = outputs
        self._job = job

    async def read(self, bot: Bot) -> AsyncGenerator[bytes, None]:
        """The whole file, chunk by chunk, as aiogram's multipart writer asks for it."""
        size, etag = await self._outputs.info(self._job)
        async for chunk in self._outputs.read(self._job, 0, size, etag):
            yield chunk


async def send_output(
    bot: Bot,
    chat_id: int,
    job: Job,
    duration: float | None,
    outputs: OutputFiles,
    thumbnail: bytes | None = None,
) -> CachedFile:
    """Upload the job's finished file (with its cover as thumbnail); returns its file id."""
    upload = OutputUpload(outputs, job)
    thumb = BufferedInputFile(thumbnail, filename="cover.jpg") if thumbnail else None
    media = job.media
    title = media.title if media else None
    seconds = round(duration) if duration else None
    kind = sent_as(job)
    message: Message
    if kind is SentAs.VIDEO:
        message = await bot.send_video(
            chat_id,
            upload,
            duration=seconds,
            caption=title,
            supports_streaming=True,
            thumbnail=thumb,
        )
        file_id = message.video.file_id if message.video else None
    elif kind is SentAs.AUDIO:
        performer = media.uploader if media else None
        message = await bot.send_audio(
            chat_id, upload, title=title, performer=performer, duration=seconds, thumbnail=thumb
        )
        file_id = message.audio.file_id if message.audio else None
    else:
        message = await bot.send_document(chat_id, upload, caption=title)
        file_id = message.document.file_id if message.document else None
    if file_id is None:
        raise ValueError(f"Telegram's answer to a {kind} upload carries no file")
    return CachedFile(sent_as=kind, file_id=file_id)


async def send_cached(bot: Bot, chat_id: int, cached: CachedFile) -> None:
    """Send a file Telegram already has, by its file id."""
    match cached.sent_as:
        case SentAs.VIDEO:
            await bot.send_video(chat_id, cached.file_id)
        case SentAs.AUDIO:
            await bot.send_audio(chat_id, cached.file_id)
        case SentAs.DOCUMENT:
            await bot.send_document(chat_id, cached.file_id)


async def send_transcript(bot: Bot, chat_id: int, transcript: Transcript, name: str) -> None:
    """A short transcript as a message; a long one as .txt and .srt files named after `name`."""
    text = render(transcript, TranscriptFormat.TXT).strip()
    if not text:
        await bot.send_message(chat_id, "📝 No speech found.")
    elif len(text) <= TEXT_LIMIT:
        await bot.send_message(chat_id, text)
    else:
        for fmt in (TranscriptFormat.TXT, TranscriptFormat.SRT):
            data = render(transcript, fmt).encode()
            await bot.send_document(chat_id, BufferedInputFile(data, filename=f"{name}.{fmt}"))
