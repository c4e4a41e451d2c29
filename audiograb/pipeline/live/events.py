"""What a live session tells its client, and the errors it can end with.

`Partial` and `Final` come from the streaming engine; `Stats` and `Done` are the session's own.
They share the `type` tag field, so a WebSocket (or anything else) sends them as they are.
"""

from enum import StrEnum

import msgspec

from audiograb.engines.whisper.streaming import Final, Partial

__all__ = ["Done", "Final", "LiveCode", "LiveError", "LiveEvent", "Partial", "Stats"]


class Stats(msgspec.Struct, frozen=True, kw_only=True, tag="stats", tag_field="type"):
    """How far behind the session is, sent about once a second of audio.

    `lag` is the audio (in seconds) received but not yet settled: not yet heard by the VAD, or
    in an utterance whose final is not out. It stays near zero while the server keeps up;
    when it grows past the session's limit the session ends with `overloaded`.
    """

    lag: float
    audio: float
    """Seconds of audio received."""
    partials_skipped: int
    """Partial decodes left out to keep finals on time."""


class Done(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag="done", tag_field="type"
):
    """The session's whole transcript; `polished` when a polish endpoint is set and answered,
    `polish_error` when it is set and failed (the raw `text` is there either way)."""

    text: str
    polished: str | None = None
    polish_error: str | None = None


LiveEvent = Partial | Final | Stats


class LiveCode(StrEnum):
    """Stable codes of live-session errors (besides the domain's `ErrorCode`s)."""

    INVALID_MESSAGE = "invalid_message"
    INVALID_FRAME = "invalid_frame"
    BUSY = "busy"
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    POLISH_FAILED = "polish_failed"
    TIMEOUT = "timeout"


class LiveError(Exception):
    """A live-session failure with a stable code; `fatal` ones end the session."""

    def __init__(self, code: LiveCode, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fatal = fatal
