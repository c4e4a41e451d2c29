"""A stream yt-dlp hands to FFmpeg (X Spaces) goes under the network policy host by host: the
hosts its playlist names are checked before FFmpeg gets it, not only the playlist's own.

Loopback stand-ins: the policy allows 127.0.0.1 (the "public" playlist host) and nothing else,
so the segment host on 127.0.0.2 plays a private address that FFmpeg must not reach.
"""

from pathlib import Path

import msgspec
import pytest

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.engines.netguard import AddressPolicy
from audiograb.engines.ytdlp import DownloadOptions, download
from tests.media import ffmpeg_exe, make_hls
from tests.mediaserver import media_server

# yt-dlp records a live HLS stream (an X Space) with FFmpeg; the generic extractor is told the
# playlist is live, as the X extractor says of a Space.
LIVE = {"extractor_args": {"generic": {"is_live": ["true"]}}}


def test_every_host_in_the_playlist_is_checked_before_ffmpeg(tmp_path: Path) -> None:
    segments = tmp_path / "segments"
    make_hls(segments, seconds=3, segment_seconds=1)
    playlist_root = tmp_path / "public"
    playlist_root.mkdir()
    with (
        media_server(segments, host="127.0.0.2") as private,
        media_server(playlist_root) as public,
    ):
        lines = (segments / "index.m3u8").read_text().splitlines()
        absolute = [private.url(line) if line.endswith(".ts") else line for line in lines]
        (playlist_root / "space.m3u8").write_text("\n".join(absolute) + "\n")
        options = DownloadOptions(
            work_dir=tmp_path / "work",
            address_policy=AddressPolicy(allow=frozenset({"127.0.0.1"})),
            ffmpeg_location=ffmpeg_exe(),
            extra_params=LIVE,
            external_downloads=True,
        )
        (tmp_path / "work").mkdir()
        with pytest.raises(AudiograbError) as refused:
            download(public.url("space.m3u8"), options)
        assert refused.value.code == ErrorCode.FORBIDDEN_ADDRESS
        assert private.requests_for("seg000.ts") == []
        # With the segment host allowed too, FFmpeg records the stream.
        both = AddressPolicy(allow=frozenset({"127.0.0.1", "127.0.0.2"}))
        done = download(
            public.url("space.m3u8"), msgspec.structs.replace(options, address_policy=both)
        )
        assert done.path.stat().st_size > 0
        assert private.requests_for("seg000.ts") != []
