"""Podcast RSS feeds: parse a feed, pick an episode exactly, and describe it.

Apple Podcasts, Spotify episodes and plain feed URLs all end here: the show's public RSS feed
holds each episode's enclosure (the audio file) with its title, guid, date, description and
artwork. Parsing uses the standard library's expat, whose built-in limits (expat >= 2.4) stop
entity-expansion bombs; feeds are size-limited by the fetcher before they get here.
"""

import datetime as dt
import email.utils
import html
import re
import unicodedata
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterable

import msgspec

from audiograb.domain import AudiograbError, ErrorCode, MediaInfo
from audiograb.platforms.resolve import FetchedPage, Fetcher

__all__ = [
    "FEED_ACCEPT",
    "Feed",
    "FeedEpisode",
    "episode_media",
    "fetch_feed",
    "find_episode",
    "looks_like_feed",
    "parse_date",
    "parse_feed",
    "plain_text",
    "same_title",
]

#: Accept header for feed requests.
FEED_ACCEPT = "application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
#: Media types a feed may be served as (many hosts say text/plain or text/html).
FEED_TYPES = ("application/rss", "application/xml", "text/xml", "application/atom", "text/")

_ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_TAGS = re.compile(r"<[^>]+>")
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li)\b[^>]*>", re.IGNORECASE)
_SPACE_RUNS = re.compile(r"[ \t\r\f\v]+")
_XML_START = re.compile(rb"^(\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<rss\b", re.DOTALL)


class FeedEpisode(msgspec.Struct, frozen=True, kw_only=True):
    """One `<item>` with an audio or video enclosure."""

    title: str
    enclosure_url: str
    guid: str | None = None
    published: dt.datetime | None = None
    description: str | None = None
    duration: float | None = None
    image: str | None = None
    link: str | None = None


class Feed(msgspec.Struct, frozen=True, kw_only=True):
    """A podcast feed: the show and its episodes, newest first."""

    title: str | None
    author: str | None
    image: str | None
    episodes: tuple[FeedEpisode, ...]


def looks_like_feed(page: FetchedPage) -> bool:
    """Whether a fetched body is an RSS document (by its root element, not its header)."""
    return _XML_START.match(page.body[:4096]) is not None


def fetch_feed(fetch: Fetcher, url: str) -> Feed:
    """Fetch and parse the feed at `url`; a page that is not RSS is `not_found`."""
    page = fetch(url, accept=FEED_ACCEPT)
    if not looks_like_feed(page):
        raise AudiograbError(ErrorCode.NOT_FOUND, f"{url} is not a podcast RSS feed")
    return parse_feed(page.body, base_url=page.url)


def parse_feed(body: bytes, *, base_url: str) -> Feed:
    """Parse RSS 2.0 with the iTunes extensions; items without an enclosure are skipped.

    Enclosure and artwork URLs are made absolute against `base_url`, the feed's own URL: some
    feeds give them relative (`ep1.mp3`) or scheme-relative (`//cdn.example.com/ep1.mp3`).
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        message = f"the feed is not valid XML: {error}"
        raise AudiograbError(ErrorCode.DOWNLOAD_FAILED, message) from error
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise AudiograbError(ErrorCode.DOWNLOAD_FAILED, "the feed has no RSS channel")
    image = _absolute(base_url, _attr(channel, f"{_ITUNES}image", "href"))
    image = image or _absolute(base_url, _text(channel, "image/url"))
    episodes = [_episode(item, image, base_url) for item in channel.iter("item")]
    found = [episode for episode in episodes if episode is not None]
    found.sort(key=lambda e: e.published or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    return Feed(
        title=_text(channel, "title"),
        author=_text(channel, f"{_ITUNES}author"),
        image=image,
        episodes=tuple(found),
    )


def _episode(item: ET.Element, show_image: str | None, base_url: str) -> FeedEpisode | None:
    enclosure = item.find("enclosure")
    url = _absolute(base_url, enclosure.get("url") if enclosure is not None else None)
    if not url:
        return None
    description = (
        _text(item, f"{_CONTENT}encoded")
        or _text(item, "description")
        or _text(item, f"{_ITUNES}summary")
    )
    return FeedEpisode(
        title=_text(item, "title") or _text(item, f"{_ITUNES}title") or url.rsplit("/", 1)[-1],
        enclosure_url=url,
        guid=_text(item, "guid"),
        published=parse_date(_text(item, "pubDate")),
        description=plain_text(description),
        duration=_duration(_text(item, f"{_ITUNES}duration")),
        image=_absolute(base_url, _attr(item, f"{_ITUNES}image", "href")) or show_image,
        link=_text(item, "link"),
    )


def _absolute(base_url: str, url: str | None) -> str | None:
    """`url` resolved against `base_url`; None for a missing or blank one."""
    url = (url or "").strip()
    return urllib.parse.urljoin(base_url, url) if url else None


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _attr(element: ET.Element, path: str, name: str) -> str | None:
    found = element.find(path)
    value = (found.get(name) or "").strip() if found is not None else ""
    return value or None


def _duration(text: str | None) -> float | None:
    """`itunes:duration`: seconds, `MM:SS` or `HH:MM:SS`."""
    if not text:
        return None
    try:
        seconds = 0.0
        for part in text.split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def parse_date(text: str | None) -> dt.datetime | None:
    """An RFC 822 (`pubDate`) or ISO 8601 date, as an aware datetime; None if unreadable."""
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text.strip())
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def plain_text(markup: str | None) -> str | None:
    """Show notes without markup: line breaks kept, tags dropped, entities decoded."""
    if not markup:
        return None
    text = _TAGS.sub("", _BREAKS.sub("\n", markup))
    lines = [_SPACE_RUNS.sub(" ", line).strip() for line in html.unescape(text).splitlines()]
    cleaned = "\n".join(line for line in lines if line)
    return cleaned or None


def _normal(title: str) -> str:
    """Casefolded, NFKC, punctuation and spacing unified: how titles are compared."""
    text = unicodedata.normalize("NFKC", title).casefold()
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(text.split())


def same_title(a: str, b: str) -> bool:
    """Whether two episode titles are the same once case, width and punctuation are unified."""
    return _normal(a) == _normal(b)


def _same_day(a: dt.datetime | None, b: dt.datetime | None, slack_hours: float = 36) -> bool:
    """Dates from different sources disagree by time zones: allow a day and a half."""
    return a is not None and b is not None and abs(a - b) <= dt.timedelta(hours=slack_hours)


def find_episode(
    episodes: Iterable[FeedEpisode],
    *,
    guid: str | None = None,
    title: str | None = None,
    published: dt.datetime | None = None,
) -> FeedEpisode | None:
    """The episode with this guid, else the one with this exact title (and date, if given).

    Never a near miss: with a title and a date both must agree; a title alone must be
    unique in the feed.
    """
    candidates = list(episodes)
    if guid:
        for episode in candidates:
            if episode.guid is not None and episode.guid.strip() == guid.strip():
                return episode
    if not title:
        return None
    titled = [episode for episode in candidates if same_title(episode.title, title)]
    if published is not None:
        dated = [episode for episode in titled if _same_day(episode.published, published)]
        return dated[0] if len(dated) == 1 else None
    return titled[0] if len(titled) == 1 else None


def episode_media(
    feed: Feed, episode: FeedEpisode, *, page_url: str, extractor: str, show: str | None = None
) -> MediaInfo:
    """The tags of a feed episode: the show as artist, the item's date, notes and artwork."""
    return MediaInfo(
        title=episode.title,
        uploader=show or feed.title or feed.author,
        date=episode.published.date().isoformat() if episode.published else None,
        description=episode.description,
        duration=episode.duration,
        webpage_url=page_url,
        thumbnail=episode.image or feed.image,
        extractor=extractor,
    )
