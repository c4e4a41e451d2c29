"""Typed errors with stable codes, shared by every layer and every face.

The code is the contract: the API returns it in its error body, the CLI prints it, the bot
words a message from it. Messages are for humans and may change.
"""

from enum import StrEnum

import msgspec


class ErrorCode(StrEnum):
    """Stable machine-readable error codes."""

    INVALID_URL = "invalid_url"
    UNSUPPORTED_URL = "unsupported_url"
    UNSUPPORTED_YET = "unsupported_yet"
    INVALID_REQUEST = "invalid_request"
    NOT_FOUND = "not_found"
    AUTH_REQUIRED = "auth_required"
    GEO_BLOCKED = "geo_blocked"
    NETWORK = "network"
    FORBIDDEN_ADDRESS = "forbidden_address"
    DOWNLOAD_FAILED = "download_failed"
    CONVERSION_FAILED = "conversion_failed"
    TRANSCRIPTION_FAILED = "transcription_failed"
    MODEL_NOT_FOUND = "model_not_found"
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    JOB_NOT_FOUND = "job_not_found"
    INVALID_STATE = "invalid_state"
    JOB_RUNNING = "job_running"
    FILE_NOT_FOUND = "file_not_found"
    NOT_MEDIA = "not_media"
    """The file holds no audio (or video) FFmpeg can decode: random bytes, a text file."""
    NOT_WRITABLE = "not_writable"
    """The output cannot be written there: a read-only folder, a file where a folder should be."""
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    TOO_LARGE = "too_large"
    TOO_LONG = "too_long"
    DISK_FULL = "disk_full"
    INTERNAL = "internal"

    @property
    def retryable(self) -> bool:
        """Whether trying the same job again later could succeed."""
        return self in _TRANSIENT


_TRANSIENT = frozenset({ErrorCode.NETWORK, ErrorCode.DOWNLOAD_FAILED, ErrorCode.INTERRUPTED})


class JobError(msgspec.Struct, frozen=True, kw_only=True):
    """The serialisable form of an error, as stored on a failed job and sent in events."""

    code: ErrorCode
    message: str


class AudiograbError(Exception):
    """An expected failure with a stable code and a one-line human message."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_job_error(self) -> JobError:
        """Return the serialisable form of this error."""
        return JobError(code=self.code, message=self.message)

    def __repr__(self) -> str:
        return f"AudiograbError({self.code.value!r}, {self.message!r})"
