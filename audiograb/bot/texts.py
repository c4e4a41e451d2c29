"""What the bot says: help, refusals, progress lines and errors, worded from the domain types.

Plain text only (no parse mode), so titles and URLs never need escaping.
"""

from collections.abc import Sequence

from audiograb.bot.links import Unclaimed
from audiograb.domain import (
    ConversionProgress,
    DownloadProgress,
    ErrorCode,
    Gap,
    JobError,
    JobState,
    describe_gaps,
)

__all__ = [
    "CANCELLING",
    "FLOODED",
    "HELP",
    "NOT_A_LINK",
    "NOT_FETCHED",
    "REFUSED",
    "TRANSCRIBE_USAGE",
    "conversion_line",
    "download_line",
    "error_text",
    "gaps_note",
    "human_size",
    "not_sent",
    "state_line",
    "too_large",
    "too_large_to_fetch",
    "transcription_line",
    "unclaimed",
]

HELP = (
    "Send me a link (X Spaces, YouTube, podcasts, direct media and more) and pick a format; "
    "I keep one message up to date while I work and send you the file.\n\n"
    "/platforms – what I can grab\n"
    "/status – your jobs\n"
    "/cancel – stop your running jobs (or /cancel JOB_ID)\n"
    "/transcribe URL – a transcript of a link (or reply /transcribe to a voice message)\n"
    "Voice messages, audio and video you send me (as media or as files) are transcribed."
)
REFUSED = (
    "Sorry, this bot is private and only serves the people its owner has listed. "
    "If you think you should be one of them, send them your Telegram id: {user_id}."
)
NOT_A_LINK = (
    "Send me a link to grab, a voice message or an audio or video file to transcribe, or /help."
)
TRANSCRIBE_USAGE = (
    "Usage: /transcribe URL, or reply /transcribe to a voice message, audio, video or link."
)
NOT_FETCHED = "❌ I could not fetch that file from Telegram; please send it again."
CANCELLING = "🚫 Cancelling…"
FLOODED = "Telegram kept asking me to wait"

_STATE_WORDS = {
    JobState.QUEUED: "⏳ Queued",
    JobState.DOWNLOADING: "⬇️ Downloading",
    JobState.CONVERTING: "⚙️ Converting",
    JobState.TRANSCRIBING: "📝 Transcribing",
    JobState.COMPLETED: "✅ Done",
    JobState.FAILED: "❌ Failed",
    JobState.CANCELLED: "🚫 Cancelled",
}
_ERRORS = {
    ErrorCode.INVALID_URL: "That does not look like a link I can use",
    ErrorCode.UNSUPPORTED_URL: "I do not know how to grab that link",
    ErrorCode.UNSUPPORTED_YET: "I recognise that site, but grabbing from it is not ready yet",
    ErrorCode.NOT_FOUND: "The media was not found (deleted, private or a typo?)",
    ErrorCode.AUTH_REQUIRED: "The site wants a login for that media",
    ErrorCode.GEO_BLOCKED: "The site does not serve that media in this server's country",
    ErrorCode.NETWORK: "The site could not be reached; try again later",
    ErrorCode.FORBIDDEN_ADDRESS: "That link points somewhere I am not allowed to go",
    ErrorCode.TOO_LARGE: "That is larger than this server's download limit",
    ErrorCode.TOO_LONG: "That runs longer than this server's length limit",
    ErrorCode.DISK_FULL: "The server's disk is full; try again later",
}
_UNCLAIMED = {
    Unclaimed.EXPIRED: "That link has expired; please send it again.",
    Unclaimed.NOT_YOURS: "Only the person who sent that link can choose from it.",
    Unclaimed.BUSY: "Already on it: that message shows how it goes.",
}
_BAR_CELLS = 10


def human_size(size: float) -> str:
    """`1.5 MB` style sizes (decimal units, as Telegram states its limits)."""
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _bar(percent: float) -> str:
    filled = round(max(0.0, min(percent, 100.0)) / 100 * _BAR_CELLS)
    return "▰" * filled + "▱" * (_BAR_CELLS - filled)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def state_line(state: JobState) -> str:
    """The one-line status of a job in `state`."""
    return _STATE_WORDS[state]


def download_line(progress: DownloadProgress) -> str:
    """`⬇️ Downloading ▰▰▱… 42% · 1.2 MB/s · ETA 0:05` with what is known."""
    parts = [state_line(JobState.DOWNLOADING)]
    if progress.percent is not None:
        parts[0] += f" {_bar(progress.percent)} {progress.percent:.0f}%"
    else:
        parts.append(human_size(progress.downloaded_bytes))
    if progress.fragment_index is not None and progress.fragment_count:
        parts.append(f"part {progress.fragment_index}/{progress.fragment_count}")
    if progress.speed:
        parts.append(f"{human_size(progress.speed)}/s")
    if progress.recorded is not None:
        parts.append(f"🔴 recorded {_clock(progress.recorded)}")
    elif progress.eta is not None:
        parts.append(f"ETA {_clock(progress.eta)}")
    return " · ".join(parts)


def gaps_note(gaps: Sequence[Gap]) -> str:
    """A warning line under the result when parts of the media could not be fetched; or ""."""
    if not gaps:
        return ""
    return f"\n⚠️ {describe_gaps(gaps)} (the site did not serve those parts)"


def conversion_line(progress: ConversionProgress) -> str:
    """`⚙️ Converting ▰▰▱… 60%`, or the media time written when the length is unknown."""
    line = state_line(JobState.CONVERTING)
    if progress.percent is not None:
        return f"{line} {_bar(progress.percent)} {progress.percent:.0f}%"
    return f"{line} · {_clock(progress.out_seconds)}"


def transcription_line(percent: float | None) -> str:
    """`📝 Transcribing ▰▰▱… 40%`."""
    line = state_line(JobState.TRANSCRIBING)
    return f"{line} {_bar(percent)} {percent:.0f}%" if percent is not None else line


def unclaimed(reason: Unclaimed) -> str:
    """The answer to a button press that gets no link."""
    return _UNCLAIMED[reason]


def error_text(error: JobError) -> str:
    """A user-facing sentence for a job error; the technical message only when nothing fits."""
    sentence = _ERRORS.get(error.code)
    return f"❌ {sentence}." if sentence else f"❌ {error.message}"


def too_large_to_fetch(size: int | None, limit: int) -> str:
    """Why a file sent to the bot is not fetched from Telegram (the Bot API's download limit)."""
    limit_text = f"the {human_size(limit)} this bot can fetch from Telegram"
    if size is None:
        return f"❌ The file is over {limit_text}."
    return f"❌ The file is {human_size(size)}, over {limit_text}."


def not_sent(reason: str | None, link: str | None) -> str:
    """Why a finished job's file or transcript did not reach the chat, and where it is."""
    text = "❌ The result is ready, but I could not send it" + (f" ({reason})." if reason else ".")
    return f"{text}\nDownload it here instead: {link}" if link else f"{text} Please ask again."


def too_large(size: int, limit: int, link: str | None) -> str:
    """Why a file is not sent, and where to get it instead when the API is public."""
    text = (
        f"The file is {human_size(size)}, over the {human_size(limit)} "
        "Telegram lets this bot upload."
    )
    return f"{text}\nDownload it here instead: {link}" if link else text
