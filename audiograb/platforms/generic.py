"""Any other http(s) URL: direct media files, HLS and DASH manifests, podcast feeds, pages.

yt-dlp's generic extractor handles media, manifests and pages with embedded media. A podcast
RSS feed is ours: the resolver fetches URLs that do not name a media file and, when the answer
is an RSS document, resolves it to its latest episode; anything else goes to yt-dlp unchanged,
titled after the `Content-Disposition` file name when the server gives one (yt-dlp would name
`download.php?id=3` "download").
The URL is kept as given (fragment aside): query parameters of direct links are often signed,
so even tracking-looking ones may not be removed.
"""

from pathlib import PurePosixPath

from audiograb.domain import AudiograbError, ErrorCode, LinkKind, MediaInfo
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, parse_url
from audiograb.platforms.feeds import (
    FEED_ACCEPT,
    FEED_TYPES,
    episode_media,
    looks_like_feed,
    parse_feed,
)
from audiograb.platforms.resolve import ResolveContext, Resolved

__all__ = ["PLATFORM", "SITE", "resolve"]

PLATFORM = Platform(
    id="generic",
    name="Direct media, HLS and DASH links",
    example_urls=(
        "https://example.com/media/episode.mp3",
        "https://example.com/live/stream.m3u8",
        "https://example.com/video/manifest.mpd",
        "https://feeds.example.com/podcast.xml",
    ),
    has_video=True,
)

# Paths with these suffixes are media or manifests: no feed probe, straight to yt-dlp.
_MEDIA_SUFFIXES = frozenset(
    [
        ".mp3",
        ".m4a",
        ".m4b",
        ".aac",
        ".ogg",
        ".oga",
        ".opus",
        ".flac",
        ".wav",
        ".mp4",
        ".m4v",
        ".mov",
        ".webm",
        ".mkv",
        ".avi",
        ".ts",
        ".m4s",
        ".m3u8",
        ".m3u",
        ".mpd",
        ".f4m",
        ".ism",
    ]
)
# Of those, the manifests of a stream (HLS, DASH, HDS, Smooth Streaming).
_MANIFEST_SUFFIXES = frozenset([".m3u8", ".m3u", ".mpd", ".f4m", ".ism"])
# Names that podcast feeds usually go by; anything else may still turn out to be a feed.
_FEED_SUFFIXES = frozenset([".rss", ".xml", ".atom"])
_FEED_NAMES = frozenset(["feed", "rss", "podcast"])


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl:
    return MatchedUrl(platform=PLATFORM, url=url.url, kind=_kind_of(url.path))


def _kind_of(path: str) -> LinkKind:
    """A file or a manifest by its suffix; a feed by its name; else a page (a fetch tells)."""
    posix = PurePosixPath(path)
    suffix = posix.suffix.lower()
    if suffix in _MANIFEST_SUFFIXES:
        return LinkKind.STREAM
    if suffix in _MEDIA_SUFFIXES:
        return LinkKind.FILE
    if suffix in _FEED_SUFFIXES or posix.name.lower() in _FEED_NAMES:
        return LinkKind.FEED
    return LinkKind.PAGE


def resolve(matched: MatchedUrl, ctx: ResolveContext) -> Resolved | None:
    """A podcast feed's latest episode; a served file's own name as its title; else None (yt-dlp
    reads the URL as it is)."""
    suffix = PurePosixPath(parse_url(matched.url).path).suffix.lower()
    if suffix in _MEDIA_SUFFIXES:
        return None
    page = ctx.fetch(matched.url, accept=FEED_ACCEPT, only=FEED_TYPES)
    if not looks_like_feed(page):
        title = PurePosixPath(page.filename).stem.strip() if page.filename else ""
        return Resolved(media_url=matched.url, media=MediaInfo(title=title)) if title else None
    feed = parse_feed(page.body, base_url=page.url)
    if not feed.episodes:
        raise AudiograbError(ErrorCode.NOT_FOUND, f"the feed {matched.url} has no episodes")
    latest = feed.episodes[0]
    return Resolved(
        media_url=latest.enclosure_url,
        media=episode_media(feed, latest, page_url=latest.link or matched.url, extractor="rss"),
    )


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset(),
    shapes=(
        "any http(s) URL of a media file, HLS (.m3u8) or DASH (.mpd) manifest, or podcast RSS feed",
    ),
    match=_match,
    resolve=resolve,
)
