"""小宇宙 (Xiaoyuzhou) podcasts: `xiaoyuzhoufm.com/episode/ID` and `/podcast/ID`.

yt-dlp has no extractor for 小宇宙; the episode page embeds the audio URL, which our resolver
will read. Until it lands, links are recognised and the registry answers `unsupported_yet`.
"""

import re

from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url

__all__ = ["PLATFORM", "SITE"]

PLATFORM = Platform(
    id="xiaoyuzhou",
    name="小宇宙 (Xiaoyuzhou)",
    example_urls=(
        "https://www.xiaoyuzhoufm.com/episode/6695e5c7f4d1c2b3a4958677",
        "https://www.xiaoyuzhoufm.com/podcast/5e280fab418a84a0461fa49a",
    ),
    has_video=False,
    available=False,
    availability_note="resolver arrives in a later release",
)

_PATH = re.compile(r"/(?P<kind>episode|podcast)/(?P<id>[0-9a-f]{24})/?")


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    found = _PATH.fullmatch(url.path)
    if found is None:
        return None
    canonical = build_url("www.xiaoyuzhoufm.com", f"/{found['kind']}/{found['id']}")
    return MatchedUrl(platform=PLATFORM, url=canonical)


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset({"xiaoyuzhoufm.com", "www.xiaoyuzhoufm.com"}),
    shapes=("xiaoyuzhoufm.com/episode/ID", "xiaoyuzhoufm.com/podcast/ID"),
    match=_match,
)
