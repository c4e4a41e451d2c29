"""Discord attachments: `cdn.discordapp.com/attachments/CHANNEL/ATTACHMENT/FILE`.

Attachment links are signed: the `ex` (expiry, hex Unix time), `is` and `hm` parameters are
kept, everything else goes. `media.discordapp.net` (the media proxy) keeps its host. yt-dlp has
no extractor for these, but the file itself is plain HTTP: the resolver checks the signature's
expiry, asks the CDN whether the link still works (headers only), and hands the link to yt-dlp
to stream. An expired or revoked link is a `not_found` that says to copy a fresh one.
"""

import re
import time
from pathlib import PurePosixPath
from urllib.parse import unquote

from audiograb.domain import AudiograbError, ErrorCode, LinkKind, MediaInfo
from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url, parse_url
from audiograb.platforms.resolve import ResolveContext, Resolved

__all__ = ["PLATFORM", "SITE", "resolve"]

PLATFORM = Platform(
    id="discord",
    name="Discord",
    example_urls=(
        "https://cdn.discordapp.com/attachments/1012345678901234567/1123456789012345678/"
        "voice-message.ogg?ex=66b1c2d3&is=66b07153&hm=0123abcd",
        "https://media.discordapp.net/attachments/1012345678901234567/1123456789012345678/clip.mp4",
    ),
    has_video=True,
)

_PATH = re.compile(r"/attachments/\d{1,20}/\d{1,20}/[^/]{1,255}")
_SIGNATURE_PARAMS = ("ex", "is", "hm")
_ATTACHMENT_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})
_EXPIRED = "the Discord attachment link has expired; copy a fresh link from Discord and retry"


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    if url.host not in _ATTACHMENT_HOSTS or _PATH.fullmatch(url.path) is None:
        return None
    kept = [(key, value) for key, value in url.query if key in _SIGNATURE_PARAMS]
    canonical = build_url(url.host, url.path, kept)
    return MatchedUrl(platform=PLATFORM, url=canonical, kind=LinkKind.ATTACHMENT)


def expires_at(url: ParsedUrl) -> float | None:
    """The Unix time the link's signature expires (`ex`, hex), or None if unsigned."""
    value = url.param("ex")
    try:
        return float(int(value, 16)) if value else None
    except ValueError:
        return None


def resolve(matched: MatchedUrl, ctx: ResolveContext, *, now: float | None = None) -> Resolved:
    """The attachment itself, once the link is known to be alive."""
    parsed = parse_url(matched.url)
    expiry = expires_at(parsed)
    if expiry is not None and expiry <= (time.time() if now is None else now):
        raise AudiograbError(ErrorCode.NOT_FOUND, _EXPIRED)
    try:
        ctx.fetch(matched.url, only=())  # headers only: is the link still good?
    except AudiograbError as error:
        if error.code in (ErrorCode.NOT_FOUND, ErrorCode.AUTH_REQUIRED):
            raise AudiograbError(ErrorCode.NOT_FOUND, _EXPIRED) from error
        raise
    name = unquote(PurePosixPath(parsed.path).name)
    return Resolved(
        media_url=matched.url,
        media=MediaInfo(title=PurePosixPath(name).stem or name, extractor="discord"),
    )


SITE = Site(
    platform=PLATFORM,
    # Message links on discord.com are recognised only to answer with the attachment shape.
    hosts=_ATTACHMENT_HOSTS | {"discord.com", "www.discord.com"},
    shapes=("cdn.discordapp.com/attachments/CHANNEL/ATTACHMENT/FILE",),
    match=_match,
    resolve=resolve,
)
