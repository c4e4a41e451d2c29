"""The link look-up: what a URL maps to, found without side effects (no job, file or event).

`describe` answers from the URL's shape alone, with no network: the platform, the kind of
link, its canonical form and what a download does with a playlist. `look_up` may also ask
the network for the media's title and duration, through the same guarded path a download
takes (the SSRF check, the platform's resolver with its guarded fetcher, then yt-dlp's dry
run), in a temporary folder that is removed afterwards.
"""

import tempfile
from pathlib import Path

import anyio
import msgspec

from audiograb.config import Settings
from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    LinkInfo,
    LinkKind,
    MediaKind,
    PlaylistHandling,
)
from audiograb.engines import netguard, ytdlp
from audiograb.pipeline import resolving
from audiograb.pipeline.policy import address_policy, download_options
from audiograb.platforms import MatchedUrl, PlatformRegistry
from audiograb.platforms.resolve import Resolver

__all__ = ["describe", "look_up"]

#: The extractor name the feed resolvers give the media they find in an RSS feed.
_FEED_EXTRACTOR = "rss"


def describe(registry: PlatformRegistry, url: str, *, playlist: bool = False) -> LinkInfo:
    """What `url` maps to, from its shape alone (no network).

    Raises what `submit` raises for a URL it cannot take (`invalid_url`, `unsupported_url`,
    `unsupported_yet`), except for a playlist without `playlist=True`: that is answered with
    `playlist: refused`, so a client can offer to expand it.
    """
    return _info(*_matched(registry, url, playlist))


async def look_up(
    registry: PlatformRegistry,
    settings: Settings,
    url: str,
    *,
    playlist: bool = False,
    fetch: bool = False,
) -> LinkInfo:
    """`describe`, and with `fetch` the media's metadata from the network.

    The fetch raises what a download would (`forbidden_address`, `not_found`,
    `auth_required`, `network`...); it is not attempted for a refused playlist.
    """
    matched, handling = _matched(registry, url, playlist)
    info = _info(matched, handling)
    if not fetch or handling is PlaylistHandling.REFUSED:
        return info
    resolver = registry.resolver_for(matched.platform.id)
    return await anyio.to_thread.run_sync(_fetched, settings, matched, resolver, info)


def _matched(
    registry: PlatformRegistry, url: str, playlist: bool
) -> tuple[MatchedUrl, PlaylistHandling]:
    collection = registry.match(url, playlist=True)
    if collection.kind is not LinkKind.PLAYLIST:
        return registry.match(url, playlist=playlist), PlaylistHandling.NONE
    if playlist:
        return collection, PlaylistHandling.EXPANDED
    try:
        return registry.match(url, playlist=False), PlaylistHandling.ITEM_ONLY
    except AudiograbError as error:
        if error.code is not ErrorCode.INVALID_REQUEST:
            raise
        return collection, PlaylistHandling.REFUSED


def _info(matched: MatchedUrl, handling: PlaylistHandling) -> LinkInfo:
    platform = matched.platform
    return LinkInfo(
        url=matched.url,
        platform=platform.id,
        platform_name=platform.name,
        kind=matched.kind,
        playlist=handling,
        media_kinds=(MediaKind.AUDIO, MediaKind.VIDEO)
        if platform.has_video
        else (MediaKind.AUDIO,),
        needs_cookies=platform.needs_cookies,
    )


def _fetched(
    settings: Settings,
    matched: MatchedUrl,
    resolver: Resolver | None,
    info: LinkInfo,
) -> LinkInfo:
    """Blocking: the guarded resolve and yt-dlp dry run a download would start with."""
    policy = address_policy(settings)
    netguard.check_url(matched.url, policy)
    preparation = resolving.preparation_for(settings, matched, resolver, policy)
    with tempfile.TemporaryDirectory(prefix="audiograb-lookup-") as work:
        options = preparation.with_cookies(download_options(settings, matched, Path(work)))
        resolved = preparation.resolve(options)
        url = matched.url
        if resolved is not None:
            url = resolved.media_url
            options = msgspec.structs.replace(options, extra_params=resolved.ytdlp_params)
        media = resolving.merge_media(ytdlp.extract_info(url, options), resolved)
    kind = info.kind
    if matched.kind is LinkKind.PAGE and media.extractor == _FEED_EXTRACTOR:
        kind = LinkKind.FEED
    return msgspec.structs.replace(
        info,
        kind=kind,
        fetched=True,
        media=media,
        note=resolved.note if resolved is not None else None,
    )
