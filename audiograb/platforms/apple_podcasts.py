"""Apple Podcasts: `podcasts.apple.com/CC/podcast/SLUG/idSHOW?i=EPISODE` and show links.

The same paths on the player's `embed.podcasts.apple.com` and on the old `itunes.apple.com`
(still all over older show notes) are the same episodes and shows.

Resolved through the iTunes lookup API and the show's own RSS feed: the lookup names the feed
and the episode's guid, title and date; the feed's item with that guid (or that exact title on
that day) gives the enclosure and the show notes. When the feed lacks the episode, the lookup's
own `episodeUrl` (the same file) is used. Anything less than the very episode linked is a
`not_found` error, never a different episode. A show link (no `i=`) means its latest episode.
"""

import re
from typing import Any

from audiograb.domain import AudiograbError, ErrorCode, LinkKind, MediaInfo
from audiograb.platforms import itunes
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url, parse_url
from audiograb.platforms.feeds import (
    Feed,
    episode_media,
    fetch_feed,
    find_episode,
    parse_date,
    plain_text,
)
from audiograb.platforms.resolve import ResolveContext, Resolved

__all__ = ["PLATFORM", "SITE", "resolve"]

PLATFORM = Platform(
    id="apple_podcasts",
    name="Apple Podcasts",
    example_urls=(
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000681335183",
        "https://podcasts.apple.com/podcast/id1200361736?i=1000681335183",
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736",
    ),
    has_video=False,
)

_HOST = "podcasts.apple.com"
_PATH = re.compile(
    r"(?:/(?P<cc>[A-Za-z]{2}))?/podcast(?:/(?P<slug>[^/]+))??/id(?P<show>\d{1,12})/?"
)
_EPISODE = re.compile(r"\d{1,20}")
_EXTRACTOR = "apple_podcasts"


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    found = _PATH.fullmatch(url.path)
    if found is None:
        return None
    episode = url.param("i")
    if episode is not None and not _EPISODE.fullmatch(episode):
        return None
    slug = f"/{found['slug']}" if found["slug"] else ""
    path = f"/{(found['cc'] or 'us').lower()}/podcast{slug}/id{found['show']}"
    params = [("i", episode)] if episode is not None else []
    kind = LinkKind.SHOW if episode is None else LinkKind.EPISODE
    return MatchedUrl(platform=PLATFORM, url=build_url(_HOST, path, params), kind=kind)


def resolve(matched: MatchedUrl, ctx: ResolveContext) -> Resolved:
    """The enclosure of the linked episode, or of the show's latest episode."""
    parsed = parse_url(matched.url)
    found = _PATH.fullmatch(parsed.path)
    if found is None:  # a MatchedUrl of this platform always has this shape
        raise AudiograbError(ErrorCode.UNSUPPORTED_URL, f"not an Apple Podcasts link: {parsed.url}")
    show_id, episode_id = found["show"], parsed.param("i")
    items = itunes.lookup(ctx, show_id, episodes=episode_id is not None)
    show = next((item for item in items if itunes.is_show(item)), None)
    if show is None:
        raise AudiograbError(
            ErrorCode.NOT_FOUND, f"Apple Podcasts has no show with id {show_id} (it may be gone)"
        )
    feed_url = show.get("feedUrl")
    name = _str(show, "collectionName")
    if episode_id is None:
        if not isinstance(feed_url, str):
            raise AudiograbError(ErrorCode.NOT_FOUND, f"the show {name!r} has no public feed")
        feed = fetch_feed(ctx.fetch, feed_url)
        if not feed.episodes:
            raise AudiograbError(ErrorCode.NOT_FOUND, f"the show {name!r} has no episodes")
        latest = feed.episodes[0]
        return Resolved(
            media_url=latest.enclosure_url,
            media=episode_media(
                feed, latest, page_url=matched.url, extractor=_EXTRACTOR, show=name
            ),
        )
    return _episode(matched, ctx, items, episode_id, feed_url, name)


def _episode(
    matched: MatchedUrl,
    ctx: ResolveContext,
    items: list[dict[str, Any]],
    episode_id: str,
    feed_url: object,
    show_name: str | None,
) -> Resolved:
    listed = _listed(items, episode_id) or _listed(itunes.lookup(ctx, episode_id), episode_id)
    if listed is None:
        raise AudiograbError(
            ErrorCode.NOT_FOUND,
            f"Apple Podcasts does not list episode {episode_id} of {show_name or 'this show'} "
            "(it may have been removed); nothing was downloaded",
        )
    title = _str(listed, "trackName")
    feed = _feed_or_none(ctx, feed_url)
    if feed is not None:
        episode = find_episode(
            feed.episodes,
            guid=_str(listed, "episodeGuid"),
            title=title,
            published=parse_date(_str(listed, "releaseDate")),
        )
        if episode is not None:
            return Resolved(
                media_url=episode.enclosure_url,
                media=episode_media(
                    feed, episode, page_url=matched.url, extractor=_EXTRACTOR, show=show_name
                ),
            )
    direct = _str(listed, "episodeUrl")
    if direct is None:
        raise AudiograbError(
            ErrorCode.NOT_FOUND,
            f"the episode {title!r} is not in the show's RSS feed and Apple gives no file for "
            "it; nothing was downloaded",
        )
    return Resolved(media_url=direct, media=_listed_media(listed, matched.url, show_name))


def _listed(items: list[dict[str, Any]], episode_id: str) -> dict[str, Any] | None:
    return next(
        (i for i in items if itunes.is_episode(i) and str(i.get("trackId")) == episode_id), None
    )


def _feed_or_none(ctx: ResolveContext, feed_url: object) -> Feed | None:
    """The show's feed; a missing or broken one is no reason to fail (the lookup has a file)."""
    if not isinstance(feed_url, str):
        return None
    try:
        return fetch_feed(ctx.fetch, feed_url)
    except AudiograbError as error:
        if error.code in (ErrorCode.NOT_FOUND, ErrorCode.DOWNLOAD_FAILED):
            return None
        raise


def _str(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _listed_media(listed: dict[str, Any], page_url: str, show_name: str | None) -> MediaInfo:
    """Tags from the lookup alone, when the feed could not supply the episode."""
    published = parse_date(_str(listed, "releaseDate"))
    millis = listed.get("trackTimeMillis")
    return MediaInfo(
        title=_str(listed, "trackName"),
        uploader=show_name or _str(listed, "collectionName"),
        date=published.date().isoformat() if published else None,
        description=plain_text(_str(listed, "description")),
        duration=millis / 1000 if isinstance(millis, int | float) and millis > 0 else None,
        webpage_url=page_url,
        thumbnail=_str(listed, "artworkUrl600") or _str(listed, "artworkUrl160"),
        extractor=_EXTRACTOR,
    )


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset({_HOST, "embed.podcasts.apple.com", "itunes.apple.com"}),
    shapes=(
        "podcasts.apple.com/CC/podcast/SLUG/idSHOW?i=EPISODE",
        "podcasts.apple.com/CC/podcast/SLUG/idSHOW (latest episode)",
    ),
    match=_match,
    resolve=resolve,
)
