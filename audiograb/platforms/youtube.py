"""YouTube and YouTube Music: videos, shorts, live streams, and playlists when asked for.

Every single-video form (`youtu.be/ID`, `/shorts/ID`, `/live/ID`, `/embed/ID`, `m.` hosts, the
privacy-enhanced embeds of `youtube-nocookie.com`) becomes `https://www.youtube.com/watch?v=ID`,
with its start time (`t=42`, `t=1m30s`) kept;
`music.youtube.com` keeps its host because yt-dlp picks its music clients (and track metadata)
from it. A video URL never grows into its playlist: without `playlist=True` the `list=`
parameter is dropped and yt-dlp is told `noplaylist`; a bare playlist URL without it is refused.
"""

import re

from audiograb.domain import LinkKind
from audiograb.platforms.base import (
    MatchedUrl,
    ParsedUrl,
    Platform,
    Site,
    build_url,
    playlist_refused,
)

__all__ = ["PLATFORM", "SITE"]

PLATFORM = Platform(
    id="youtube",
    name="YouTube",
    example_urls=(
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.youtube.com/shorts/aqz-KE-bpKQ",
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    has_video=True,
    needs_cookies=True,
)

_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_LIST_ID = re.compile(r"[A-Za-z0-9_-]{2,64}")
_PATH_VIDEO = re.compile(r"/(?:shorts|live|embed|v)/(?P<id>[A-Za-z0-9_-]{11})/?")
_SHORT_HOST = "youtu.be"
#: A start time as people share it: `t=42`, `t=42s`, `t=1m30s`, `t=1h2m3s`.
_START = re.compile(r"\d+s?|(?:\d+h)?(?:\d+m)?(?:\d+s)?")
_MUSIC_HOST = "music.youtube.com"


def _video_id(url: ParsedUrl) -> str | None:
    if url.host == _SHORT_HOST:
        candidate: str | None = url.path.strip("/")
    elif url.path.rstrip("/") == "/watch":
        candidate = url.param("v")
    else:
        found = _PATH_VIDEO.fullmatch(url.path)
        candidate = found["id"] if found else None
    return candidate if candidate is not None and _VIDEO_ID.fullmatch(candidate) else None


def _list_id(url: ParsedUrl) -> str | None:
    value = url.param("list")
    return value if value is not None and _LIST_ID.fullmatch(value) else None


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    host = _MUSIC_HOST if url.host == _MUSIC_HOST else "www.youtube.com"
    video, listed = _video_id(url), _list_id(url)
    kind = LinkKind.VIDEO
    if video is not None:
        params = [("v", video)]
        if playlist and listed is not None:
            params.append(("list", listed))
            kind = LinkKind.PLAYLIST
        start = url.param("t")
        if start and _START.fullmatch(start):  # a shared moment keeps its start time
            params.append(("t", start))
        canonical = build_url(host, "/watch", params)
    elif url.host != _SHORT_HOST and url.path.rstrip("/") == "/playlist" and listed is not None:
        if not playlist:
            raise playlist_refused(url, "YouTube playlist")
        canonical = build_url(host, "/playlist", [("list", listed)])
        kind = LinkKind.PLAYLIST
    else:
        return None
    return MatchedUrl(
        platform=PLATFORM, url=canonical, kind=kind, ytdlp_params={"noplaylist": not playlist}
    )


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset(
        {
            "youtube.com",
            "www.youtube.com",
            "m.youtube.com",
            "youtube-nocookie.com",
            "www.youtube-nocookie.com",
            _MUSIC_HOST,
            _SHORT_HOST,
        }
    ),
    shapes=(
        "youtube.com/watch?v=ID",
        "youtu.be/ID",
        "youtube.com/shorts/ID",
        "youtube.com/live/ID",
        "youtube.com/playlist?list=ID (with playlist=True)",
    ),
    match=_match,
)
