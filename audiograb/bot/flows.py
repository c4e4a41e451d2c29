"""What the bot does for each kind of message: the handlers' logic, behind thin aiogram glue.

A link gets a keyboard; a pressed button (or /transcribe URL) starts a job whose follower
runs in the background; voice messages are transcribed; /status and /cancel act on the
user's own jobs only. Voice messages become transcription jobs on the downloaded file.
"""

import contextlib
import logging
import secrets

import anyio
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message

from audiograb.bot import texts
from audiograb.bot.context import BotContext
from audiograb.bot.delivery import send_cached
from audiograb.bot.filecache import cache_key
from audiograb.bot.follow import Watch, follow
from audiograb.bot.incoming import Incoming, incoming
from audiograb.bot.keyboards import Option, Pick, Stop, choices
from audiograb.bot.limits import estimate_size
from audiograb.bot.links import Link, Unclaimed, find_url, look_up, with_scheme
from audiograb.domain import AudiograbError, Job, JobRequest, JobState, Quality

__all__ = [
    "on_cancel",
    "on_help",
    "on_link",
    "on_other",
    "on_pick",
    "on_platforms",
    "on_status",
    "on_stop",
    "on_transcribe",
    "on_voice",
]

logger = logging.getLogger(__name__)

_QUALITY = Quality.HIGH


async def on_help(message: Message) -> None:
    """/start and /help."""
    await message.answer(texts.HELP)


async def on_platforms(message: Message, ctx: BotContext) -> None:
    """/platforms: every site, and whether it works yet."""
    lines = [f"• {p.name}" + ("" if p.available else " (coming later)") for p in ctx.ag.platforms()]
    await message.answer("I can grab from:\n" + "\n".join(lines))


async def on_other(message: Message) -> None:
    """Anything else in a private chat (a photo, a sticker, a PDF): say what the bot takes."""
    await message.answer(texts.NOT_A_LINK)


async def on_link(message: Message, ctx: BotContext) -> None:
    """A message with a link: say what it is and offer the outputs."""
    url = find_url(message)
    if url is None or message.from_user is None:
        if message.chat.type == "private":  # in groups, chatter is none of our business
            await message.answer(texts.NOT_A_LINK)
        return
    try:
        link = await look_up(ctx.ag, url)
    except AudiograbError as error:
        await message.answer(texts.error_text(error.to_job_error()))
        return
    options = [Option.M4A, Option.MP3]
    if link.has_video:  # never a "video" of sound only
        options.append(Option.MP4)
    options.append(Option.TRANSCRIPT)
    token = ctx.links.add(message.from_user.id, link)
    await message.answer(_describe(link), reply_markup=choices(token, tuple(options)))


def _describe(link: Link) -> str:
    lines = [f"{link.platform} · {link.title}"]
    if link.media and link.media.duration:
        minutes, seconds = divmod(round(link.media.duration), 60)
        lines.append(f"Length {minutes}:{seconds:02d}")
    lines.append("What would you like?")
    return "\n".join(lines)


async def on_pick(query: CallbackQuery, callback_data: Pick, ctx: BotContext) -> None:
    """A button under a link: start the job in that message (once, however often it is hit)."""
    token = callback_data.token
    message = query.message
    if not isinstance(message, Message):  # too old for Telegram to show it to us
        await query.answer(texts.unclaimed(Unclaimed.EXPIRED), show_alert=True)
        return
    claimed = ctx.links.claim(token, query.from_user.id)
    if isinstance(claimed, Unclaimed):
        await query.answer(texts.unclaimed(claimed), show_alert=claimed is not Unclaimed.BUSY)
        return
    outcome: Job | str | None = None
    try:
        outcome = await _start(ctx, query.from_user.id, message.chat.id, message.message_id,
                               claimed, callback_data.option)  # fmt: skip
    finally:
        if not isinstance(outcome, Job):  # a started job keeps it: its message is now progress
            ctx.links.release(token)
    refusal = outcome if isinstance(outcome, str) else None
    await query.answer(refusal, show_alert=refusal is not None)


async def on_transcribe(message: Message, command: CommandObject, ctx: BotContext) -> None:
    """/transcribe URL, or /transcribe in reply to media or a link.

    The reply is how groups use it: there the bot sees commands, not the voice messages
    people send each other (Telegram's privacy mode).
    """
    if message.from_user is None:
        return
    url = with_scheme(command.args.strip()) if command.args else ""
    reply = message.reply_to_message
    if not url and reply is not None:
        media = incoming(reply)
        if media is not None:
            await _transcribe_media(ctx, reply, media, message.from_user.id)
            return
        url = find_url(reply) or ""
    if not url:
        await message.answer(texts.TRANSCRIBE_USAGE)
        return
    try:
        link = await look_up(ctx.ag, url)
    except AudiograbError as error:
        await message.answer(texts.error_text(error.to_job_error()))
        return
    outcome = await _start(
        ctx, message.from_user.id, message.chat.id, None, link, Option.TRANSCRIPT
    )
    if isinstance(outcome, str):
        await message.answer(outcome)


async def _start(
    ctx: BotContext, user_id: int, chat_id: int, message_id: int | None, link: Link, option: Option
) -> Job | str | None:
    """Start the job for `option`, or resend a cached file.

    Returns the job started, why nothing was started, or None when the cache answered.
    """
    transcript = option is Option.TRANSCRIPT
    key = cache_key(link.url, option.value, _QUALITY.value)
    cached = None if transcript else ctx.files.get(key)
    if cached is not None:
        try:
            await send_cached(ctx.bot, chat_id, cached)
            return None
        except TelegramBadRequest:  # Telegram forgot the file: upload it again
            await ctx.files.drop(key)
    request = option.request(link.url, _QUALITY)
    estimate = estimate_size(link.media, request.media, _QUALITY) if link.media else None
    if not transcript and estimate is not None and estimate > ctx.limits.upload_bytes:
        return texts.too_large(estimate, ctx.limits.upload_bytes, None)
    if not ctx.jobs.reserve(user_id):
        return f"You already have {ctx.limits.jobs_per_user} jobs running; wait or /cancel one."
    try:
        job = await ctx.ag.submit(request)
        if message_id is None:
            message_id = (await ctx.bot.send_message(chat_id, link.title)).message_id
    except AudiograbError as error:
        ctx.jobs.release(user_id)
        return texts.error_text(error.to_job_error())
    except Exception:
        ctx.jobs.release(user_id)
        raise
    ctx.jobs.bind(user_id, job.id)
    watch = Watch(
        job=job,
        user_id=user_id,
        chat_id=chat_id,
        message_id=message_id,
        platform=link.platform,
        title=link.title,
        cache_key=None if transcript else key,
    )
    ctx.spawn(lambda: follow(ctx, watch))
    return job


async def on_status(message: Message, ctx: BotContext) -> None:
    """/status: the user's latest jobs."""
    if message.from_user is None:
        return
    lines = []
    for job_id in ctx.jobs.recent(message.from_user.id):
        with contextlib.suppress(AudiograbError):
            job = await ctx.ag.get(job_id)
            name = (job.media.title if job.media else None) or job.request.url
            lines.append(f"{texts.state_line(job.state)} · {name} · {job.id[:8]}")
    await message.answer("\n".join(lines) if lines else "You have no jobs yet.")


async def on_cancel(message: Message, command: CommandObject, ctx: BotContext) -> None:
    """/cancel [JOB_ID]: stop the user's running jobs, or the one whose id starts so.

    Answered at once: the jobs stop in the background (see `_stop`).
    """
    if message.from_user is None:
        return
    prefix = (command.args or "").strip()
    chosen = [j for j in ctx.jobs.running(message.from_user.id) if j.startswith(prefix)]
    for job_id in chosen:
        _stop(ctx, job_id)
    count = len(chosen)
    await message.answer(
        f"Cancelling {count} job{'' if count == 1 else 's'}…" if chosen else "Nothing to cancel."
    )


async def on_stop(query: CallbackQuery, callback_data: Stop, ctx: BotContext) -> None:
    """The cancel button under a progress message; only its owner may press it."""
    if ctx.jobs.owner(callback_data.job_id) != query.from_user.id:
        await query.answer("That job is not running (or not yours).")
        return
    _stop(ctx, callback_data.job_id)
    await query.answer("Cancelling…")


def _stop(ctx: BotContext, job_id: str) -> None:
    """Say "Cancelling…" in the job's progress message now, and cancel it in the background.

    `ag.cancel` returns when the job has ended, which takes as long as its worker needs to
    notice; the follower shows the end when it comes.
    """
    if ctx.stopping.ask(job_id):
        ctx.spawn(lambda: _cancel(ctx, job_id))


async def _cancel(ctx: BotContext, job_id: str) -> None:
    try:
        await ctx.ag.cancel(job_id)
    except AudiograbError as error:  # it ended meanwhile
        logger.info("cancel %s: %s", job_id, error.code)


async def on_voice(message: Message, ctx: BotContext) -> None:
    """Voice, audio or video (see `incoming`): transcribe it as a job on the downloaded file.

    If the file cannot be fetched or queued, the progress message says why (rather than
    showing "queued" for ever).
    """
    media = incoming(message)
    if media is not None and message.from_user is not None:
        await _transcribe_media(ctx, message, media, message.from_user.id)


async def _transcribe_media(
    ctx: BotContext, message: Message, media: Incoming, user_id: int
) -> None:
    """Fetch the media of `message` and start its transcription for `user_id`; the progress
    message goes to the message's chat."""
    limit = ctx.limits.download_bytes
    if media.size and media.size > limit:
        await message.answer(texts.too_large_to_fetch(media.size, limit))
        return
    if not ctx.jobs.reserve(user_id):
        await message.answer(f"You already have {ctx.limits.jobs_per_user} jobs running.")
        return
    # Each job its own copy: the same voice forwarded twice, or asked for by two people.
    path = ctx.scratch / f"voice-{secrets.token_hex(8)}"
    try:
        progress = await message.answer(texts.state_line(JobState.QUEUED))
    except Exception:
        ctx.jobs.release(user_id)
        raise
    try:
        await anyio.Path(ctx.scratch).mkdir(parents=True, exist_ok=True)
        await ctx.bot.download(media.file_id, destination=path)
        request = JobRequest(url=path.as_uri(), transcribe=True, keep_media=False)
        job = await ctx.ag.submit_file(path, request)
    except Exception as error:
        ctx.jobs.release(user_id)
        await anyio.Path(path).unlink(missing_ok=True)
        logger.warning("voice message %s not transcribed: %r", message.message_id, error)
        with contextlib.suppress(TelegramAPIError):
            await progress.edit_text(_not_fetched(error, limit))
        return
    ctx.jobs.bind(user_id, job.id)
    watch = Watch(
        job=job,
        user_id=user_id,
        chat_id=message.chat.id,
        message_id=progress.message_id,
        platform=media.kind,
        title=media.title,
        cache_key=None,
        scratch_file=path,
    )
    ctx.spawn(lambda: follow(ctx, watch))


def _not_fetched(error: Exception, limit: int) -> str:
    """Why a file sent to the bot is not being transcribed."""
    if isinstance(error, AudiograbError):
        return texts.error_text(error.to_job_error())
    if isinstance(error, TelegramBadRequest) and "too big" in error.message:
        return texts.too_large_to_fetch(None, limit)
    return texts.NOT_FETCHED
