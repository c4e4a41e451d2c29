"""Media users send the bot to transcribe: voice and round video messages, audio, video, and
audio or video sent as a file (a phone recording shared "as file" arrives as a document).
"""

from dataclasses import dataclass

from aiogram.types import Message

__all__ = ["Incoming", "incoming", "is_transcribable"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """A file in a message, what to call it and what we know of its size and length."""

    file_id: str
    size: int | None
    kind: str
    """What the progress message calls it: "Voice message", "Audio", "Video", "File"."""
    name: str | None
    duration: int | None

    @property
    def title(self) -> str:
        """Its name, else its length, else nothing."""
        return self.name or (f"{self.duration} s" if self.duration else "")


def incoming(message: Message) -> Incoming | None:
    """The media of `message` worth transcribing, if it has some."""
    if (voice := message.voice) is not None:
        return Incoming(voice.file_id, voice.file_size, "Voice message", None, voice.duration)
    if (note := message.video_note) is not None:
        return Incoming(note.file_id, note.file_size, "Video message", None, note.duration)
    if (audio := message.audio) is not None:
        name = audio.title or audio.file_name
        return Incoming(audio.file_id, audio.file_size, "Audio", name, audio.duration)
    if (video := message.video) is not None:
        return Incoming(video.file_id, video.file_size, "Video", video.file_name, video.duration)
    document = message.document
    if document is not None and (document.mime_type or "").startswith(("audio/", "video/")):
        return Incoming(document.file_id, document.file_size, "File", document.file_name, None)
    return None


def is_transcribable(message: Message) -> bool:
    """The router's filter for `incoming`."""
    return incoming(message) is not None
