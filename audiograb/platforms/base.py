"""The shapes every platform module shares: `Platform`, `MatchedUrl`, `Site`, and URL checks.

A platform module describes one site with a `Site`: the `Platform` the faces show, the exact
hosts it serves, the URL shapes it accepts (for error messages), and a `match` function that
turns a parsed URL on one of those hosts into a canonical `MatchedUrl`, or returns None when the
path is not one of its shapes. The registry does the exact host lookup, so a site never sees a
URL of another host; several sites may share hosts (X Spaces and X video both live on x.com).

A site that yt-dlp cannot read on its own (Apple Podcasts shows, Spotify, 小宇宙, Discord, podcast
feeds) also names a `resolve` function (see `platforms.resolve`), which the pipeline calls
before downloading. A platform whose downloads are not possible yet still matches its URLs, so
users get a precise answer: its `Platform.available` is False and the registry refuses it with
`unsupported_yet`.
"""

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec

from audiograb.domain import AudiograbError, ErrorCode, LinkKind

if TYPE_CHECKING:
    from audiograb.platforms.resolve import Resolver

__all__ = [
    "MAX_URL_LENGTH",
    "MatchFn",
    "MatchedUrl",
    "ParsedUrl",
    "Platform",
    "Site",
    "build_url",
    "parse_url",
    "playlist_refused",
]

#: Longest URL we accept; real media links are far shorter, and longer ones are abuse or junk.
MAX_URL_LENGTH = 2048

_SCHEMES = frozenset({"http", "https"})
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")


class Platform(msgspec.Struct, frozen=True, kw_only=True):
    """A site we know, as `/api/platforms`, the CLI and the bot list it."""

    id: str
    """Stable identifier stored on jobs, such as `youtube` or `x_spaces`."""
    name: str
    """Human name, such as `X Spaces` or `小红书 (Xiaohongshu)`."""
    example_urls: tuple[str, ...]
    """URLs of the shapes we accept; each one matches this platform."""
    has_video: bool
    """Whether the site serves video (so `media=video` makes sense)."""
    available: bool = True
    """False while the platform's resolver has not landed: its URLs are recognised, not fetched."""
    availability_note: str | None = None
    """Why the platform is unavailable, for humans."""
    needs_cookies: bool = False
    """Some content (private, age-restricted, login-walled) needs browser cookies."""


class MatchedUrl(msgspec.Struct, frozen=True, kw_only=True):
    """A URL we accepted: its platform, canonical form and yt-dlp option overrides."""

    platform: Platform
    url: str
    """Canonical URL: tracking parameters and fragments dropped, hosts and paths unified."""
    kind: LinkKind
    """What the link points at, as its shape tells (an episode, a Space, a playlist...)."""
    ytdlp_params: Mapping[str, object] = {}
    """Per-platform yt-dlp options, merged over the engine's defaults (a fresh dict per match)."""


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    """A URL that passed the common checks, split into the parts sites match on."""

    url: str
    """The URL as given, without surrounding whitespace and without its fragment."""
    host: str
    """Lower-case host name without a trailing dot (IDNs as given, not punycode)."""
    path: str
    query: tuple[tuple[str, str], ...]

    def param(self, name: str) -> str | None:
        """Return the first value of query parameter `name`, or None."""
        return next((value for key, value in self.query if key == name), None)


MatchFn = Callable[[ParsedUrl, bool], MatchedUrl | None]
"""`match(url, playlist)`: canonicalise a URL on one of the site's hosts; None if not its shape."""


@dataclass(frozen=True, slots=True)
class Site:
    """One platform module's contribution to the registry."""

    platform: Platform
    hosts: frozenset[str]
    """Exact host names this site serves; empty for the generic fallback."""
    shapes: tuple[str, ...]
    """The URL shapes `match` accepts, as error messages name them (`youtu.be/ID`)."""
    match: MatchFn
    resolve: "Resolver | None" = None
    """Turns a matched URL into the media to download; None: yt-dlp reads the URL itself."""


def _invalid(message: str) -> AudiograbError:
    return AudiograbError(ErrorCode.INVALID_URL, message)


def _has_bad_chars(text: str) -> bool:
    """Whitespace, control and invisible format characters have no place inside a URL."""
    return any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    return len(ascii_host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def parse_url(raw: str) -> ParsedUrl:
    """Check what every URL must satisfy and split it, or raise `invalid_url`.

    Rejected: anything but http(s), no host, credentials (`user@host`, a classic way to make a
    URL look like another host), whitespace or control characters, backslashes, bad ports and
    URLs longer than `MAX_URL_LENGTH`. The fragment is dropped: servers never see it, and
    yt-dlp reads smuggled options from it.
    """
    text = raw.strip()
    if not text:
        raise _invalid("the URL is empty")
    if len(text) > MAX_URL_LENGTH:
        raise _invalid(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if _has_bad_chars(text) or "\\" in text:
        raise _invalid("the URL contains spaces, backslashes or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise _invalid(f"the URL cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise _invalid(f"only http:// and https:// URLs are supported (got {shown})")
    if "@" in parts.netloc:
        raise _invalid("URLs with credentials (user@host) are not accepted")
    host = (parts.hostname or "").rstrip(".")
    if not host or not _valid_host(host):
        raise _invalid("the URL has no valid host name")
    if port == 0:
        raise _invalid("the URL has an invalid port")
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    return ParsedUrl(
        url=parts._replace(scheme=scheme, fragment="").geturl(),
        host=host,
        path=parts.path or "/",
        query=query,
    )


def build_url(host: str, path: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """Return `https://host/path?params` with the parameters in the order given."""
    query = urlencode(list(params))
    return f"https://{host}{path}" + (f"?{query}" if query else "")


def playlist_refused(url: ParsedUrl, what: str) -> AudiograbError:
    """The error for a collection URL (playlist, show, album) submitted without playlist=True."""
    return AudiograbError(
        ErrorCode.INVALID_REQUEST,
        f"{url.url} is a {what}; to download its items, use `audiograb download --playlist`"
        " (or playlist=True in the API and the library)",
    )
