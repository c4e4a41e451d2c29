"""Resolvers: how a site yt-dlp cannot read becomes one media URL and its metadata.

A resolver is a plain synchronous function `(matched, ctx) -> Resolved | None`. It does its I/O
only through the capabilities the pipeline injects in `ResolveContext` (a guarded page fetcher,
a YouTube search), so the platforms layer stays free of HTTP clients and tests hand it fakes.
`None` means "nothing to resolve here: let yt-dlp read the URL as it is" (the generic platform
answers so for anything that is not a podcast feed).
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from email.message import Message
from typing import Protocol

import msgspec

from audiograb.domain import MediaInfo
from audiograb.platforms.base import MatchedUrl

__all__ = [
    "FetchedPage",
    "Fetcher",
    "ResolveContext",
    "Resolved",
    "Resolver",
    "SearchFn",
    "SearchHit",
]


class FetchedPage(msgspec.Struct, frozen=True, kw_only=True):
    """A fetched HTTP response: its final URL (after redirects), status, type and body."""

    url: str
    status: int
    content_type: str
    """The Content-Type header as sent (`text/html; charset=utf-8`), or empty."""
    body: bytes
    filename: str | None = None
    """The file name the server gives in `Content-Disposition`, if any."""

    @property
    def media_type(self) -> str:
        """The lower-cased type without parameters (`text/html`)."""
        return self.content_type.split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 when none or unknown)."""
        header = Message()
        header["content-type"] = self.content_type or "application/octet-stream"
        charset = header.get_content_charset() or "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class Fetcher(Protocol):
    """Fetch a URL with every connection checked against the job's address policy.

    `accept` is sent as the Accept header. `only` lists media-type prefixes worth reading
    (`("application/rss", "text/xml")`): a response of another type comes back with an empty
    body and is not downloaded. Failures raise typed errors (`not_found` for 404/410,
    `network`, `forbidden_address`, `too_large` for a body over the fetcher's limit).
    """

    def __call__(
        self, url: str, *, accept: str | None = None, only: Collection[str] | None = None
    ) -> FetchedPage: ...


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    """One YouTube search result."""

    url: str
    title: str
    uploader: str | None = None
    duration: float | None = None


SearchFn = Callable[[str], Sequence[SearchHit]]
"""`search(query)`: the first few YouTube videos for a free-text query."""


class ResolveContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a resolver may use: injected I/O and the sites' base URLs (settings)."""

    fetch: Fetcher
    search: SearchFn
    itunes_api_base: str = "https://itunes.apple.com"
    spotify_base: str = "https://open.spotify.com"
    xiaoyuzhou_base: str = "https://www.xiaoyuzhoufm.com"


class Resolved(msgspec.Struct, frozen=True, kw_only=True):
    """The media a link stands for: the URL yt-dlp downloads, and metadata that wins."""

    media_url: str
    media: MediaInfo
    """Title, show or artist, date, description and cover; these win over what yt-dlp's
    generic extractor finds at `media_url`."""
    ytdlp_params: Mapping[str, object] = {}
    note: str | None = None
    """How the media was found when it is not the link itself (a matched YouTube video)."""


Resolver = Callable[[MatchedUrl, ResolveContext], Resolved | None]
"""`resolve(matched, ctx)`: blocking; raises typed `AudiograbError`s with clear messages."""
