"""小红书 (Xiaohongshu / RED) notes: `xiaohongshu.com/explore/ID` and `xhslink.com` short links.

`/discovery/item/ID` and `/user/profile/UID/ID` (a note opened from a profile) become
`/explore/ID`. The `xsec_token` parameter is kept: the site refuses
to show a note on the web without it. Short links stay as they are; yt-dlp follows the redirect
to the note page.
"""

import re

from audiograb.domain import LinkKind
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url

__all__ = ["PLATFORM", "SITE"]

PLATFORM = Platform(
    id="xiaohongshu",
    name="小红书 (Xiaohongshu)",
    example_urls=(
        "https://www.xiaohongshu.com/explore/66a1b2c3d4e5f60718293a4b?xsec_token=ABcdEF",
        "https://www.xiaohongshu.com/discovery/item/66a1b2c3d4e5f60718293a4b",
        "http://xhslink.com/a/Ab3dE5fG7hJ",
    ),
    has_video=True,
    needs_cookies=True,
)

_SHORT_HOSTS = frozenset({"xhslink.com", "www.xhslink.com"})
_NOTE_PATH = re.compile(
    r"/(?:explore|discovery/item|user/profile/[0-9a-f]{24})/(?P<id>[0-9a-f]{24})/?"
)
_SHORT_PATH = re.compile(r"/(?P<code>(?:[a-z]/)?[A-Za-z0-9]{4,32})/?")
_KEPT_PARAMS = ("xsec_token", "xsec_source")


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    if url.host in _SHORT_HOSTS:
        short = _SHORT_PATH.fullmatch(url.path)
        canonical = build_url("xhslink.com", f"/{short['code']}") if short else None
    elif note := _NOTE_PATH.fullmatch(url.path):
        kept = [(key, value) for key, value in url.query if key in _KEPT_PARAMS]
        canonical = build_url("www.xiaohongshu.com", f"/explore/{note['id']}", kept)
    else:
        canonical = None
    if canonical is None:
        return None
    return MatchedUrl(platform=PLATFORM, url=canonical, kind=LinkKind.POST)


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset({"xiaohongshu.com", "www.xiaohongshu.com", *_SHORT_HOSTS}),
    shapes=(
        "xiaohongshu.com/explore/ID",
        "xiaohongshu.com/discovery/item/ID",
        "xiaohongshu.com/user/profile/UID/ID",
        "xhslink.com/CODE",
    ),
    match=_match,
)
