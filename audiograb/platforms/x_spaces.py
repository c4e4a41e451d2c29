"""X (Twitter) Spaces: live and recorded audio rooms at `x.com/i/spaces/ID`.

yt-dlp fetches Spaces through FFmpeg (an HLS stream), so progress and cancellation are the
engine's business; here we only recognise and canonicalise the link.
"""

import re

from audiograb.domain import LinkKind
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url
from audiograb.platforms.x_video import X_HOSTS

__all__ = ["PLATFORM", "SITE"]

PLATFORM = Platform(
    id="x_spaces",
    name="X Spaces",
    example_urls=(
        "https://x.com/i/spaces/1YqKDqDXAbwKV",
        "https://twitter.com/i/spaces/1OdKrBnaEPXKX/peek",
    ),
    has_video=False,
    needs_cookies=True,
)

_PATH = re.compile(r"/i/spaces/(?P<id>[0-9A-Za-z]{13})(?:/peek)?/?")


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    found = _PATH.fullmatch(url.path)
    if found is None:
        return None
    return MatchedUrl(
        platform=PLATFORM, url=build_url("x.com", f"/i/spaces/{found['id']}"), kind=LinkKind.SPACE
    )


SITE = Site(platform=PLATFORM, hosts=X_HOSTS, shapes=("x.com/i/spaces/ID",), match=_match)
