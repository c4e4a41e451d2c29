"""Spotify: episodes, tracks, shows, albums and playlists on `open.spotify.com`.

yt-dlp no longer downloads Spotify (its URLs hit a DRM refusal), so the platform waits for our
resolver (podcast episodes through their public RSS feeds). Until then links are recognised and
canonicalised, and the registry answers `unsupported_yet`.
"""

import re

from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url

__all__ = ["PLATFORM", "SITE"]

PLATFORM = Platform(
    id="spotify",
    name="Spotify",
    example_urls=(
        "https://open.spotify.com/episode/5Xt5DXGzch68nYYamXrNxZ",
        "https://open.spotify.com/intl-de/track/4cOdK2wGLETKBW3PvgPWqT",
        "https://spotify.link/AbCdEf123",
    ),
    has_video=False,
    available=False,
    availability_note="resolver arrives in a later release",
)

_OPEN_HOST = "open.spotify.com"
_SHORT_HOST = "spotify.link"
_PATH = re.compile(
    r"(?:/intl-[A-Za-z]{2}(?:-[A-Za-z]{2,4})?)?"
    r"/(?P<kind>episode|track|show|album|playlist)/(?P<id>[A-Za-z0-9]{22})/?"
)
_SHORT_PATH = re.compile(r"/(?P<code>[A-Za-z0-9]{4,32})/?")


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    if url.host == _SHORT_HOST:
        short = _SHORT_PATH.fullmatch(url.path)
        canonical = build_url(_SHORT_HOST, f"/{short['code']}") if short else None
    else:
        found = _PATH.fullmatch(url.path)
        canonical = build_url(_OPEN_HOST, f"/{found['kind']}/{found['id']}") if found else None
    return None if canonical is None else MatchedUrl(platform=PLATFORM, url=canonical)


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset({_OPEN_HOST, _SHORT_HOST}),
    shapes=(
        "open.spotify.com/(episode|track|show|album|playlist)/ID",
        "spotify.link/CODE",
    ),
    match=_match,
)
