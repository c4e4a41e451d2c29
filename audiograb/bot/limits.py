"""Limits the bot enforces: Telegram's file sizes and each user's number of running jobs.

The Bot API lets bots upload 50 MB and download 20 MB; a local Bot API server (the
`bot_api_base` setting) raises both to 2000 MB.
"""

from collections import deque
from dataclasses import dataclass, field

from audiograb.config import Settings
from audiograb.domain import MediaInfo, MediaKind, Quality

__all__ = ["MB", "Limits", "UserJobs", "estimate_size"]

MB = 1_000_000
_CLOUD_UPLOAD = 50 * MB
_CLOUD_DOWNLOAD = 20 * MB
_LOCAL_FILES = 2000 * MB
#: Jobs per user that `/status` remembers.
_RECENT_JOBS = 10


@dataclass(frozen=True, slots=True)
class Limits:
    """Sizes in bytes and the concurrent jobs a user may have."""

    upload_bytes: int
    download_bytes: int
    jobs_per_user: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        """Telegram's limits, raised when a local Bot API server is configured."""
        local = settings.bot_api_base is not None
        return cls(
            upload_bytes=_LOCAL_FILES if local else _CLOUD_UPLOAD,
            download_bytes=_LOCAL_FILES if local else _CLOUD_DOWNLOAD,
            jobs_per_user=settings.bot_jobs_per_user,
        )


def estimate_size(media: MediaInfo, kind: MediaKind, quality: Quality) -> int | None:
    """The output's likely size from metadata, before anything is downloaded.

    Audio is re-encoded at the preset's bitrate, so its length predicts it best; video keeps
    the source's streams, so the source's size does.
    """
    if kind is MediaKind.AUDIO and media.duration:
        return int(media.duration * quality.kbps * 1000 / 8)
    return media.filesize


@dataclass(slots=True)
class UserJobs:
    """Which jobs each user has running (for the limit) and started lately (for /status)."""

    limit: int
    _slots: dict[int, int] = field(default_factory=dict)
    _running: dict[int, set[str]] = field(default_factory=dict)
    _recent: dict[int, deque[str]] = field(default_factory=dict)
    _owners: dict[str, int] = field(default_factory=dict)

    def reserve(self, user_id: int) -> bool:
        """Take one of the user's slots before submitting; False when all are taken."""
        if self._slots.get(user_id, 0) >= self.limit:
            return False
        self._slots[user_id] = self._slots.get(user_id, 0) + 1
        return True

    def bind(self, user_id: int, job_id: str) -> None:
        """Record that the reserved slot now runs `job_id`."""
        self._running.setdefault(user_id, set()).add(job_id)
        self._recent.setdefault(user_id, deque(maxlen=_RECENT_JOBS)).appendleft(job_id)
        self._owners[job_id] = user_id

    def release(self, user_id: int, job_id: str | None = None) -> None:
        """Give the slot back: the job ended, or the submission failed (`job_id` None)."""
        self._slots[user_id] = max(0, self._slots.get(user_id, 0) - 1)
        if job_id is not None:
            self._running.get(user_id, set()).discard(job_id)
            self._owners.pop(job_id, None)

    def running(self, user_id: int) -> set[str]:
        """Ids of the user's jobs that have not ended."""
        return set(self._running.get(user_id, ()))

    def recent(self, user_id: int) -> list[str]:
        """Ids of the user's latest jobs, newest first."""
        return list(self._recent.get(user_id, ()))

    def owner(self, job_id: str) -> int | None:
        """The user running `job_id`, if the bot started it and it has not ended."""
        return self._owners.get(job_id)
