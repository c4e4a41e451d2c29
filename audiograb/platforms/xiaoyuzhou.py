"""小宇宙 (Xiaoyuzhou) podcasts: `xiaoyuzhoufm.com/episode/ID` and `/podcast/ID`.

yt-dlp has no extractor for 小宇宙. Its pages are Next.js pages that embed their data in
`<script id="__NEXT_DATA__">`: an episode page holds `props.pageProps.episode` (title,
`enclosure.url`, `pubDate`, `duration`, `shownotes`, `image`, and its `podcast`), a podcast page
holds `props.pageProps.podcast` with its recent `episodes`, newest first. Episode links give
that episode, podcast links their latest episode. Pages are read from the `xiaoyuzhou_base`
setting.
"""

import re
from typing import Any

from audiograb.domain import AudiograbError, ErrorCode, LinkKind, MediaInfo
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url, parse_url
from audiograb.platforms.feeds import parse_date, plain_text
from audiograb.platforms.pages import dig, dig_float, dig_str, read_json, read_page
from audiograb.platforms.resolve import ResolveContext, Resolved

__all__ = ["PLATFORM", "SITE", "resolve"]

PLATFORM = Platform(
    id="xiaoyuzhou",
    name="小宇宙 (Xiaoyuzhou)",
    example_urls=(
        "https://www.xiaoyuzhoufm.com/episode/6695e5c7f4d1c2b3a4958677",
        "https://www.xiaoyuzhoufm.com/podcast/5e280fab418a84a0461fa49a",
    ),
    has_video=False,
)

_PATH = re.compile(r"/(?P<kind>episode|podcast)/(?P<id>[0-9a-f]{24})/?")


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    found = _PATH.fullmatch(url.path)
    if found is None:
        return None
    canonical = build_url("www.xiaoyuzhoufm.com", f"/{found['kind']}/{found['id']}")
    kind = LinkKind.EPISODE if found["kind"] == "episode" else LinkKind.SHOW
    return MatchedUrl(platform=PLATFORM, url=canonical, kind=kind)


def resolve(matched: MatchedUrl, ctx: ResolveContext) -> Resolved:
    """The episode's enclosure, or the podcast's latest episode's."""
    found = _PATH.fullmatch(parse_url(matched.url).path)
    if found is None:  # a MatchedUrl of this platform always has this shape
        raise AudiograbError(ErrorCode.UNSUPPORTED_URL, f"not a 小宇宙 link: {matched.url}")
    kind, item_id = found["kind"], found["id"]
    page = ctx.fetch(f"{ctx.xiaoyuzhou_base.rstrip('/')}/{kind}/{item_id}", accept="text/html")
    script = read_page(page.text()).scripts.get("__NEXT_DATA__")
    if script is None:
        raise AudiograbError(
            ErrorCode.DOWNLOAD_FAILED, f"the 小宇宙 {kind} page carries no episode data"
        )
    props = dig(read_json(script, "the 小宇宙 page data"), "props", "pageProps")
    if kind == "episode":
        episode, podcast = dig(props, "episode"), dig(props, "episode", "podcast")
    else:
        podcast = dig(props, "podcast")
        episodes = [e for e in dig(podcast, "episodes") or () if dig_str(e, "enclosure", "url")]
        episode = episodes[0] if episodes else None
    url = dig_str(episode, "enclosure", "url") or dig_str(episode, "media", "source", "url")
    if episode is None or url is None:
        raise AudiograbError(ErrorCode.NOT_FOUND, f"the 小宇宙 {kind} has no playable episode")
    return Resolved(media_url=url, media=_media(episode, podcast))


def _media(episode: Any, podcast: Any) -> MediaInfo:
    published = parse_date(dig_str(episode, "pubDate"))
    eid = dig_str(episode, "eid")
    return MediaInfo(
        title=dig_str(episode, "title"),
        uploader=dig_str(podcast, "title") or dig_str(podcast, "author"),
        date=published.date().isoformat() if published else None,
        description=plain_text(dig_str(episode, "shownotes")) or dig_str(episode, "description"),
        duration=dig_float(episode, "duration"),
        webpage_url=f"https://www.xiaoyuzhoufm.com/episode/{eid}" if eid else None,
        thumbnail=dig_str(episode, "image", "picUrl") or dig_str(podcast, "image", "picUrl"),
        extractor="xiaoyuzhou",
    )


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset({"xiaoyuzhoufm.com", "www.xiaoyuzhoufm.com"}),
    shapes=("xiaoyuzhoufm.com/episode/ID", "xiaoyuzhoufm.com/podcast/ID"),
    match=_match,
    resolve=resolve,
)
