"""Inline keyboards: the output choices under a link, and the cancel button under progress."""

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from audiograb.domain import AudioFormat, JobRequest, MediaKind, Quality

__all__ = ["Choice", "Option", "Pick", "Stop", "choices", "stop_button"]


class Option(StrEnum):
    """What a user can ask for from a link."""

    M4A = "m4a"
    MP3 = "mp3"
    MP4 = "mp4"
    TRANSCRIPT = "txt"

    def request(self, url: str, quality: Quality = Quality.HIGH) -> JobRequest:
        """The job that produces this option."""
        match self:
            case Option.MP3:
                return JobRequest(url=url, format=AudioFormat.MP3, quality=quality)
            case Option.MP4:
                return JobRequest(
                    url=url, format=AudioFormat.MP4, quality=quality, media=MediaKind.VIDEO
                )
            case Option.TRANSCRIPT:
                return JobRequest(url=url, quality=quality, transcribe=True, keep_media=False)
            case _:
                return JobRequest(url=url, format=AudioFormat.M4A, quality=quality)


_LABELS = {
    Option.M4A: "🎵 Audio m4a",
    Option.MP3: "🎵 Audio mp3",
    Option.MP4: "🎬 Video mp4",
    Option.TRANSCRIPT: "📝 Transcript",
}


class Pick(CallbackData, prefix="g"):
    """A button under a link: `token` names the pending link."""

    token: str
    option: Option


class Stop(CallbackData, prefix="x"):
    """The cancel button under a progress message."""

    job_id: str


Choice = tuple[Option, ...]


def choices(token: str, options: Choice) -> InlineKeyboardMarkup:
    """The keyboard under a link, two buttons a row."""
    buttons = [
        InlineKeyboardButton(text=_LABELS[o], callback_data=Pick(token=token, option=o).pack())
        for o in options
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    )


def stop_button(job_id: str) -> InlineKeyboardMarkup:
    """The keyboard under a running job's progress message."""
    button = InlineKeyboardButton(text="✖ Cancel", callback_data=Stop(job_id=job_id).pack())
    return InlineKeyboardMarkup(inline_keyboard=[[button]])
