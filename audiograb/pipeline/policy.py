"""How downloads run, from the settings, in one place: the SSRF policy and yt-dlp's options."""

from pathlib import Path

from audiograb.config import Settings
from audiograb.domain import MediaKind
from audiograb.engines import ffmpeg, ytdlp
from audiograb.engines.netguard import AddressPolicy
from audiograb.pipeline.resolving import FFMPEG_PLATFORMS
from audiograb.platforms import MatchedUrl


def address_policy(settings: Settings) -> AddressPolicy:
    """Private addresses are refused unless the settings allow them all or name them."""
    return AddressPolicy(
        allow_private=settings.allow_private_networks, allow=frozenset(settings.allow_networks)
    )


def download_options(
    settings: Settings,
    matched: MatchedUrl,
    work_dir: Path,
    *,
    media: MediaKind = MediaKind.AUDIO,
    playlist: bool = False,
) -> ytdlp.DownloadOptions:
    """yt-dlp's options for `matched`, writing into `work_dir` (a job's, or a probe's)."""
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
    )
