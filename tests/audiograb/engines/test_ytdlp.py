"""The yt-dlp engine against real yt-dlp and a loopback media server with real media."""

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from yt_dlp.networking.common import Response
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError, UnsupportedError

from audiograb.domain import AudiograbError, DownloadProgress, ErrorCode, Gap, MediaKind
from audiograb.engines.netguard import AddressPolicy
from audiograb.engines.ytdlp import (
    DownloadOptions,
    build_params,
    download,
    extract_info,
    hls_gaps,
    map_error,
    media_info_from,
)
from tests.media import make_hls, make_master_playlist, make_tone, make_video
from tests.mediaserver import MediaServer, media_server

LOOPBACK = AddressPolicy(allow_private=True)
SECONDS = 3


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Few-second tones as files, HLS (TS and fMP4) and a two-variant master playlist."""
    root = tmp_path_factory.mktemp("media")
    for name in ("tone.m4a", "tone.mp3", "tone.opus"):
        make_tone(root / name, seconds=SECONDS, bitrate_kbps=64)
    make_tone(root / "long.wav", seconds=4, sample_rate=22_050, channels=1)
    make_video(root / "clip.mp4", seconds=2, width=96, height=64, fps=10)
    make_hls(root / "ts", seconds=SECONDS, segment_seconds=1)
    make_hls(root / "fmp4", seconds=SECONDS, segment_seconds=1, kind="fmp4")
    low = make_hls(root / "low", seconds=SECONDS, audio_bitrate_kbps=32)
    high = make_hls(root / "high", seconds=SECONDS, audio_bitrate_kbps=128)
    make_master_playlist(root, [(low, 40_000), (high, 140_000)])
    (root / "download.php").write_bytes((root / "tone.mp3").read_bytes())
    return root


@pytest.fixture
def server(media_root: Path) -> Iterator[MediaServer]:
    with media_server(media_root) as running:
        yield running


def _options(work_dir: Path, **overrides: object) -> DownloadOptions:
    values: dict[str, object] = {"work_dir": work_dir, "address_policy": LOOPBACK}
    values.update(overrides)
    return DownloadOptions(**values)  # type: ignore[arg-type]


def _media_files(work_dir: Path) -> list[Path]:
    return [p for p in work_dir.iterdir() if p.suffix not in (".part", ".ytdl")]


@pytest.mark.parametrize("name", ["tone.m4a", "tone.mp3", "tone.opus"])
def test_direct_file_downloads_whole(server: MediaServer, tmp_path: Path, name: str) -> None:
    result = download(server.url(name), _options(tmp_path))

    assert result.path.parent == tmp_path
    assert result.path.read_bytes() == (server.root / name).read_bytes()
    assert _media_files(tmp_path) == [result.path]
    assert result.media.extractor == "Generic"


def test_media_behind_a_script_url_downloads(server: MediaServer, tmp_path: Path) -> None:
    # Small sites and podcast hosts serve files from scripts: yt-dlp took the URL's ".php" for
    # the file's extension and refused it as unsafe. The content decides, not the name.
    server.set_headers("download.php", Content_Type="audio/mpeg")
    result = download(server.url("download.php?episode=3"), _options(tmp_path))

    assert result.path.read_bytes() == (server.root / "download.php").read_bytes()
    assert result.path.suffix != ".php"


def test_video_keeps_the_picture(server: MediaServer, tmp_path: Path) -> None:
    result = download(server.url("clip.mp4"), _options(tmp_path, media=MediaKind.VIDEO))

    assert result.path.read_bytes() == (server.root / "clip.mp4").read_bytes()


@pytest.mark.parametrize("kind", ["ts", "fmp4"])
def test_hls_media_playlist_downloads_every_segment(
    server: MediaServer, tmp_path: Path, kind: str
) -> None:
    result = download(server.url(f"{kind}/index.m3u8"), _options(tmp_path))

    segments = [p for p in (server.root / kind).iterdir() if p.suffix in (".ts", ".m4s")]
    fetched = {r.path for r in server.requests}
    assert {f"/{kind}/{p.name}" for p in segments} <= fetched
    assert result.path.stat().st_size >= sum(p.stat().st_size for p in segments)
    assert _media_files(tmp_path) == [result.path]
    assert result.media.duration == pytest.approx(SECONDS, abs=0.5)


def test_master_playlist_takes_the_better_variant(server: MediaServer, tmp_path: Path) -> None:
    download(server.url("master.m3u8"), _options(tmp_path))

    segment_dirs = {r.path.split("/")[1] for r in server.requests if r.path.endswith(".ts")}
    assert segment_dirs == {"high"}


def test_redirect_is_followed(server: MediaServer, tmp_path: Path) -> None:
    server.redirect("/moved.m4a", "/tone.m4a")

    result = download(server.url("moved.m4a"), _options(tmp_path))

    assert result.path.read_bytes() == (server.root / "tone.m4a").read_bytes()


def test_redirect_to_a_forbidden_address_is_refused(media_root: Path, tmp_path: Path) -> None:
    # Two real servers: 127.0.0.1 is explicitly allowed, 127.0.0.2 (loopback) is not.
    only_first = AddressPolicy(allow=frozenset({"127.0.0.1"}))
    both = AddressPolicy(allow=frozenset({"127.0.0.1", "127.0.0.2/32"}))
    (tmp_path / "a").mkdir()
    with media_server(media_root) as first, media_server(media_root, host="127.0.0.2") as second:
        first.redirect("/away.m4a", second.url("tone.m4a"))

        with pytest.raises(AudiograbError) as refused:
            download(first.url("away.m4a"), _options(tmp_path / "a", address_policy=only_first))
        assert refused.value.code is ErrorCode.FORBIDDEN_ADDRESS
        assert second.requests == []

        # The same redirect works once the second address is allowed: the refusal was real.
        (tmp_path / "b").mkdir()
        result = download(first.url("away.m4a"), _options(tmp_path / "b", address_policy=both))
        assert result.path.stat().st_size == (media_root / "tone.m4a").stat().st_size


@pytest.mark.parametrize("threads", [1, 3])
def test_hls_segments_on_a_forbidden_address_are_refused(
    media_root: Path, tmp_path: Path, threads: int
) -> None:
    # With several threads the fragments are fetched on yt-dlp's own worker threads.
    only_first = AddressPolicy(allow=frozenset({"127.0.0.1"}))
    with media_server(media_root, host="127.0.0.2") as second:
        playlist = (media_root / "ts" / "index.m3u8").read_text()
        (tmp_path / "www").mkdir()
        (tmp_path / "www" / "remote.m3u8").write_text(
            "\n".join(
                second.url(f"ts/{line}") if line.endswith(".ts") else line
                for line in playlist.splitlines()
            )
        )
        with media_server(tmp_path / "www") as playlists, pytest.raises(AudiograbError) as refused:
            download(
                playlists.url("remote.m3u8"),
                _options(
                    tmp_path,
                    address_policy=only_first,
                    extra_params={"concurrent_fragment_downloads": threads},
                ),
            )
    assert refused.value.code is ErrorCode.FORBIDDEN_ADDRESS
    assert second.requests == []


def test_default_policy_refuses_loopback(server: MediaServer, tmp_path: Path) -> None:
    with pytest.raises(AudiograbError) as refused:
        download(server.url("tone.m4a"), DownloadOptions(work_dir=tmp_path))

    assert refused.value.code is ErrorCode.FORBIDDEN_ADDRESS
    assert server.requests == []


def test_dropped_connection_is_retried_to_the_full_size(
    server: MediaServer, tmp_path: Path
) -> None:
    # The first request is the generic extractor's peek at the first bytes; drop both it and
    # the download's own request mid-body.
    server.drop_after("/tone.m4a", 5_000, times=2)

    result = download(server.url("tone.m4a"), _options(tmp_path))

    assert result.path.read_bytes() == (server.root / "tone.m4a").read_bytes()
    assert server.requests_for("/tone.m4a")[-1].range == "bytes=5000-"


def test_missing_file_is_not_found(server: MediaServer, tmp_path: Path) -> None:
    server.not_found("/tone.m4a")

    with pytest.raises(AudiograbError) as failed:
        download(server.url("tone.m4a"), _options(tmp_path))

    assert failed.value.code is ErrorCode.NOT_FOUND


def test_cancel_stops_a_slow_download_promptly(server: MediaServer, tmp_path: Path) -> None:
    size = (server.root / "long.wav").stat().st_size
    server.slow("/long.wav", bytes_per_second=size / 20)  # would take 20 s
    cancel = threading.Event()
    cancelled_at: list[float] = []

    def on_progress(progress: DownloadProgress) -> None:
        if progress.downloaded_bytes > 0 and not cancel.is_set():
            cancelled_at.append(time.monotonic())
            cancel.set()

    with pytest.raises(AudiograbError) as stopped:
        download(
            server.url("long.wav"),
            _options(tmp_path, progress_interval=0.0),
            on_progress=on_progress,
            cancel=cancel,
        )

    assert stopped.value.code is ErrorCode.CANCELLED
    assert time.monotonic() - cancelled_at[0] < 2.0
    assert _media_files(tmp_path) == []


def test_cancel_before_start_does_no_request(server: MediaServer, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()

    with pytest.raises(AudiograbError) as stopped:
        download(server.url("tone.m4a"), _options(tmp_path), cancel=cancel)

    assert stopped.value.code is ErrorCode.CANCELLED
    assert server.requests == []


def test_progress_is_throttled_and_monotonic(server: MediaServer, tmp_path: Path) -> None:
    size = (server.root / "long.wav").stat().st_size
    server.slow("/long.wav", bytes_per_second=size / 0.8)
    reports: list[DownloadProgress] = []
    interval = 0.1

    started = time.monotonic()
    download(
        server.url("long.wav"),
        _options(tmp_path, progress_interval=interval),
        on_progress=reports.append,
    )
    elapsed = time.monotonic() - started

    assert 2 <= len(reports) <= elapsed / interval + 2
    sizes = [r.downloaded_bytes for r in reports]
    assert sizes == sorted(sizes)
    assert reports[-1].downloaded_bytes == size
    assert reports[-1].percent == 100.0


def test_hls_progress_counts_fragments(server: MediaServer, tmp_path: Path) -> None:
    reports: list[DownloadProgress] = []

    download(
        server.url("ts/index.m3u8"),
        _options(tmp_path, progress_interval=0.0),
        on_progress=reports.append,
    )

    assert any(r.fragment_count for r in reports)
    assert reports[-1].percent == 100.0


def test_extract_info_downloads_nothing(server: MediaServer, tmp_path: Path) -> None:
    info = extract_info(server.url("fmp4/index.m3u8"), _options(tmp_path))

    assert info.title == "index"
    assert info.duration == pytest.approx(SECONDS, abs=0.5)
    assert not any(r.path.endswith(".m4s") for r in server.requests)
    assert list(tmp_path.iterdir()) == []


def test_extract_info_tells_sound_only_from_video(server: MediaServer, tmp_path: Path) -> None:
    sound = extract_info(server.url("tone.mp3"), _options(tmp_path))
    picture = media_info_from({"formats": [{"vcodec": "none"}, {"vcodec": "avc1.64001f"}]})
    untold = extract_info(server.url("clip.mp4"), _options(tmp_path))  # yt-dlp cannot say

    assert (sound.has_video, picture.has_video, untold.has_video) == (False, True, None)


def test_live_hls_is_refused_under_a_restrictive_policy(
    server: MediaServer, tmp_path: Path
) -> None:
    live = (server.root / "ts" / "index.m3u8").read_text()
    live = live.replace("#EXT-X-PLAYLIST-TYPE:VOD\n", "").replace("#EXT-X-ENDLIST\n", "")
    (server.root / "ts" / "live.m3u8").write_text(live)
    policy = AddressPolicy(allow=frozenset({"127.0.0.1"}))

    with pytest.raises(AudiograbError) as refused:
        download(server.url("ts/live.m3u8"), _options(tmp_path, address_policy=policy))

    assert refused.value.code is ErrorCode.UNSUPPORTED_YET


def test_playlist_urls_need_the_playlist_flag(server: MediaServer, tmp_path: Path) -> None:
    items = "".join(
        f'<item><title>{name}</title><enclosure url="{server.url(name)}" type="audio/mpeg"/></item>'
        for name in ("tone.mp3", "tone.m4a")
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>{items}'
    (server.root / "feed.xml").write_text(feed + "</channel></rss>")

    (tmp_path / "single").mkdir()
    with pytest.raises(AudiograbError) as refused:
        download(server.url("feed.xml"), _options(tmp_path / "single"))
    assert refused.value.code is ErrorCode.INVALID_REQUEST

    (tmp_path / "all").mkdir()
    result = download(server.url("feed.xml"), _options(tmp_path / "all", playlist=True))
    assert result.path.read_bytes() == (server.root / "tone.mp3").read_bytes()
    assert _media_files(tmp_path / "all") == [result.path]


def test_params_are_fresh_and_extra_params_deep_copied(tmp_path: Path) -> None:
    extra = {"http_headers": {"Referer": "https://example.com/"}, "format": "worst"}
    options = _options(tmp_path, extra_params=extra)

    first, second = build_params(options), build_params(options)
    first["http_headers"]["Referer"] = "changed"

    assert second["http_headers"]["Referer"] == "https://example.com/"
    assert extra["http_headers"] == {"Referer": "https://example.com/"}
    assert second["format"] == "worst"
    assert second["retries"] == 10
    assert second["fragment_retries"] == 10
    assert second["external_downloader"] == {"default": "native"}


def _http_error(status: int, reason: str) -> HTTPError:
    return HTTPError(Response(io.BytesIO(b""), "https://example.com/", {}, status, reason))


def _wrapped(cause: Exception) -> DownloadError:
    """What `YoutubeDL.extract_info` raises: a DownloadError carrying the real cause."""
    return DownloadError(f"ERROR: {cause}", (type(cause), cause, None))


MAPPINGS: list[tuple[Exception, ErrorCode]] = [
    (UnsupportedError("https://example.com/x"), ErrorCode.UNSUPPORTED_URL),
    (ExtractorError("Unsupported URL: https://example.com/"), ErrorCode.UNSUPPORTED_URL),
    (
        ExtractorError("Unable to download webpage", cause=_http_error(404, "Not Found")),
        ErrorCode.NOT_FOUND,
    ),
    (_http_error(410, "Gone"), ErrorCode.NOT_FOUND),
    (ExtractorError("Video unavailable. This video has been removed"), ErrorCode.NOT_FOUND),
    (ExtractorError("This tweet does not exist"), ErrorCode.NOT_FOUND),
    (ExtractorError("Sign in to confirm your age"), ErrorCode.AUTH_REQUIRED),
    (ExtractorError("This video is private"), ErrorCode.AUTH_REQUIRED),
    (ExtractorError("You need to log in to access this content"), ErrorCode.AUTH_REQUIRED),
    (_http_error(401, "Unauthorized"), ErrorCode.AUTH_REQUIRED),
    (
        ExtractorError(
            "HTTP Error 403: Forbidden. Use --cookies for the authentication",
            cause=_http_error(403, "Forbidden"),
        ),
        ErrorCode.AUTH_REQUIRED,
    ),
    (_http_error(403, "Forbidden"), ErrorCode.DOWNLOAD_FAILED),
    (GeoRestrictedError("Video not available", countries=["US"]), ErrorCode.GEO_BLOCKED),
    (
        ExtractorError("The uploader has not made this video available in your country"),
        ErrorCode.GEO_BLOCKED,
    ),
    (TransportError("The read operation timed out"), ErrorCode.NETWORK),
    (TransportError(cause=ConnectionRefusedError(111, "Connection refused")), ErrorCode.NETWORK),
    (_http_error(503, "Service Unavailable"), ErrorCode.NETWORK),
    (_http_error(429, "Too Many Requests"), ErrorCode.NETWORK),
    (ExtractorError("Giving up after 10 retries"), ErrorCode.NETWORK),
    (ConnectionResetError(), ErrorCode.NETWORK),
    (ExtractorError("Requested format is not available"), ErrorCode.DOWNLOAD_FAILED),
    (ValueError("something odd"), ErrorCode.DOWNLOAD_FAILED),
    (
        DownloadError("unable to write data: [Errno 28] No space left on device"),
        ErrorCode.DISK_FULL,
    ),
]


@pytest.mark.parametrize(("error", "code"), MAPPINGS)
def test_map_error(error: Exception, code: ErrorCode) -> None:
    assert map_error(error).code is code
    assert map_error(_wrapped(error)).code is code


def test_map_error_passes_our_errors_through() -> None:
    refusal = AudiograbError(ErrorCode.FORBIDDEN_ADDRESS, "refusing 10.0.0.1")

    assert map_error(refusal) is refusal
    assert map_error(_wrapped(refusal)) is refusal
    assert map_error(ExtractorError("wrapped", cause=refusal)) is refusal


def test_map_error_message_is_one_clean_line() -> None:
    error = DownloadError("ERROR: \x1b[0;31m[generic] x: HTTP Error 403: Forbidden\nmore", None)

    assert map_error(error).message == "[generic] x: HTTP Error 403: Forbidden"


def test_a_404_is_said_in_words_not_yt_dlp_text() -> None:
    error = DownloadError("ERROR: [generic] x: Unable to download webpage: HTTP Error 404", None)

    assert map_error(error).message == "nothing at this link (HTTP 404)"


def test_media_info_from_a_yt_dlp_info_dict() -> None:
    info = media_info_from(
        {
            "title": "Episode 1",
            "channel": "Host",
            "upload_date": "20240102",
            "duration": 61,
            "webpage_url": "https://example.com/e1",
            "extractor_key": "Example",
            "filesize_approx": 1234.0,
            "is_live": None,
        }
    )

    assert info.title == "Episode 1"
    assert info.uploader == "Host"
    assert info.date == "2024-01-02"
    assert info.duration == 61.0
    assert info.extractor == "Example"
    assert info.filesize == 1234
    assert info.is_live is False


def test_hls_gaps_count_the_init_section_and_merge_neighbours() -> None:
    playlist = "\n".join(
        [
            "#EXTM3U",
            '#EXT-X-MAP:URI="init.mp4"',
            *(f"#EXTINF:2.5,\nseg{i}.m4s" for i in range(6)),
            "#EXT-X-ENDLIST",
        ]
    )
    # Fragment 1 is the init section, so segments 1, 2 and 4 are fragments 3, 4 and 6.
    assert hls_gaps(playlist, {3, 4, 6}) == (Gap(start=2.5, end=7.5), Gap(start=10.0, end=12.5))
    assert hls_gaps(playlist, set()) == ()
