"""Loopback fakes of the sites resolvers read, serving responses shaped like the real ones.

* iTunes Search API: `/lookup?id=SHOW&entity=podcastEpisode&limit=200` answers the show (kind
  `podcast`, with `feedUrl`) and its episodes (`wrapperType: podcastEpisode`, `trackId`,
  `episodeGuid`, `episodeUrl`, `releaseDate`); `/lookup?id=EPISODE` the episode alone;
  `/search?term=...&media=podcast&entity=podcast` the shows whose name holds the term.
* RSS 2.0 feeds with iTunes tags and enclosures (`rss_feed`).
* 小宇宙 episode and podcast pages with their `__NEXT_DATA__` script (`xiaoyuzhou_*_page`).
* Spotify embed pages with the `__NEXT_DATA__` entity, and main pages with only `og:`/`music:`
  meta tags (`spotify_embed_page`, `spotify_meta_page`).

    with fake_sites() as sites:
        show = sites.itunes.add_show(1200361736, "The Daily", feed_url=sites.url("/feed.xml"))
        sites.serve("/feed.xml", rss_feed(...), "application/rss+xml")
"""

import contextlib
import html
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "FakeItunes",
    "FakeSites",
    "RssItem",
    "fake_sites",
    "rss_feed",
    "spotify_embed_page",
    "spotify_meta_page",
    "xiaoyuzhou_episode",
    "xiaoyuzhou_episode_page",
    "xiaoyuzhou_podcast_page",
]

Response = tuple[int, str, bytes]
Handler = Callable[[dict[str, str]], Response]


def _json(data: object, status: int = 200) -> Response:
    return status, "text/javascript; charset=utf-8", json.dumps(data).encode()


@dataclass
class FakeItunes:
    """Shows and episodes, answered as Apple's lookup and search endpoints do."""

    shows: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)

    def add_show(
        self, show_id: int, name: str, *, feed_url: str | None, artist: str = "Test Studio"
    ) -> dict[str, Any]:
        show = {
            "wrapperType": "track",
            "kind": "podcast",
            "collectionId": show_id,
            "trackId": show_id,
            "artistName": artist,
            "collectionName": name,
            "trackName": name,
            "collectionViewUrl": f"https://podcasts.apple.com/us/podcast/x/id{show_id}?uo=4",
            "artworkUrl600": "https://is1-ssl.mzstatic.com/image/thumb/a/600x600bb.jpg",
            "releaseDate": "2024-05-02T09:45:00Z",
            "trackCount": 0,
            "country": "USA",
            "primaryGenreName": "News",
        }
        if feed_url is not None:
            show["feedUrl"] = feed_url
        self.shows.append(show)
        return show

    def add_episode(
        self,
        show: dict[str, Any],
        track_id: int,
        name: str,
        *,
        guid: str,
        release_date: str,
        episode_url: str,
        millis: int = 4000,
    ) -> dict[str, Any]:
        episode = {
            "wrapperType": "podcastEpisode",
            "kind": "podcast-episode",
            "trackId": track_id,
            "trackName": name,
            "collectionId": show["collectionId"],
            "collectionName": show["collectionName"],
            "releaseDate": release_date,
            "episodeGuid": guid,
            "episodeUrl": episode_url,
            "episodeFileExtension": "mp3",
            "episodeContentType": "audio",
            "trackTimeMillis": millis,
            "description": f"<p>About {name}</p>",
            "shortDescription": f"About {name}",
            "artworkUrl600": show["artworkUrl600"],
            "feedUrl": show.get("feedUrl"),
            "country": "USA",
        }
        self.episodes.append(episode)
        return episode

    def lookup(self, query: dict[str, str]) -> Response:
        wanted = query.get("id", "")
        results = [s for s in self.shows if str(s["collectionId"]) == wanted]
        if results and query.get("entity") == "podcastEpisode":
            limit = int(query.get("limit", "50"))
            mine = [e for e in self.episodes if str(e["collectionId"]) == wanted]
            mine.sort(key=lambda e: str(e["releaseDate"]), reverse=True)
            results += mine[:limit]
        elif not results:
            results = [e for e in self.episodes if str(e["trackId"]) == wanted]
        return _json({"resultCount": len(results), "results": results})

    def search(self, query: dict[str, str]) -> Response:
        term = query.get("term", "").casefold()
        results = [s for s in self.shows if term and term in str(s["collectionName"]).casefold()]
        return _json({"resultCount": len(results), "results": results})


@dataclass(frozen=True)
class RssItem:
    """One feed item; `published` is written as an RFC 822 `pubDate`."""

    title: str
    guid: str
    published: datetime
    enclosure_url: str
    description: str = "<p>Show notes with <b>markup</b> &amp; entities.</p>"
    duration: str = "00:00:04"
    image: str | None = None
    enclosure_type: str = "audio/mpeg"


def rss_feed(
    title: str, items: Sequence[RssItem], *, author: str = "Test Studio", image: str | None = None
) -> bytes:
    """An RSS 2.0 podcast feed with iTunes and content tags, items in the given order."""
    esc = html.escape
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        "<channel>",
        f"<title>{esc(title)}</title>",
        "<link>https://example.com/show</link>",
        "<language>en-us</language>",
        f"<itunes:author>{esc(author)}</itunes:author>",
    ]
    if image:
        parts.append(f'<itunes:image href="{esc(image)}"/>')
    for item in items:
        parts += [
            "<item>",
            f"<title>{esc(item.title)}</title>",
            f'<guid isPermaLink="false">{esc(item.guid)}</guid>',
            f"<pubDate>{format_datetime(item.published)}</pubDate>",
            f"<description><![CDATA[{item.description}]]></description>",
            f"<itunes:duration>{item.duration}</itunes:duration>",
            f'<enclosure url="{esc(item.enclosure_url)}" length="64000"'
            f' type="{item.enclosure_type}"/>',
        ]
        if item.image:
            parts.append(f'<itunes:image href="{esc(item.image)}"/>')
        parts.append("</item>")
    parts += ["</channel>", "</rss>"]
    return "\n".join(parts).encode()


def _next_data_page(title: str, data: object, head: str = "") -> bytes:
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<title>{html.escape(title)}</title>{head}</head><body><div id="__next"></div>'
        f'<script id="__NEXT_DATA__" type="application/json">{payload}</script>'
        "</body></html>"
    ).encode()


def xiaoyuzhou_episode(
    eid: str, title: str, audio_url: str, *, pub_date: str, podcast: dict[str, Any]
) -> dict[str, Any]:
    """An episode object as 小宇宙's pages embed it."""
    return {
        "type": "EPISODE",
        "eid": eid,
        "pid": podcast["pid"],
        "title": title,
        "description": f"{title} 的简介",
        "shownotes": f"<p>{html.escape(title)} 的节目笔记</p><p>第二段</p>",
        "duration": 4,
        "enclosure": {"url": audio_url},
        "isPrivateMedia": False,
        "mediaKey": audio_url,
        "media": {
            "id": eid,
            "size": 64000,
            "mimeType": "audio/mpeg",
            "source": {"mode": "PUBLIC", "url": audio_url},
        },
        "playCount": 1234,
        "pubDate": pub_date,
        "status": "NORMAL",
        "image": podcast["image"],
        "podcast": {key: value for key, value in podcast.items() if key != "episodes"},
    }


def xiaoyuzhou_episode_page(episode: dict[str, Any]) -> bytes:
    """An episode page: `props.pageProps.episode`."""
    data = {
        "props": {"pageProps": {"episode": episode}, "__N_SSP": True},
        "page": "/episode/[id]",
        "query": {"id": episode["eid"]},
        "buildId": "test-build",
    }
    return _next_data_page(f"{episode['title']} - 小宇宙", data)


def xiaoyuzhou_podcast_page(podcast: dict[str, Any], episodes: list[dict[str, Any]]) -> bytes:
    """A podcast page: `props.pageProps.podcast` with its `episodes`, newest first."""
    data = {
        "props": {"pageProps": {"podcast": {**podcast, "episodes": episodes}}, "__N_SSP": True},
        "page": "/podcast/[id]",
        "query": {"id": podcast["pid"]},
        "buildId": "test-build",
    }
    return _next_data_page(f"{podcast['title']} - 小宇宙", data)


def spotify_embed_page(entity: dict[str, Any]) -> bytes:
    """An `open.spotify.com/embed/...` page with its `__NEXT_DATA__` state entity."""
    data = {
        "props": {
            "pageProps": {
                "state": {
                    "data": {"entity": entity, "embeded_entity_uri": entity.get("uri")},
                    "settings": {"rtl": False},
                },
                "config": {"correlationId": "x"},
            }
        },
        "page": "/[type]/[id]",
        "buildId": "test-build",
    }
    return _next_data_page(str(entity.get("name", "")), data)


def spotify_meta_page(meta: dict[str, str]) -> bytes:
    """A main `open.spotify.com/...` page that only has its preview meta tags."""
    tags = "".join(
        f'<meta property="{html.escape(key)}" content="{html.escape(value)}"/>'
        for key, value in meta.items()
    )
    return (
        f"<!DOCTYPE html><html><head><title>{html.escape(meta.get('og:title', ''))}</title>"
        f"{tags}</head><body></body></html>"
    ).encode()


@dataclass
class FakeSites:
    """The running fake: routes by path, an iTunes fake, and a request log."""

    base_url: str = ""
    itunes: FakeItunes = field(default_factory=FakeItunes)
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def serve(self, path: str, body: bytes, content_type: str, status: int = 200) -> None:
        """Answer GET `path` (any query) with this body."""
        self.routes[path] = lambda _query: (status, content_type, body)

    def _answer(self, path: str, query: dict[str, str]) -> Response:
        if path == "/lookup":
            return self.itunes.lookup(query)
        if path == "/search":
            return self.itunes.search(query)
        handler = self.routes.get(path)
        if handler is None:
            return 404, "text/html", b"<html><body>Not found</body></html>"
        return handler(query)


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet; the log is `FakeSites.requests`."""

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        sites = self.server.sites
        with sites._lock:
            sites.requests.append(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        status, content_type, body = sites._answer(urllib.parse.unquote(parts.path), query)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, sites: FakeSites) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.sites = sites


@contextlib.contextmanager
def fake_sites() -> Iterator[FakeSites]:
    """Serve the fakes on a free loopback port for the block's duration."""
    sites = FakeSites()
    server = _Server(sites)
    sites.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="fake-sites", daemon=True
    )
    thread.start()
    try:
        yield sites
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
