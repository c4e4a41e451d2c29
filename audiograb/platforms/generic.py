"""Any other http(s) URL: direct media files, HLS and DASH manifests, pages with embedded media.

yt-dlp's generic extractor handles these. The URL is kept as given (fragment aside): query
parameters of direct links are often signed, so even tracking-looking ones may not be removed.
"""

from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site

__all__ = ["PLATFORM", "SITE"]

PLATFORM = Platform(
    id="generic",
    name="Direct media, HLS and DASH links",
    example_urls=(
        "https://example.com/media/episode.mp3",
        "https://example.com/live/stream.m3u8",
        "https://example.com/video/manifest.mpd",
    ),
    has_video=True,
)


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl:
    return MatchedUrl(platform=PLATFORM, url=url.url)


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset(),
    shapes=("any http(s) URL of a media file, HLS (.m3u8) or DASH (.mpd) manifest",),
    match=_match,
)
