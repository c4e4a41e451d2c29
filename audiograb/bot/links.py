"""Links users send: finding them in a message, what they point to, and remembering them.

Callback data is limited to 64 bytes, so the keyboard carries a short token and the link
waits here, in a small LRU, until a button is pressed.
"""

import logging
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from aiogram.types import Message

from audiograb.domain import AudiograbError, MediaInfo
from audiograb.pipeline import Audiograb, Platform

__all__ = ["Link", "PendingLinks", "find_url", "look_up"]

logger = logging.getLogger(__name__)

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
#: Links waiting for a button press; older ones answer "send the link again".
PENDING_CAPACITY = 500


@dataclass(frozen=True, slots=True)
class Link:
    """A link we can grab: its platform, canonical URL and what we know of the media."""

    url: str
    platform: Platform
    media: MediaInfo | None

    @property
    def title(self) -> str:
        """The media's title, else the URL."""
        return (self.media.title if self.media else None) or self.url


def find_url(message: Message) -> str | None:
    """The first link in a message: URL entities first, then hidden text links, then text."""
    text = message.text or message.caption or ""
    for entity in message.entities or message.caption_entities or ():
        if entity.type == "url":
            return entity.extract_from(text)
        if entity.type == "text_link" and entity.url:
            return entity.url
    found = _URL.search(text)
    return found.group(0) if found else None


async def look_up(ag: Audiograb, url: str) -> Link:
    """Match `url` to its platform (raising `AudiograbError` like `submit`) and probe it;
    a failed probe only costs the title and the early size check."""
    matched = ag.match(url)
    media = None
    try:
        media = await ag.probe(matched.url)
    except AudiograbError as error:
        logger.info("probe of %s failed: %s", matched.url, error.code)
    return Link(url=matched.url, platform=matched.platform, media=media)


class PendingLinks:
    """Links shown with a keyboard, by token, with the user who sent them."""

    def __init__(self, capacity: int = PENDING_CAPACITY) -> None:
        self._capacity = capacity
        self._links: OrderedDict[str, tuple[int, Link]] = OrderedDict()

    def add(self, user_id: int, link: Link) -> str:
        """Remember `link` for `user_id`; returns the token for its buttons."""
        token = secrets.token_hex(4)
        self._links[token] = (user_id, link)
        while len(self._links) > self._capacity:
            self._links.popitem(last=False)
        return token

    def get(self, token: str, user_id: int) -> Link | None:
        """The link behind `token`, if it is still known and `user_id` sent it."""
        found = self._links.get(token)
        return found[1] if found is not None and found[0] == user_id else None
