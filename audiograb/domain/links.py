"""What a link stands for, before anything is downloaded: the answer of the link look-up.

`audiograb info URL`, `POST /api/resolve`, the web app's grab page and the bot all show the same
`LinkInfo`: the platform a URL maps to, what kind of thing it is (an episode, a Space, a
video, a playlist...), its canonical form, what happens to a playlist, and, when the caller
asked for the network, the media's title and duration.
"""

from enum import StrEnum

import msgspec

from audiograb.domain.formats import AudioFormat, MediaKind
from audiograb.domain.job import MediaInfo

__all__ = ["LinkInfo", "LinkKind", "PlaylistHandling"]


class LinkKind(StrEnum):
    """What a link points at, as far as its shape tells (a fetch may say more)."""

    EPISODE = "episode"
    """One podcast episode."""
    SHOW = "show"
    """A podcast or show: its latest episode is fetched."""
    SPACE = "space"
    """An X Space (live or recorded)."""
    VIDEO = "video"
    """One video: YouTube, an X post, an Instagram reel."""
    POST = "post"
    """A social post that carries media (Instagram, 小红书)."""
    TRACK = "track"
    """A music track (Spotify: the matching YouTube video is fetched)."""
    PLAYLIST = "playlist"
    """A collection of items (a YouTube playlist)."""
    ATTACHMENT = "attachment"
    """A file attached to a chat message (Discord)."""
    FILE = "file"
    """A direct media file on any web server."""
    STREAM = "stream"
    """An HLS (.m3u8) or DASH (.mpd) manifest."""
    FEED = "feed"
    """A podcast RSS feed: its latest episode is fetched."""
    PAGE = "page"
    """Some other web page: yt-dlp's generic extractor or a feed; a fetch tells which."""


class PlaylistHandling(StrEnum):
    """What a download does with the collection a link names."""

    NONE = "none"
    """Not a collection."""
    REFUSED = "refused"
    """A collection submitted without `playlist=True`: refused with `invalid_request`."""
    ITEM_ONLY = "item_only"
    """An item's link that also names its collection: only the item is fetched."""
    EXPANDED = "expanded"
    """`playlist=True`: the collection is fetched (for now its first item, see docs/api.md)."""


class LinkInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A link as the pipeline would take it, found without side effects."""

    url: str
    """The canonical URL a job would store (tracking parameters dropped, hosts unified)."""
    platform: str
    """The platform id (`youtube`, `x_spaces`, `generic`...)."""
    platform_name: str
    kind: LinkKind
    playlist: PlaylistHandling = PlaylistHandling.NONE
    media_kinds: tuple[MediaKind, ...] = (MediaKind.AUDIO,)
    """`audio`, plus `video` where the platform serves video (so `media=video` makes sense)."""
    formats: tuple[AudioFormat, ...] = tuple(AudioFormat)
    """Output formats a job on this link may ask for (FFmpeg makes every one)."""
    needs_cookies: bool = False
    """Some content on this platform (private, age-restricted) needs browser cookies."""
    fetched: bool = False
    """Whether the network was asked (`media` then holds what it said)."""
    media: MediaInfo | None = None
    """Title, uploader, duration... when fetched."""
    note: str | None = None
    """How the media was found when it is not the link itself, when fetched."""
