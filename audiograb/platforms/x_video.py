"""X (Twitter) posts with video: `x.com/USER/status/ID`, `twitter.com` and mobile hosts unified.

The canonical form is `https://x.com/USER/status/ID`, keeping `/video/N` when the link picks one
video of a multi-video post; `/photo/N` (a link copied while viewing a picture) means the post;
tracking parameters (`s=`, `t=`, `ref_src=`) are dropped. Links through the embed fixers people
share in chats (`fxtwitter.com`, `vxtwitter.com`, `fixupx.com`, `fixvx.com`) carry X's own path
and become the same x.com URL: those services are never contacted.
"""

import re

from audiograb.domain import LinkKind
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url

__all__ = ["PLATFORM", "SITE", "X_HOSTS"]

#: Hosts of X, shared with the Spaces module.
X_HOSTS = frozenset(
    f"{prefix}{domain}"
    for prefix in ("", "www.", "mobile.", "m.")
    for domain in ("x.com", "twitter.com")
)
_EMBED_FIXERS = frozenset(
    f"{prefix}{domain}"
    for prefix in ("", "www.")
    for domain in ("fxtwitter.com", "vxtwitter.com", "fixupx.com", "fixvx.com")
)

PLATFORM = Platform(
    id="x_video",
    name="X (Twitter) video",
    example_urls=(
        "https://x.com/NASA/status/1795524440221262263",
        "https://twitter.com/i/web/status/1795524440221262263",
        "https://mobile.twitter.com/NASA/status/1795524440221262263/video/1",
    ),
    has_video=True,
    needs_cookies=True,
)

_PATH = re.compile(
    r"/(?:(?P<user>[A-Za-z0-9_]{1,15})/status|i/web/status|statuses)/(?P<id>\d{1,20})"
    r"(?:(?P<video>/video/\d{1,2})|/photo/\d{1,2})?/?"
)


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    found = _PATH.fullmatch(url.path)
    if found is None:
        return None
    path = f"/{found['user'] or 'i'}/status/{found['id']}{found['video'] or ''}"
    return MatchedUrl(platform=PLATFORM, url=build_url("x.com", path), kind=LinkKind.VIDEO)


SITE = Site(
    platform=PLATFORM,
    hosts=X_HOSTS | _EMBED_FIXERS,
    shapes=("x.com/USER/status/ID",),
    match=_match,
)
