"""Links users send: finding them in a message, what they point to, and remembering them.

Callback data is limited to 64 bytes, so the keyboard carries a short token and the link
waits here, in a small LRU, until a button is pressed.
"""

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

from aiogram.types import Message

from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    LinkInfo,
    MediaInfo,
    MediaKind,
    PlaylistHandling,
)
from audiograb.pipeline import Audiograb

__all__ = ["Link", "PendingLinks", "Unclaimed", "find_url", "look_up", "with_scheme"]

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
#: Links waiting for a button press; older ones answer "send the link again".
PENDING_CAPACITY = 500
PLAYLIST_REFUSED = "That is a playlist; send me the link of one of its items"


@dataclass(frozen=True, slots=True)
class Link:
    """A link we can grab, as the look-up found it: platform, canonical URL, the media."""

    info: LinkInfo

    @property
    def url(self) -> str:
        """The canonical URL a job stores."""
        return self.info.url

    @property
    def platform(self) -> str:
        """The platform's name, for people."""
        return self.info.platform_name

    @property
    def media(self) -> MediaInfo | None:
        """Title, duration and size, as the look-up's fetch found them."""
        return self.info.media

    @property
    def title(self) -> str:
        """The media's title, else the URL."""
        return (self.media.title if self.media else None) or self.url

    @property
    def has_video(self) -> bool:
        """Whether a video can come of it: the platform serves video and the source was not
        found to be sound only."""
        sound_only = self.media is not None and self.media.has_video is False
        return MediaKind.VIDEO in self.info.media_kinds and not sound_only


def find_url(message: Message) -> str | None:
    """The first link in a message: URL entities first, then hidden text links, then text.

    Telegram marks `youtube.com/watch?v=…` typed without a scheme as a link too; it gets
    `https://`, as a browser would give it.
    """
    text = message.text or message.caption or ""
    for entity in message.entities or message.caption_entities or ():
        if entity.type == "url":
            return with_scheme(entity.extract_from(text))
        if entity.type == "text_link" and entity.url:
            return entity.url
    found = _URL.search(text)
    return found.group(0) if found else None


def with_scheme(url: str) -> str:
    """`url`, with `https://` in front when it has no scheme."""
    return url if "://" in url else f"https://{url}"


async def look_up(ag: Audiograb, url: str) -> Link:
    """What `url` is, with its media's metadata, found without side effects (the look-up the
    API and the web app use), so a link that is no media (a web page, a 404, a site we cannot
    take) is answered before any keyboard is offered.

    Raises `AudiograbError` like a download of it would (`unsupported_url`, `not_found`...),
    and `invalid_request` for a playlist: the bot grabs one item at a time.
    """
    info = await ag.look_up(url, fetch=True)
    if info.playlist is PlaylistHandling.REFUSED:
        raise AudiograbError(ErrorCode.INVALID_REQUEST, PLAYLIST_REFUSED)
    return Link(info)


class Unclaimed(StrEnum):
    """Why a button press gets no link."""

    EXPIRED = "expired"
    """Never known, or pushed out by newer links."""
    NOT_YOURS = "not_yours"
    """Someone else in the group sent it."""
    BUSY = "busy"
    """An earlier press of its keyboard started a job, or is still being handled."""


class PendingLinks:
    """Links shown with a keyboard, by token, with the user who sent them.

    A press claims its link until the bot knows what came of it. A started job turns the
    keyboard's message into its progress message, so its link stays claimed and a second tap
    cannot start a second job there; a refusal or a file resent from the cache leaves the
    keyboard usable, and the link is released.
    """

    def __init__(self, capacity: int = PENDING_CAPACITY) -> None:
        self._capacity = capacity
        self._links: OrderedDict[str, tuple[int, Link]] = OrderedDict()
        self._claimed: set[str] = set()

    def add(self, user_id: int, link: Link) -> str:
        """Remember `link` for `user_id`; returns the token for its buttons."""
        token = secrets.token_hex(4)
        self._links[token] = (user_id, link)
        while len(self._links) > self._capacity:
            dropped, _ = self._links.popitem(last=False)
            self._claimed.discard(dropped)
        return token

    def claim(self, token: str, user_id: int) -> Link | Unclaimed:
        """The link behind `token` for `user_id`, held until `release`d."""
        found = self._links.get(token)
        if found is None:
            return Unclaimed.EXPIRED
        if found[0] != user_id:
            return Unclaimed.NOT_YOURS
        if token in self._claimed:
            return Unclaimed.BUSY
        self._claimed.add(token)
        return found[1]

    def release(self, token: str) -> None:
        """Let the link's buttons be pressed again."""
        self._claimed.discard(token)
