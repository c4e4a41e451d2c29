"""Instagram reels, posts and IGTV: `instagram.com/(reel|reels|p|tv)/CODE`.

An optional leading user segment (`instagram.com/USER/reel/CODE`) and a trailing `/embed` (from
embed codes) are dropped, `reels` becomes `reel`, share tracking (`igsh=`, `utm_*`) goes, and
Instagram's short host `instagr.am` becomes `www.instagram.com`. Much of Instagram needs a
logged-in session: pass browser cookies.
"""

import re

from audiograb.domain import LinkKind
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url

__all__ = ["PLATFORM", "SITE"]

PLATFORM = Platform(
    id="instagram",
    name="Instagram",
    example_urls=(
        "https://www.instagram.com/reel/C9xQ3sVvJkL/",
        "https://www.instagram.com/p/C9xQ3sVvJkL/?igsh=MTc4MmM1YmI2Ng==",
        "https://www.instagram.com/natgeo/reel/C9xQ3sVvJkL/",
    ),
    has_video=True,
    needs_cookies=True,
)

_PATH = re.compile(
    r"(?:/(?!share/)[A-Za-z0-9_.]{1,30})?/(?P<kind>reels?|p|tv)/(?P<code>[A-Za-z0-9_-]{5,64})"
    r"(?:/embed(?:/captioned)?)?/?"
)


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    found = _PATH.fullmatch(url.path)
    if found is None:
        return None
    kind = "reel" if found["kind"] == "reels" else found["kind"]
    path = f"/{kind}/{found['code']}/"
    link_kind = LinkKind.POST if kind == "p" else LinkKind.VIDEO
    return MatchedUrl(platform=PLATFORM, url=build_url("www.instagram.com", path), kind=link_kind)


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset({"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am"}),
    shapes=("instagram.com/reel/CODE", "instagram.com/p/CODE", "instagram.com/tv/CODE"),
    match=_match,
)
