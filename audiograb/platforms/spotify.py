"""Spotify: episodes, tracks and shows on `open.spotify.com`, and `spotify.link` short links.

Spotify's own streams are DRM-protected (yt-dlp refuses them), so nothing is fetched from
Spotify but its public page metadata, read from the embed page's `__NEXT_DATA__` entity (or the
main page's `og:`/`music:` meta tags when that is missing):

* An episode is found in its show's public RSS feed: the iTunes search API names the feed of
  the show with that exact name, and the feed's item with that title (and date) is the file.
  A show that has no public feed is Spotify-only: `unsupported_url`, said plainly.
* A show link gives its latest episode the same way.
* A track is matched to a YouTube video, as spotDL does: search "artist - title", keep results
  whose title and artist agree and whose duration is within a few seconds, take the best. The
  job's description says which video was used.
* Albums and playlists are refused (`unsupported_yet`).
"""

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any

import msgspec

from audiograb.domain import AudiograbError, ErrorCode, LinkKind, MediaInfo
from audiograb.platforms import itunes
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url, parse_url
from audiograb.platforms.feeds import (
    Feed,
    FeedEpisode,
    episode_media,
    fetch_feed,
    find_episode,
    parse_date,
    same_title,
)
from audiograb.platforms.pages import dig, dig_float, dig_str, read_json, read_page
from audiograb.platforms.resolve import ResolveContext, Resolved, SearchHit

__all__ = ["PLATFORM", "SITE", "SpotifyItem", "pick_video", "resolve"]

PLATFORM = Platform(
    id="spotify",
    name="Spotify",
    example_urls=(
        "https://open.spotify.com/episode/5Xt5DXGzch68nYYamXrNxZ",
        "https://open.spotify.com/intl-de/track/4cOdK2wGLETKBW3PvgPWqT",
        "https://open.spotify.com/show/2MAi0BvDc6GTFvKFPXnkCL",
        "https://spotify.link/AbCdEf123",
    ),
    has_video=False,
)

_OPEN_HOST = "open.spotify.com"
_SHORT_HOST = "spotify.link"
# Links copied from an embed code (`open.spotify.com/embed/episode/ID`) name the same item.
_PATH = re.compile(
    r"(?:/intl-[A-Za-z]{2}(?:-[A-Za-z]{2,4})?)?(?:/embed)?"
    r"/(?P<kind>episode|track|show|album|playlist)/(?P<id>[A-Za-z0-9]{22})/?"
)
_SHORT_PATH = re.compile(r"/(?P<code>[A-Za-z0-9]{4,32})/?")
_LINK_IN_PAGE = re.compile(
    r"open\.spotify\.com/(?:intl-[A-Za-z-]+/)?(episode|track|show)/([A-Za-z0-9]{22})"
)
_FROM_SHOW = re.compile(r"Listen to this episode from (?P<show>.+?) on Spotify", re.IGNORECASE)
#: Seconds a YouTube video's length may differ from the track's.
DURATION_TOLERANCE = 5.0
# Versions of a song a search may offer that are not the song as released.
_VERSION_WORDS = ("live", "cover", "remix", "karaoke", "instrumental", "8d", "slowed", "nightcore")


class SpotifyItem(msgspec.Struct, frozen=True, kw_only=True):
    """What Spotify's public page says about a track, episode or show."""

    kind: str
    title: str
    artist: str | None = None
    """The track's artists, or the episode's show."""
    duration: float | None = None
    date: str | None = None
    image: str | None = None


_KINDS = {"episode": LinkKind.EPISODE, "show": LinkKind.SHOW, "track": LinkKind.TRACK}


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    kind = LinkKind.PAGE  # a short link: only following it tells what it names
    if url.host == _SHORT_HOST:
        short = _SHORT_PATH.fullmatch(url.path)
        canonical = build_url(_SHORT_HOST, f"/{short['code']}") if short else None
    else:
        found = _PATH.fullmatch(url.path)
        if found is not None and found["kind"] in ("album", "playlist"):
            raise AudiograbError(
                ErrorCode.UNSUPPORTED_YET,
                f"Spotify {found['kind']}s are not supported yet; link a single track or episode",
            )
        canonical = build_url(_OPEN_HOST, f"/{found['kind']}/{found['id']}") if found else None
        kind = _KINDS[found["kind"]] if found else kind
    return None if canonical is None else MatchedUrl(platform=PLATFORM, url=canonical, kind=kind)


def resolve(matched: MatchedUrl, ctx: ResolveContext) -> Resolved:
    """An episode's or show's RSS enclosure, or the YouTube video matching a track."""
    kind, item_id = _target(matched, ctx)
    item = read_item(ctx, kind, item_id)
    if kind == "track":
        return _track(matched, ctx, item)
    return _episode(matched, ctx, item)


def _target(matched: MatchedUrl, ctx: ResolveContext) -> tuple[str, str]:
    """(kind, id) of the link, following a `spotify.link` short link first."""
    parsed = parse_url(matched.url)
    if parsed.host == _SHORT_HOST:
        page = ctx.fetch(matched.url, accept="text/html")
        found = _PATH.fullmatch(parse_url(page.url).path)
        if found is not None and found["kind"] in ("episode", "track", "show"):
            return found["kind"], found["id"]
        linked = _LINK_IN_PAGE.search(page.text())
        if linked is None:
            raise AudiograbError(
                ErrorCode.UNSUPPORTED_URL, f"{matched.url} does not lead to a track or episode"
            )
        return linked[1], linked[2]
    found = _PATH.fullmatch(parsed.path)
    if found is None:  # a MatchedUrl of this platform always has one of the shapes
        raise AudiograbError(ErrorCode.UNSUPPORTED_URL, f"not a Spotify link: {matched.url}")
    return found["kind"], found["id"]


def read_item(ctx: ResolveContext, kind: str, item_id: str) -> SpotifyItem:
    """The public metadata: the embed page's entity, else the main page's meta tags."""
    base = ctx.spotify_base.rstrip("/")
    page = read_page(ctx.fetch(f"{base}/embed/{kind}/{item_id}", accept="text/html").text())
    script = page.scripts.get("__NEXT_DATA__")
    item = None
    if script is not None:
        data = read_json(script, "Spotify's page data")
        item = _from_entity(kind, dig(data, "props", "pageProps", "state", "data", "entity"))
    if item is None:
        main = read_page(ctx.fetch(f"{base}/{kind}/{item_id}", accept="text/html").text())
        item = _from_meta(kind, main.meta)
    if item is None:
        raise AudiograbError(
            ErrorCode.NOT_FOUND, f"Spotify's page for {kind} {item_id} names no title"
        )
    return item


def _from_entity(kind: str, entity: Any) -> SpotifyItem | None:
    title = dig_str(entity, "name") or dig_str(entity, "title")
    if title is None:
        return None
    artists = [dig_str(artist, "name") for artist in dig(entity, "artists") or ()]
    duration = dig_float(entity, "duration")
    images = dig(entity, "visualIdentity", "image") or dig(entity, "coverArt", "sources") or ()
    largest = max(images, key=lambda i: dig_float(i, "maxWidth") or dig_float(i, "width") or 0,
                  default=None)  # fmt: skip
    date = parse_date(dig_str(entity, "releaseDate", "isoString"))
    return SpotifyItem(
        kind=kind,
        title=title,
        artist=", ".join(a for a in artists if a) or dig_str(entity, "subtitle"),
        duration=duration / 1000 if duration else None,
        date=date.date().isoformat() if date else None,
        image=dig_str(largest, "url"),
    )


def _from_meta(kind: str, meta: dict[str, str]) -> SpotifyItem | None:
    title = meta.get("og:title")
    if not title:
        return None
    artist = meta.get("music:musician_description")
    show = _FROM_SHOW.search(meta.get("og:description", ""))
    duration = meta.get("music:duration", "")
    return SpotifyItem(
        kind=kind,
        title=title,
        artist=artist or (show["show"] if show else None),
        duration=float(duration) if duration.isdigit() else None,
        date=meta.get("music:release_date") or None,
        image=meta.get("og:image") or None,
    )


def _episode(matched: MatchedUrl, ctx: ResolveContext, item: SpotifyItem) -> Resolved:
    show_name = item.title if item.kind == "show" else item.artist
    if not show_name:
        raise AudiograbError(
            ErrorCode.NOT_FOUND, f"Spotify's page for {item.title!r} names no show"
        )
    feeds = _show_feeds(ctx, show_name)
    if not feeds:
        raise AudiograbError(
            ErrorCode.UNSUPPORTED_URL,
            f"{show_name!r} has no public podcast feed: it is Spotify-only, and Spotify's "
            "own streams are DRM-protected, so it cannot be downloaded",
        )
    for feed in feeds:
        episode = _pick(feed, item)
        if episode is not None:
            media = episode_media(
                feed, episode, page_url=matched.url, extractor="spotify", show=show_name
            )
            return Resolved(media_url=episode.enclosure_url, media=media)
    raise AudiograbError(
        ErrorCode.NOT_FOUND,
        f"the episode {item.title!r} is not in the public feed of {show_name!r} (it may be "
        "Spotify-only); nothing was downloaded",
    )


def _pick(feed: Feed, item: SpotifyItem) -> FeedEpisode | None:
    if item.kind == "show":
        return feed.episodes[0] if feed.episodes else None
    return find_episode(feed.episodes, title=item.title, published=parse_date(item.date))


def _show_feeds(ctx: ResolveContext, show_name: str) -> list[Feed]:
    """The feeds of shows named exactly `show_name` on Apple's directory (at most three)."""
    found = [
        url
        for show in itunes.search_shows(ctx, show_name)
        if same_title(str(show.get("collectionName") or ""), show_name)
        and isinstance(url := show.get("feedUrl"), str)
    ]
    return [fetch_feed(ctx.fetch, url) for url in dict.fromkeys(found[:3])]


def _track(matched: MatchedUrl, ctx: ResolveContext, item: SpotifyItem) -> Resolved:
    query = f"{item.artist} - {item.title}" if item.artist else item.title
    hit = pick_video(item, ctx.search(query))
    if hit is None:
        raise AudiograbError(
            ErrorCode.NOT_FOUND,
            f"no YouTube video matches {query!r} closely enough (title, artist and length "
            "within a few seconds); nothing was downloaded",
        )
    note = f"matched YouTube video {hit.url} ({hit.title!r}"
    note += f" by {hit.uploader})" if hit.uploader else ")"
    media = MediaInfo(
        title=item.title,
        uploader=item.artist,
        date=item.date,
        description=f"Spotify track {matched.url}; audio from the {note}",
        duration=item.duration,
        webpage_url=matched.url,
        thumbnail=item.image,
        extractor="spotify",
    )
    return Resolved(media_url=hit.url, media=media, ytdlp_params={"noplaylist": True}, note=note)


def _words(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text.casefold()).split())


def _closeness(wanted: str, found: str) -> float:
    """1.0 when every word of `wanted` is in `found` in order, else their similarity."""
    wanted, found = _words(wanted), _words(found)
    if wanted and f" {wanted} " in f" {found} ":
        return 1.0
    return SequenceMatcher(None, wanted, found).ratio()


def pick_video(item: SpotifyItem, hits: Sequence[SearchHit]) -> SearchHit | None:
    """The search result that is this track: same title and artist, same length, best first.

    A result is a candidate when its title holds the track's title (or is very close), its
    title or channel names the artist, it is not another version (live, cover, remix...) unless
    the track is, and its length is within `DURATION_TOLERANCE` seconds of the track's.
    """
    best: tuple[float, SearchHit] | None = None
    for hit in hits:
        title_score = _closeness(item.title, hit.title)
        channel = (hit.uploader or "").removesuffix(" - Topic")
        artist_score = max(
            _closeness(item.artist or "", f"{hit.title} {channel}"),
            _closeness(item.artist or "", channel),
        )
        other_version = any(
            f" {word} " in f" {_words(hit.title)} " and f" {word} " not in f" {_words(item.title)} "
            for word in _VERSION_WORDS
        )
        gap = _gap(item.duration, hit.duration)
        if title_score < 0.8 or artist_score < 0.6 or other_version or gap is None:
            continue
        score = title_score + artist_score - gap / DURATION_TOLERANCE
        if best is None or score > best[0]:
            best = (score, hit)
    return best[1] if best else None


def _gap(wanted: float | None, found: float | None) -> float | None:
    """Seconds between two lengths when within tolerance; None when too far or unknown."""
    if wanted is None:
        return 0.0
    if found is None or abs(wanted - found) > DURATION_TOLERANCE:
        return None
    return abs(wanted - found)


SITE = Site(
    platform=PLATFORM,
    hosts=frozenset({_OPEN_HOST, _SHORT_HOST}),
    shapes=(
        "open.spotify.com/[embed/](episode|track|show)/ID",
        "spotify.link/CODE",
    ),
    match=_match,
    resolve=resolve,
)
