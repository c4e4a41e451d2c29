"""Following one job from the chat: its progress message, then its file or transcript.

One follower task per job runs in the bot service's task group. It renders every event into
the progress message through the editor (which coalesces them), and when the job ends sends
the result, caching the uploaded file's id, or says why there is none: whatever goes wrong
while sending, the message never stays at "sending…". Once the user asked to stop the job,
the message reads "Cancelling…" until it has ended.
"""

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import anyio
from aiogram.exceptions import TelegramAPIError, TelegramEntityTooLarge, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup

from audiograb.bot import texts
from audiograb.bot.context import BotContext
from audiograb.bot.delivery import send_output, send_transcript
from audiograb.bot.keyboards import stop_button
from audiograb.domain import (
    AudiograbError,
    ConversionProgressed,
    DownloadProgressed,
    Job,
    JobCancelled,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobState,
    JobStateChanged,
    MediaResolved,
    TranscriptSegmentAdded,
)

__all__ = ["Watch", "follow"]

logger = logging.getLogger(__name__)

#: Seconds a finished follower waits for its last edit to go out.
SETTLE_DEADLINE = 10.0
_UNSAFE_NAME = re.compile(r"[^\w .()-]+")


@dataclass(frozen=True, slots=True)
class Watch:
    """A job started from a chat, and the message that shows its progress."""

    job: Job
    user_id: int
    chat_id: int
    message_id: int
    platform: str
    title: str
    cache_key: str | None
    """Where the uploaded file's id is cached; None for transcripts."""
    scratch_file: Path | None = None
    """A file the bot downloaded for this job (a voice message), removed when it ends."""


async def follow(ctx: BotContext, watch: Watch) -> None:
    """Show the job's progress until it ends, then deliver; always frees the user's slot."""
    job_id = watch.job.id
    title = watch.title
    status = texts.state_line(JobState.QUEUED)
    stop = stop_button(job_id)

    def show(line: str, markup: InlineKeyboardMarkup | None = None) -> None:
        ctx.editor.show(
            watch.chat_id, watch.message_id, f"{watch.platform} · {title}\n{line}", markup
        )

    def progress(line: str) -> None:
        if ctx.stopping.asked(job_id):  # the cancel button was pressed: no second press
            show(texts.CANCELLING)
        else:
            show(line, stop)

    ctx.stopping.follow(job_id, lambda: show(texts.CANCELLING))
    try:
        progress(status)
        async with ctx.ag.subscribe(job_id) as events:
            async for recorded in events:
                event = recorded.event
                if isinstance(event, MediaResolved) and event.media.title:
                    title = event.media.title
                if isinstance(event, JobCompleted):
                    show(texts.state_line(JobState.COMPLETED) + " · sending…")
                    show(await _deliver(ctx, watch, event) + texts.gaps_note(event.gaps))
                elif isinstance(event, JobFailed):
                    show(texts.error_text(event.error))
                elif isinstance(event, JobCancelled):
                    show(texts.state_line(JobState.CANCELLED))
                elif (line := _progress_line(event)) is not None:
                    progress(line)
    except AudiograbError as error:
        show(texts.error_text(error.to_job_error()))
    finally:
        ctx.stopping.forget(job_id)
        ctx.jobs.release(watch.user_id, job_id)
        if watch.scratch_file is not None:
            watch.scratch_file.unlink(missing_ok=True)
        with anyio.CancelScope(shield=True), anyio.move_on_after(SETTLE_DEADLINE):
            await ctx.editor.settle(watch.chat_id, watch.message_id)


def _progress_line(event: JobEvent) -> str | None:
    if isinstance(event, DownloadProgressed):
        return texts.download_line(event.progress)
    if isinstance(event, ConversionProgressed):
        return texts.conversion_line(event.progress)
    if isinstance(event, TranscriptSegmentAdded):
        return texts.transcription_line(event.percent)
    if isinstance(event, JobStateChanged):
        return texts.state_line(event.state)
    return None


async def _deliver(ctx: BotContext, watch: Watch, completed: JobCompleted) -> str:
    """Send the job's result; returns the progress message's final line."""
    job = await ctx.ag.get(watch.job.id)
    done = texts.state_line(JobState.COMPLETED)
    limit = ctx.limits.upload_bytes
    try:
        if job.request.transcribe:
            title = job.media.title if job.media and job.media.title else watch.title
            name = _UNSAFE_NAME.sub("_", title)[:60] or job.id
            await send_transcript(ctx.bot, watch.chat_id, await ctx.ag.transcript(job.id), name)
            return done
        if completed.size_bytes > limit:
            return texts.too_large(completed.size_bytes, limit, ctx.file_link(job.id))
        thumbnail = await ctx.ag.thumbnail(job.id)
        cached = await send_output(
            ctx.bot, watch.chat_id, job, completed.duration, ctx.ag.outputs, thumbnail
        )
    except TelegramEntityTooLarge:
        return texts.too_large(completed.size_bytes, limit, ctx.file_link(job.id))
    except TelegramRetryAfter as error:  # still flooded after the flood control's retries
        logger.warning("job %s: Telegram kept asking to wait (%s s)", job.id, error.retry_after)
        return texts.not_sent(texts.FLOODED, ctx.file_link(job.id))
    except TelegramAPIError as error:
        logger.warning("job %s: sending the result failed: %s", job.id, error.message)
        return texts.not_sent(f"Telegram refused it: {error.message}", ctx.file_link(job.id))
    except AudiograbError as error:  # the transcript or the file could not be read
        return texts.error_text(error.to_job_error())
    except Exception:  # a proxy's error page, a file removed meanwhile: say so, never hang
        logger.exception("job %s: sending the result failed", job.id)
        return texts.not_sent(None, ctx.file_link(job.id))
    if watch.cache_key is not None:
        await ctx.files.put(watch.cache_key, cached)
    return done
