"""Apple Podcasts episodes: `podcasts.apple.com/CC/podcast/SLUG/idSHOW?i=EPISODE`.

yt-dlp's extractor fetches an episode by its `i=` id. A show link (no `i=`) is a collection of
episodes: refused without `playlist=True`, and with it, unavailable until the RSS resolver lands.
"""

import re

from audiograb.domain import AudiograbError, ErrorCode
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
    id="apple_podcasts",
    name="Apple Podcasts",
    example_urls=(
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000681335183",
        "https://podcasts.apple.com/podcast/id1200361736?i=1000681335183",
    ),
    has_video=False,
)

_HOST = "podcasts.apple.com"
_PATH = re.compile(
    r"(?:/(?P<cc>[A-Za-z]{2}))?/podcast(?:/(?P<slug>[^/]+))??/id(?P<show>\d{1,12})/?"
)
_EPISODE = re.compile(r"\d{1,20}")


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    found = _PATH.fullmatch(url.path)
    if found is None:
        return None
    episode = url.param("i")
    if episode is None:
        if not playlist:
            raise playlist_refused(url, "podcast show")
        raise AudiograbError(
            ErrorCode.UNSUPPORTED_YET,
            "Apple Podcasts show links are recognised but downloading whole shows arrives in a "
            "later release; link an episode (…?i=EPISODE_ID) instead",
        )
    if not _EPISODE.fullmatch(episode):
        return None
    slug = f"/{found['slug']}" if found["slug"] else ""
    path = f"/{(found['cc'] or 'us').lower()}/podcast{slug}/id{found['show']}"
    return MatchedUrl(platform=PLATFORM, url=build_url(_HOST, path, [("i", episode)]))


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset({_HOST}),
    shapes=("podcasts.apple.com/CC/podcast/SLUG/idSHOW?i=EPISODE",),
    match=_match,
)
