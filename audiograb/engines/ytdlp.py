"""The yt-dlp engine: one synchronous call fetches one media file into a per-job folder.

Every call builds a fresh params dict and its own `YoutubeDL` (yt-dlp keeps params by reference
and mutates them), runs on the calling thread and returns plain values; no event loop here.
Progress goes to a throttled callback, cancellation comes in as a `threading.Event`, and every
yt-dlp failure leaves as an `AudiograbError` through `map_error`.

Network safety: each HTTP request yt-dlp makes (extractor pages, redirects, HLS and DASH
fragments, on yt-dlp's own threads too) runs with the job's `AddressPolicy` in force, so the
netguard checks the address every socket really connects to. Downloads that yt-dlp would hand
to an external program (FFmpeg for live HLS, rtmpdump...) are refused under a restrictive
policy, because their connections are out of the guard's sight, unless the job allows them
(`DownloadOptions.external_downloads`, for X Spaces, which yt-dlp always records with FFmpeg):
then the stream's URL and, for HLS, every host its playlists name (`hls_hosts`) are checked up
front; FFmpeg's own connections go unwatched. Such a
download reports its progress as elapsed time and bytes written (a watcher thread measures the
growing file), and is cancelled by signalling the FFmpeg child.
"""

import contextlib
import copy
import functools
import logging
import os
import re
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
from yt_dlp import YoutubeDL
from yt_dlp.downloader import get_suitable_downloader
from yt_dlp.downloader.dash import DashSegmentsFD
from yt_dlp.downloader.f4m import F4mFD
from yt_dlp.downloader.hls import HlsFD
from yt_dlp.downloader.http import HttpFD
from yt_dlp.downloader.ism import IsmFD
from yt_dlp.extractor import gen_extractor_classes
from yt_dlp.networking import Request
from yt_dlp.networking.exceptions import NoSupportingHandlers, TransportError
from yt_dlp.utils import DownloadCancelled, GeoRestrictedError, UnsupportedError
from yt_dlp.utils._utils import _UnsafeExtensionError

from audiograb.domain import (
    AudiograbError,
    DownloadProgress,
    ErrorCode,
    Gap,
    MediaInfo,
    MediaKind,
)
from audiograb.engines.hls_hosts import stream_urls
from audiograb.engines.netguard import AddressPolicy, check_url, guarded

__all__ = [
    "DownloadOptions",
    "DownloadResult",
    "VideoHit",
    "build_params",
    "download",
    "extract_info",
    "hls_gaps",
    "map_error",
    "media_info_from",
    "search_youtube",
    "warm_up",
]

_log = logging.getLogger(__name__)

ProgressCallback = Callable[[DownloadProgress], None]

_FORMATS = {MediaKind.AUDIO: "bestaudio/best", MediaKind.VIDEO: "bestvideo*+bestaudio/best"}
# Downloaders that fetch through `YoutubeDL.urlopen`, inside this process, where the guard sees.
_IN_PROCESS_DOWNLOADERS = (HttpFD, HlsFD, DashSegmentsFD, F4mFD, IsmFD)
#: The most of one playlist read while checking the hosts of a stream handed to FFmpeg.
_MAX_PLAYLIST_BYTES = 4 * 1024 * 1024


class DownloadOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How one job downloads. `extra_params` are a platform's yt-dlp overrides."""

    work_dir: Path
    """The job's own temporary folder, created by the caller; all files land here."""
    media: MediaKind = MediaKind.AUDIO
    playlist: bool = False
    retries: int = 10
    fragment_retries: int = 10
    socket_timeout: float = 20.0
    cookies_file: str | None = None
    progress_interval: float = 0.25
    """At most one progress callback per this many seconds, plus one when a file finishes."""
    address_policy: AddressPolicy = AddressPolicy()
    ffmpeg_location: str | None = None
    """FFmpeg for merging separate video and audio streams; unused for audio jobs."""
    extra_params: Mapping[str, object] = {}
    external_downloads: bool = False
    """Let yt-dlp hand the download to FFmpeg even under a restrictive policy (X Spaces): the
    stream URL and every host its HLS playlists name are checked first; FFmpeg's own
    connections are not watched."""
    max_bytes: int | None = None
    """Stop with `too_large` once more than this has arrived (or the site says it will)."""
    max_duration: float | None = None
    """Stop with `too_long` when the media is longer, or a live recording has run longer."""


class DownloadResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a finished download left behind."""

    path: Path
    """The single finished media file inside `work_dir`."""
    media: MediaInfo
    gaps: tuple[Gap, ...] = ()
    """Media time missing from the file: HLS segments yt-dlp had to skip."""


class _Cancelled(DownloadCancelled):  # type: ignore[misc]  # yt-dlp is untyped
    """Raised inside yt-dlp to stop a job; yt-dlp lets `DownloadCancelled` through untouched."""

    msg = "the download was cancelled"


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise _Cancelled()


def too_large(limit: int) -> AudiograbError:
    """The error of a download that passed its byte cap."""
    return AudiograbError(
        ErrorCode.TOO_LARGE, f"the download passed its limit of {_megabytes(limit)}"
    )


def too_long(limit: float) -> AudiograbError:
    """The error of media, or a live recording, longer than its cap."""
    message = f"the media runs longer than its limit of {limit:g} s"
    return AudiograbError(ErrorCode.TOO_LONG, message)


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.4g} MB"


_SKIPPED_FRAGMENT = re.compile(r"Skipping fragment (\d+)")


class _Logger:
    """Routes yt-dlp's messages to Python logging; yt-dlp never prints.

    It also notes the fragments yt-dlp skips (`skip_unavailable_fragments`, on by default: an
    HLS segment that answers 404 is left out and the download goes on). yt-dlp says so only in
    a message, "Skipping fragment N ...", N counting from 1 in playlist order.
    """

    def __init__(self) -> None:
        self.skipped: set[int] = set()

    def debug(self, message: str) -> None:
        if (skipped := _SKIPPED_FRAGMENT.search(message)) is not None:
            self.skipped.add(int(skipped.group(1)))
            _log.warning("%s", message)
            return
        _log.debug("%s", message)

    def info(self, message: str) -> None:
        _log.debug("%s", message)

    def warning(self, message: str) -> None:
        _log.warning("%s", message)

    def error(self, message: str) -> None:
        _log.info("%s", message)  # it is raised as well, and reported by whoever catches it


class _ProgressRelay:
    """The progress hook: checks for cancellation and the byte cap, then copies, throttles and
    forwards.

    yt-dlp passes the same mutated dict each time, maybe from its fragment threads, so the
    few needed values are copied under a lock. Byte counts carry over from one file to the
    next (video and audio of one job) so that reports never go backwards. Raising from the
    hook stops a native download within a chunk, which is how a stream that never ends stops.
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        interval: float,
        cancel: threading.Event | None,
        max_bytes: int | None = None,
    ) -> None:
        self._callback = callback
        self._interval = interval
        self._cancel = cancel
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._finished_bytes = 0
        self._reported = -1

    def __call__(self, status: Mapping[str, Any]) -> None:
        _check_cancel(self._cancel)
        if status.get("status") not in ("downloading", "finished"):
            return
        with self._lock:
            progress = self._progress(status)
            if self._max_bytes is not None and progress.downloaded_bytes > self._max_bytes:
                raise too_large(self._max_bytes)
            if self._callback is None:
                return
            finished = status["status"] == "finished"
            if finished:
                self._finished_bytes = progress.downloaded_bytes
            now = time.monotonic()
            if progress.downloaded_bytes < self._reported or (not finished and now < self._next_at):
                return
            self._next_at = now + self._interval
            self._reported = progress.downloaded_bytes
            self._callback(progress)

    def _progress(self, status: Mapping[str, Any]) -> DownloadProgress:
        done = _int(status.get("downloaded_bytes")) or 0
        total = _int(status.get("total_bytes")) or _int(status.get("total_bytes_estimate"))
        index = _int(status.get("fragment_index"))
        count = _int(status.get("fragment_count"))
        if status["status"] == "finished":
            total = done = max(done, total or 0)
        percent = None
        if total:
            percent = min(100.0, 100.0 * done / total)
        elif index is not None and count:
            percent = min(100.0, 100.0 * index / count)
        return DownloadProgress(
            downloaded_bytes=self._finished_bytes + done,
            total_bytes=self._finished_bytes + total if total else None,
            percent=percent,
            speed=_float(status.get("speed")),
            eta=_float(status.get("eta")),
            fragment_index=index,
            fragment_count=count,
            elapsed=_float(status.get("elapsed")),
        )


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _match_filter(
    options: DownloadOptions, cancel: threading.Event | None
) -> Callable[..., str | None]:
    """yt-dlp's per-entry filter: a cancellation point, the guard against playlists, and the
    caps, for media whose length or size is known before it is fetched."""

    def accept(info: Mapping[str, Any], *, incomplete: bool = False) -> str | None:
        _check_cancel(cancel)
        if not options.playlist and info.get("playlist_index") is not None:
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST,
                "this URL is a playlist; submit it as a playlist to get its first item",
            )
        duration, size = _float(info.get("duration")), _int(info.get("filesize"))
        if options.max_duration is not None and (duration or 0) > options.max_duration:
            raise too_long(options.max_duration)
        if options.max_bytes is not None and (size or 0) > options.max_bytes:
            raise too_large(options.max_bytes)
        return None

    return accept


def build_params(
    options: DownloadOptions,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Return a fresh yt-dlp params dict for one job.

    The platform's `extra_params` are deep-copied first; the settings that keep files in the
    work dir, output quiet and the network guarded are applied over them.
    """
    params: dict[str, Any] = copy.deepcopy(dict(options.extra_params))
    params.setdefault("format", _FORMATS[options.media])
    params.update(
        {
            "paths": {"home": str(options.work_dir), "temp": str(options.work_dir)},
            "outtmpl": {"default": "%(id)s.%(ext)s"},
            "noplaylist": not options.playlist,
            "playlist_items": "1",
            "retries": options.retries,
            "fragment_retries": options.fragment_retries,
            "socket_timeout": options.socket_timeout,
            # yt-dlp prefers `requests` whenever it happens to be installed (a dev tool brings
            # it): always use its urllib handler, so every environment fetches the same way.
            "compat_opts": {"prefer-legacy-http-handler"},
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "logger": _Logger(),
            "cachedir": False,
            "updatetime": False,
            # Conversion is ours; yt-dlp's FFmpeg fix-ups would convert behind our back.
            "fixup": "never",
            # Fetch HLS/DASH ourselves so the guard sees every fragment.
            "hls_prefer_native": True,
            "external_downloader": {"default": "native"},
            "progress_hooks": [
                _ProgressRelay(on_progress, options.progress_interval, cancel, options.max_bytes)
            ],
            "match_filter": _match_filter(options, cancel),
        }
    )
    if options.cookies_file is not None:
        params["cookiefile"] = options.cookies_file
    if options.ffmpeg_location is not None:
        params["ffmpeg_location"] = options.ffmpeg_location
    return params


class _JobYoutubeDL(YoutubeDL):  # type: ignore[misc]  # yt-dlp is untyped
    """A `YoutubeDL` for one job: guards and checks for cancellation at every request."""

    def __init__(
        self,
        params: dict[str, Any],
        policy: AddressPolicy,
        cancel: threading.Event | None,
        options: DownloadOptions | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        super().__init__(params)
        self._policy = policy
        self._cancel = cancel
        self._options = options
        self._on_progress = on_progress

    def add_default_info_extractors(self) -> None:
        """yt-dlp's default extractors, from a list built once per process (see `warm_up`)."""
        for extractor in _default_extractors():
            self.add_info_extractor(extractor)

    def urlopen(self, req: Any) -> Any:
        _check_cancel(self._cancel)
        if not self._policy.restrictive:
            return super().urlopen(req)
        try:
            with guarded(self._policy):
                return super().urlopen(req)
        except NoSupportingHandlers as error:
            # yt-dlp's request director files a handler's unexpected error (our refusal)
            # under a generic "no supporting handlers"; bring the refusal back out.
            refusal = next(
                (e for e in error.unexpected_errors if isinstance(e, AudiograbError)), None
            )
            if refusal is None:
                raise
            raise refusal from error

    def gaps(self, info: Mapping[str, Any], skipped: Collection[int]) -> tuple[Gap, ...]:
        """The media time of the `skipped` fragments of the HLS playlist `info` came from.

        The playlist is fetched again (guarded, like every request) for its segment lengths;
        if that fails, the gaps stay unknown and a warning says so.
        """
        formats = info.get("requested_formats") or [info]
        playlist = next(
            (f["url"] for f in formats if str(f.get("protocol", "")).startswith("m3u8")), None
        )
        if not skipped or not isinstance(playlist, str):
            return ()
        try:
            with self.urlopen(playlist) as response:
                text = response.read().decode("utf-8", "replace")
        except Exception as error:
            _log.warning("cannot tell where the %d skipped segments were: %s", len(skipped), error)
            return ()
        return hls_gaps(text, skipped)

    def process_video_result(self, info_dict: dict[str, Any], download: bool = True) -> Any:
        _neutral_extensions(info_dict)
        return super().process_video_result(info_dict, download=download)

    def dl(
        self, name: str, info: dict[str, Any], subtitle: bool = False, test: bool = False
    ) -> Any:
        _check_cancel(self._cancel)
        downloader = get_suitable_downloader(info, self.params, to_stdout=name == "-")
        if downloader is not None and issubclass(downloader, _IN_PROCESS_DOWNLOADERS):
            return super().dl(name, info, subtitle=subtitle, test=test)
        options = self._options
        if self._policy.restrictive:
            if options is None or not options.external_downloads:
                raise AudiograbError(
                    ErrorCode.UNSUPPORTED_YET,
                    f"this media needs an external downloader ({_name(downloader)}), "
                    "which the network guard cannot watch",
                )
            self._check_stream_hosts(info)
        if options is None:
            return super().dl(name, info, subtitle=subtitle, test=test)
        watch = _ExternalWatch(options, self._on_progress)
        try:
            with watch.running(self._cancel):
                return super().dl(name, info, subtitle=subtitle, test=test)
        finally:
            if watch.exceeded is not None:
                raise watch.exceeded  # FFmpeg was stopped for it: the real reason it failed

    def _check_stream_hosts(self, info: Mapping[str, Any]) -> None:
        """Put every host the external downloader will reach under the policy: the stream's
        own and, for HLS, each one its playlists name (read here, through the guard)."""
        checked: set[tuple[str, str]] = set()
        for fmt in info.get("requested_formats") or [info]:
            url = fmt.get("url")
            if not isinstance(url, str):
                continue
            headers = fmt.get("http_headers") or {}

            def fetch(playlist: str, headers: Mapping[str, str] = headers) -> str:
                with self.urlopen(Request(playlist, headers=dict(headers))) as response:
                    body: bytes = response.read(_MAX_PLAYLIST_BYTES)
                return body.decode("utf-8", errors="replace")

            hls = str(fmt.get("protocol", "")).startswith("m3u8")
            for found in stream_urls(url, fetch) if hls else [url]:
                parts = urllib.parse.urlsplit(found)
                if (parts.scheme, parts.netloc) not in checked:
                    check_url(found, self._policy)
                    checked.add((parts.scheme, parts.netloc))


def hls_gaps(playlist: str, skipped: Collection[int]) -> tuple[Gap, ...]:
    """The media time of fragments `skipped` (numbered from 1 as yt-dlp numbers them: the
    `#EXT-X-MAP` init section counts too) of an HLS media playlist; neighbours merge."""
    gaps: list[Gap] = []
    index, start, length = 0, 0.0, 0.0
    for raw in playlist.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MAP"):
            index += 1
        elif line.startswith("#EXTINF:"):
            length = _number(line[len("#EXTINF:") :].split(",", 1)[0]) or 0.0
        elif line and not line.startswith("#"):
            index += 1
            if index in skipped:
                if gaps and gaps[-1].end == start:
                    gaps[-1] = Gap(start=gaps[-1].start, end=start + length)
                else:
                    gaps.append(Gap(start=start, end=start + length))
            start, length = start + length, 0.0
    return tuple(gaps)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _neutral_extensions(info: dict[str, Any]) -> None:
    """Give formats whose extension yt-dlp deems unsafe its neutral `unknown_video` instead.

    For a direct link yt-dlp takes the extension from the URL, and then refuses to write
    `download.php?id=3` (or `.aspx`, `.cgi`) as a file with an unusual extension. The name is
    no concern here: the file stays in the job's work folder, and FFmpeg reads its content.
    """
    allowed = _UnsafeExtensionError.ALLOWED_EXTENSIONS
    for entry in [info, *(info.get("formats") or ())]:
        ext = entry.get("ext")
        if isinstance(ext, str) and ext.lower() not in allowed:
            entry["ext"] = "unknown_video"


def _name(downloader: type | None) -> str:
    return "none" if downloader is None else downloader.__name__


#: Seconds between two SIGTERMs to an FFmpeg download that has not stopped yet.
RESIGNAL_SECONDS = 1.0


class _ExternalWatch:
    """Progress, caps and cancellation for a download yt-dlp hands to FFmpeg.

    yt-dlp calls the progress hook only once FFmpeg is done, and a hook cannot stop FFmpeg.
    So a thread measures the bytes written to the work dir every `interval` seconds and reports
    them with the time recorded so far, and when `cancel` is set, or the recording passes
    `max_bytes` or `max_duration` (then `exceeded` says which), it sends SIGTERM to our FFmpeg
    children writing into the work dir (found in /proc: Linux only; FFmpeg closes its file
    cleanly on SIGTERM, and yt-dlp then fails the download, which `download` reports as
    cancelled or as the cap passed). Elsewhere cancellation waits for the stream to end.

    FFmpeg heeds a first SIGTERM only between packets: one waiting for a live playlist's next
    segment goes on waiting. So the signal is sent again every `RESIGNAL_SECONDS` while the
    child lives; a second one interrupts its wait.
    """

    def __init__(self, options: DownloadOptions, callback: ProgressCallback | None) -> None:
        self._work_dir = options.work_dir
        self._callback = callback
        self._interval = max(options.progress_interval, 0.05)
        self._max_bytes = options.max_bytes
        self._max_duration = options.max_duration
        self.exceeded: AudiograbError | None = None

    @contextlib.contextmanager
    def running(self, cancel: threading.Event | None) -> Iterator[None]:
        """Watch while the block runs."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self._watch, args=(stop, cancel), name="ffmpeg-download-watch", daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _watch(self, stop: threading.Event, cancel: threading.Event | None) -> None:
        started = time.monotonic()
        signalled_at: float | None = None
        while not stop.wait(self._interval):
            written = _bytes_written(self._work_dir)
            now = time.monotonic()
            elapsed = now - started
            if self.exceeded is None:
                self.exceeded = self._past_a_cap(written, elapsed)
            stopping = self.exceeded is not None or (cancel is not None and cancel.is_set())
            due = signalled_at is None or now - signalled_at >= RESIGNAL_SECONDS
            if stopping and due and _signal_children(self._work_dir):
                signalled_at = now
            if self._callback is not None:
                speed = written / elapsed if elapsed > 0 else None
                self._callback(
                    DownloadProgress(
                        downloaded_bytes=written, elapsed=elapsed, speed=speed, recorded=elapsed
                    )
                )

    def _past_a_cap(self, written: int, elapsed: float) -> AudiograbError | None:
        if self._max_bytes is not None and written > self._max_bytes:
            return too_large(self._max_bytes)
        if self._max_duration is not None and elapsed > self._max_duration:
            return too_long(self._max_duration)
        return None


def _bytes_written(work_dir: Path) -> int:
    """The size of the largest media file in the work dir (FFmpeg writes one)."""
    sizes = [0]
    for entry in os.scandir(work_dir):
        if entry.is_file() and not entry.name.endswith(".txt"):
            sizes.append(entry.stat().st_size)
    return max(sizes)


def _signal_children(work_dir: Path) -> bool:
    """SIGTERM this process's children whose command line names `work_dir`; any found?"""
    found = False
    me = os.getpid()
    proc = Path("/proc")
    if not proc.is_dir():
        return False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == me and str(work_dir).encode() in command:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGTERM)
                found = True
    return found


class VideoHit(msgspec.Struct, frozen=True, kw_only=True):
    """One YouTube search result, as `search_youtube` lists them."""

    url: str
    title: str
    uploader: str | None = None
    duration: float | None = None


def search_youtube(query: str, options: DownloadOptions, *, limit: int = 5) -> list[VideoHit]:
    """The first `limit` YouTube videos for `query` (yt-dlp's `ytsearchN:`, flat: one request).

    Runs under the job's address policy like a download; needs the internet (tests inject a
    fake search instead).
    """
    params = build_params(options)
    # A search result is a playlist: drop the single-item guards that downloads use.
    params.update(
        {
            "extract_flat": "in_playlist",
            "skip_download": True,
            "playlist_items": None,
            "noplaylist": False,
            "match_filter": None,
        }
    )
    try:
        with _JobYoutubeDL(params, options.address_policy, None) as ydl:
            info = ydl.extract_info(f"ytsearch{limit}:{query}", download=False)
    except AudiograbError:
        raise
    except Exception as error:
        raise map_error(error) from error
    hits = []
    for entry in (info or {}).get("entries") or ():
        video_id = entry.get("id")
        title = entry.get("title")
        if not isinstance(video_id, str) or not isinstance(title, str):
            continue
        uploader = entry.get("channel") or entry.get("uploader")
        hits.append(
            VideoHit(
                url=f"https://www.youtube.com/watch?v={video_id}",
                title=title,
                uploader=uploader if isinstance(uploader, str) else None,
                duration=_float(entry.get("duration")),
            )
        )
    return hits


@functools.cache
def _default_extractors() -> tuple[Any, ...]:
    """The enabled extractor classes in yt-dlp's order, as `add_default_info_extractors` has them.

    yt-dlp rebuilds this list for every `YoutubeDL`: some 40 ms of pure Python per job that
    holds the interpreter lock while the event loop waits for it.
    """
    by_name = {ie.IE_NAME.lower(): ie for ie in gen_extractor_classes()}
    return tuple(ie for ie in by_name.values() if ie._ENABLED)


def warm_up() -> None:
    """Do once, ahead of the first job, what yt-dlp does lazily on it: load the extractor list
    and compile every extractor's URL pattern. Blocking; run it in a worker thread."""
    for extractor in _default_extractors():
        extractor.suitable("https://warm-up.invalid/")


def _run(
    url: str,
    options: DownloadOptions,
    *,
    download: bool,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> tuple[dict[str, Any], tuple[Gap, ...]]:
    """The media's info dict, and the gaps of what was downloaded."""
    check_url(url, options.address_policy)
    params = build_params(options, on_progress=on_progress, cancel=cancel)
    gaps: tuple[Gap, ...] = ()
    try:
        _check_cancel(cancel)
        ydl = _JobYoutubeDL(params, options.address_policy, cancel, options, on_progress)
        with ydl:
            info = ydl.extract_info(url, download=download)
            skipped = params["logger"].skipped
            if skipped and isinstance(info, dict):
                gaps = ydl.gaps(_first_entry(info), skipped)
    except AudiograbError:
        raise
    except Exception as error:
        if cancel is not None and cancel.is_set():  # an FFmpeg child stopped by our signal
            raise AudiograbError(ErrorCode.CANCELLED, "the download was cancelled") from error
        raise map_error(error) from error
    if not isinstance(info, dict):
        raise AudiograbError(ErrorCode.DOWNLOAD_FAILED, "yt-dlp returned no media")
    return _first_entry(info), gaps


def _first_entry(info: dict[str, Any]) -> dict[str, Any]:
    """The media itself: a playlist result (only ever one item, see `download`) gives its first."""
    if info.get("_type") not in ("playlist", "multi_video"):
        return info
    entries = [entry for entry in info.get("entries") or () if isinstance(entry, dict)]
    if not entries:
        raise AudiograbError(ErrorCode.NOT_FOUND, "the playlist has no items")
    return entries[0]


def extract_info(
    url: str, options: DownloadOptions, *, cancel: threading.Event | None = None
) -> MediaInfo:
    """Learn what `url` holds without downloading it."""
    info, _ = _run(url, options, download=False, on_progress=None, cancel=cancel)
    return media_info_from(info)


def download(
    url: str,
    options: DownloadOptions,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DownloadResult:
    """Download the media at `url` into `options.work_dir`; blocks until done.

    Playlists: with `options.playlist` false a playlist URL is refused (`invalid_request`);
    with it true only the playlist's first item is downloaded for now. Setting `cancel` stops
    the download at the next request or the next chunk of data (`cancelled`); partial files
    stay in `work_dir`, which the caller removes.
    """
    info, gaps = _run(url, options, download=True, on_progress=on_progress, cancel=cancel)
    path = _finished_file(info, options.work_dir)
    return DownloadResult(path=path, media=media_info_from(info), gaps=gaps)


def _finished_file(info: Mapping[str, Any], work_dir: Path) -> Path:
    for requested in info.get("requested_downloads") or ():
        candidate = requested.get("filepath")
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise AudiograbError(
        ErrorCode.DOWNLOAD_FAILED, f"yt-dlp finished but left no media file in {work_dir}"
    )


def media_info_from(info: Mapping[str, Any]) -> MediaInfo:
    """Copy what we show and tag from a yt-dlp info dict."""

    def text(*keys: str) -> str | None:
        for key in keys:
            value = info.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    raw_date = text("upload_date", "release_date")
    date = raw_date
    if raw_date is not None and re.fullmatch(r"\d{8}", raw_date):
        date = f"{raw_date[:4]}-{raw_date[4:6]}-{raw_date[6:]}"
    return MediaInfo(
        title=text("title", "fulltitle"),
        uploader=text("uploader", "channel", "creator", "artist"),
        date=date,
        description=text("description"),
        duration=_float(info.get("duration")),
        webpage_url=text("webpage_url", "original_url", "url"),
        thumbnail=text("thumbnail"),
        extractor=text("extractor_key", "extractor"),
        is_live=bool(info.get("is_live")),
        filesize=_int(info.get("filesize")) or _int(info.get("filesize_approx")),
        has_video=_has_video(info),
    )


def _has_video(info: Mapping[str, Any]) -> bool | None:
    """Whether any of the source's formats has a picture (yt-dlp says `vcodec: none` for sound
    only); None when yt-dlp does not know. The formats, not the chosen one: a dry run for an
    audio job picks an audio format even from a video."""
    formats = info.get("formats") or [info]
    codecs = [f.get("vcodec") for f in formats if isinstance(f, Mapping)]
    if any(codec not in (None, "none") for codec in codecs):
        return True
    return False if codecs and all(codec == "none" for codec in codecs) else None


# First match wins, so the specific causes come before the generic ones. A rule's words, when
# it has them, replace yt-dlp's text (`[generic] a: Unable to download webpage: HTTP Error
# 404: ...`); `{0}` is the first group of the match.
_MESSAGE_RULES: tuple[tuple[re.Pattern[str], ErrorCode, str | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code, words)
    for pattern, code, words in (
        (r"no space left on device|disk quota exceeded|errno 28\b", ErrorCode.DISK_FULL, None),
        (r"unsupported url", ErrorCode.UNSUPPORTED_URL, None),
        (
            r"geo.?restrict|(not|isn't) available (in|from) your (country|location|region)"
            r"|in your country",
            ErrorCode.GEO_BLOCKED,
            None,
        ),
        (
            r"sign in|\blog ?in\b|cookies|private (video|account|post)|this video is private"
            r"|members.only|confirm your age|age.restricted|authenticat|http error 401",
            ErrorCode.AUTH_REQUIRED,
            None,
        ),
        (r"http error (5\d\d|429)", ErrorCode.NETWORK, None),
        (r"http error (404|410)", ErrorCode.NOT_FOUND, "nothing at this link (HTTP {0})"),
        (
            r"(does|do) not exist|unavailable|been removed|was removed|been deleted|not found",
            ErrorCode.NOT_FOUND,
            None,
        ),
        # Permanent: trying again in a few seconds gives the same answer.
        (
            r"name or service not known|nodename nor servname|no address associated",
            ErrorCode.NOT_FOUND,
            "no such host: the link's host name does not resolve",
        ),
        (
            r"did not get any data blocks|downloaded file is empty",
            ErrorCode.NOT_MEDIA,
            "the link gave an empty file",
        ),
        (
            r"timed? ?out|connection (refused|reset|aborted)|network is unreachable"
            r"|temporary failure in name resolution|getaddrinfo|remote end closed"
            r"|incomplete ?read|giving up after",
            ErrorCode.NETWORK,
            None,
        ),
    )
)


def map_error(error: BaseException) -> AudiograbError:
    """Turn anything yt-dlp raised into a typed error: the one place this mapping lives.

    Our own errors (the netguard's `forbidden_address`, cancellation) pass through unchanged;
    yt-dlp's wrappers are unwrapped; the rest is classified by exception type, then message.
    """
    chain = list(_causes(error))
    for cause in chain:
        if isinstance(cause, AudiograbError):
            return cause
        if isinstance(cause, _Cancelled):
            return AudiograbError(ErrorCode.CANCELLED, "the download was cancelled")
    message = _message(error)
    for cause in chain:
        if isinstance(cause, UnsupportedError):
            return AudiograbError(ErrorCode.UNSUPPORTED_URL, message)
        if isinstance(cause, GeoRestrictedError):
            return AudiograbError(ErrorCode.GEO_BLOCKED, message)
    text = " ".join(str(cause) for cause in chain)
    for pattern, code, words in _MESSAGE_RULES:
        if found := pattern.search(text):
            return AudiograbError(code, words.format(*found.groups()) if words else message)
    if any(isinstance(cause, TransportError | ConnectionError | TimeoutError) for cause in chain):
        return AudiograbError(ErrorCode.NETWORK, message)
    return AudiograbError(ErrorCode.DOWNLOAD_FAILED, message)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, then what it wraps: `exc_info`, `cause` and `__cause__`, without cycles."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        exc_info = getattr(current, "exc_info", None)
        wrapped = [
            exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None,
            getattr(current, "cause", None),
            current.__cause__,
        ]
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _message(error: BaseException) -> str:
    """A one-line human message: yt-dlp's text without its `ERROR:` prefix and colours."""
    text = _ANSI.sub("", str(error)).strip()
    text = re.sub(r"^ERROR:\s*", "", text)
    first_line = text.splitlines()[0] if text else ""
    return first_line or type(error).__name__
