"""How downloads run, from the settings, in one place: the SSRF policy, the size and length
caps, and yt-dlp's options."""

from pathlib import Path

import msgspec

from audiograb.config import Settings
from audiograb.domain import AudiograbError, ErrorCode, JobRequest, MediaKind
from audiograb.engines import ffmpeg, ytdlp
from audiograb.engines.netguard import AddressPolicy
from audiograb.pipeline.resolving import FFMPEG_PLATFORMS
from audiograb.platforms import MatchedUrl


def address_policy(settings: Settings) -> AddressPolicy:
    """Private addresses are refused unless the settings allow them all or name them."""
    return AddressPolicy(
        allow_private=settings.allow_private_networks, allow=frozenset(settings.allow_networks)
    )


class Caps(msgspec.Struct, frozen=True, kw_only=True):
    """How big and how long one download may get before it fails."""

    max_bytes: int
    max_duration: float


def caps_for(settings: Settings, request: JobRequest | None = None) -> Caps:
    """The request's own caps, or the settings' where it names none.

    `invalid_request` when the request asks for more than the settings allow: they are the
    operator's, a request may only tighten them.
    """
    max_bytes = settings.max_download_bytes
    max_duration = settings.max_duration
    if request is not None and request.max_bytes is not None:
        _check_within("max_bytes", request.max_bytes, max_bytes, "max_download_bytes")
        max_bytes = request.max_bytes
    if request is not None and request.max_duration is not None:
        _check_within("max_duration", request.max_duration, max_duration, "max_duration")
        max_duration = request.max_duration
    return Caps(max_bytes=max_bytes, max_duration=max_duration)


def _check_within(name: str, value: float, limit: float, setting: str) -> None:
    if not 0 < value <= limit:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST,
            f"{name} must be more than 0 and at most {limit:g} (the {setting} setting), "
            f"not {value:g}",
        )


def download_options(
    settings: Settings,
    matched: MatchedUrl,
    work_dir: Path,
    *,
    media: MediaKind = MediaKind.AUDIO,
    playlist: bool = False,
    caps: Caps | None = None,
) -> ytdlp.DownloadOptions:
    """yt-dlp's options for `matched`, writing into `work_dir` (a job's, or a probe's).

    `caps` default to the settings' own.
    """
    caps = caps or caps_for(settings)
    return ytdlp.DownloadOptions(
        work_dir=work_dir,
        media=media,
        playlist=playlist,
        retries=settings.download_retries,
        fragment_retries=settings.fragment_retries,
        socket_timeout=settings.socket_timeout,
        cookies_file=str(settings.cookies_file) if settings.cookies_file else None,
        progress_interval=settings.progress_interval,
        address_policy=address_policy(settings),
        ffmpeg_location=ffmpeg.find_ffmpeg(settings.ffmpeg_path),
        extra_params=matched.ytdlp_params,
        external_downloads=matched.platform.id in FFMPEG_PLATFORMS,
        max_bytes=caps.max_bytes,
        max_duration=caps.max_duration,
    )
