"""Discord attachments: `cdn.discordapp.com/attachments/CHANNEL/ATTACHMENT/FILE`.

Attachment links are signed: the `ex`, `is` and `hm` parameters are kept, everything else goes.
`media.discordapp.net` (the media proxy) keeps its host. yt-dlp has no extractor for these, so
the platform waits for our resolver and the registry answers `unsupported_yet`.
"""

import re

from audiograb.platforms.base import MatchedUrl, ParsedUrl, Platform, Site, build_url

__all__ = ["PLATFORM", "SITE"]

PLATFORM = Platform(
    id="discord",
    name="Discord",
    example_urls=(
        "https://cdn.discordapp.com/attachments/1012345678901234567/1123456789012345678/"
        "voice-message.ogg?ex=66b1c2d3&is=66b07153&hm=0123abcd",
        "https://media.discordapp.net/attachments/1012345678901234567/1123456789012345678/clip.mp4",
    ),
    has_video=True,
    available=False,
    availability_note="resolver arrives in a later release",
)

_PATH = re.compile(r"/attachments/\d{1,20}/\d{1,20}/[^/]{1,255}")
_SIGNATURE_PARAMS = ("ex", "is", "hm")
_ATTACHMENT_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})


def _match(url: ParsedUrl, playlist: bool) -> MatchedUrl | None:
    if url.host not in _ATTACHMENT_HOSTS or _PATH.fullmatch(url.path) is None:
        return None
    kept = [(key, value) for key, value in url.query if key in _SIGNATURE_PARAMS]
    return MatchedUrl(platform=PLATFORM, url=build_url(url.host, url.path, kept))


SITE = Site(
    platform=PLATFORM,
    # Message links on discord.com are recognised only to answer with the attachment shape.
    hosts=_ATTACHMENT_HOSTS | {"discord.com", "www.discord.com"},
    shapes=("cdn.discordapp.com/attachments/CHANNEL/ATTACHMENT/FILE",),
    match=_match,
)
