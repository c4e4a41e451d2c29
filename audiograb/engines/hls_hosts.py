"""Every URL an HLS playlist leads its reader to, for checking before FFmpeg reads it.

A download handed to FFmpeg (an X Space) makes connections this process cannot watch: the
playlist names segment, key and map URLs, and variant playlists that name more, on any host.
So before FFmpeg gets a playlist, it is read here (through the guarded connection, like every
other request) and each host it leads to is put through the network policy; one refused host
refuses the download. A live playlist that later adds segments on a new host is beyond this
check: FFmpeg re-reads it on its own.
"""

import re
import urllib.parse
from collections.abc import Callable, Iterator

__all__ = ["MAX_PLAYLISTS", "stream_urls"]

MAX_PLAYLISTS = 16
"""Playlists read at most for one stream (a master and its variants and renditions)."""

_URI = re.compile(r'URI="([^"]*)"')
#: Tags whose URI (or, for STREAM-INF, the next line) is another playlist, not media.
_PLAYLIST_TAGS = ("#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:")


def stream_urls(url: str, fetch: Callable[[str], str]) -> Iterator[str]:
    """`url` and, if it is an HLS playlist, every URL it and the playlists it names hold.

    `fetch` reads a playlist's text. Each URL is yielded once, absolute.
    """
    seen = {url}
    yield url
    pending = [url]
    read = 0
    while pending and read < MAX_PLAYLISTS:
        playlist = pending.pop(0)
        read += 1
        text = fetch(playlist)
        if not text.lstrip().startswith("#EXTM3U"):
            continue
        for found, is_playlist in _references(text, playlist):
            if found in seen:
                continue
            seen.add(found)
            yield found
            if is_playlist:
                pending.append(found)


def _references(text: str, base: str) -> Iterator[tuple[str, bool]]:
    """(absolute URL, whether it is a playlist) for each URL `text` holds."""
    next_is_playlist = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            for uri in _URI.findall(line):
                yield urllib.parse.urljoin(base, uri), line.startswith(_PLAYLIST_TAGS)
            next_is_playlist = next_is_playlist or line.startswith("#EXT-X-STREAM-INF:")
            continue
        yield urllib.parse.urljoin(base, line), next_is_playlist
        next_is_playlist = False
