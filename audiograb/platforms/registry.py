"""The platform registry: which site a URL belongs to, and its canonical form.

Hosts are looked up exactly (after lower-casing and dropping a trailing dot), never by suffix or
substring, so `evilyoutube.com` and `youtube.com.evil.org` are plain generic URLs, and
`youtube.com@evil.org` is refused for carrying credentials. A URL on a known host whose path is
not one of that site's shapes is `unsupported_url`, with the shapes we expect in the message.
"""

from collections.abc import Iterable

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.platforms import (
    apple_podcasts,
    discord,
    generic,
    instagram,
    spotify,
    x_spaces,
    x_video,
    xiaohongshu,
    xiaoyuzhou,
    youtube,
)
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, parse_url
from audiograb.platforms.resolve import Resolver

__all__ = ["PlatformRegistry", "default_registry"]


class PlatformRegistry:
    """Known sites in listing order, with a fallback for every other http(s) URL."""

    def __init__(self, sites: Iterable[Site], fallback: Site) -> None:
        self._sites = (*sites, fallback)
        self._fallback = fallback
        self._by_id: dict[str, Platform] = {}
        self._resolvers: dict[str, Resolver] = {}
        self._by_host: dict[str, list[Site]] = {}
        for site in self._sites:
            if site.platform.id in self._by_id:
                raise ValueError(f"duplicate platform id {site.platform.id!r}")
            self._by_id[site.platform.id] = site.platform
            if site.resolve is not None:
                self._resolvers[site.platform.id] = site.resolve
            for host in site.hosts:
                self._by_host.setdefault(host, []).append(site)

    def all(self) -> tuple[Platform, ...]:
        """Every platform, available or not, in listing order (generic last)."""
        return tuple(site.platform for site in self._sites)

    def get(self, platform_id: str) -> Platform:
        """The platform with this id, or `not_found`."""
        try:
            return self._by_id[platform_id]
        except KeyError:
            raise AudiograbError(
                ErrorCode.NOT_FOUND, f"no platform with id {platform_id!r}"
            ) from None

    def resolver_for(self, platform_id: str) -> Resolver | None:
        """The platform's resolver, or None when yt-dlp reads its URLs directly."""
        return self._resolvers.get(platform_id)

    def match(self, url: str, *, playlist: bool = False) -> MatchedUrl:
        """Check, classify and canonicalise `url`.

        Raises `invalid_url` for malformed or unsafe URLs, `unsupported_url` for unknown paths
        on a known site, `invalid_request` for a collection without `playlist=True`, and
        `unsupported_yet` for platforms that are recognised but not downloadable yet.
        """
        parsed = parse_url(url)
        sites = self._by_host.get(parsed.host, [self._fallback])
        matched = next(
            (found for site in sites if (found := site.match(parsed, playlist)) is not None),
            None,
        )
        if matched is None:
            raise _unsupported(sites, parsed)
        platform = matched.platform
        if not platform.available:
            raise AudiograbError(
                ErrorCode.UNSUPPORTED_YET,
                f"{platform.name} links are recognised but downloading them arrives in a "
                "later release",
            )
        return matched


def _unsupported(sites: list[Site], url: ParsedUrl) -> AudiograbError:
    names = " / ".join(site.platform.name for site in sites)
    shapes = "; ".join(shape for site in sites for shape in site.shapes)
    return AudiograbError(
        ErrorCode.UNSUPPORTED_URL,
        f"not a recognised {names} URL: {url.url} (expected {shapes})",
    )


def default_registry() -> PlatformRegistry:
    """The registry of every site AudioGrab knows, generic last."""
    sites = (
        x_spaces.SITE,
        x_video.SITE,
        apple_podcasts.SITE,
        spotify.SITE,
        youtube.SITE,
        instagram.SITE,
        xiaohongshu.SITE,
        xiaoyuzhou.SITE,
        discord.SITE,
    )
    return PlatformRegistry(sites, fallback=generic.SITE)
