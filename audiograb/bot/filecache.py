"""Telegram file ids of what the bot uploaded, so the same media is never uploaded twice.

Kept as a small JSON file (the bot may not touch the job store): most recently used entries
first, capped, rewritten atomically in a worker thread after each change. A file id belongs to
one bot, so each bot id gets its own file. Losing the file only costs a re-upload.
"""

import logging
import os
from collections import OrderedDict
from enum import StrEnum
from pathlib import Path

import anyio
import msgspec

__all__ = ["CachedFile", "FileIdCache", "SentAs", "cache_key"]

logger = logging.getLogger(__name__)

#: Entries kept; the least recently used go first.
CAPACITY = 2000


class SentAs(StrEnum):
    """The Bot API method family a file went out with (a file id only fits its own)."""

    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"


class CachedFile(msgspec.Struct, frozen=True, kw_only=True):
    """A file Telegram already has."""

    sent_as: SentAs
    file_id: str


def cache_key(url: str, option: str, quality: str) -> str:
    """What makes two requests the same media: the canonical URL and the output chosen."""
    return f"{option}|{quality}|{url}"


class FileIdCache:
    """A capped LRU of `cache_key -> CachedFile`, persisted to `path` when given."""

    def __init__(self, path: Path | None, capacity: int = CAPACITY) -> None:
        self._path = path
        self._capacity = capacity
        self._entries: OrderedDict[str, CachedFile] = OrderedDict()
        self._lock = anyio.Lock()

    @classmethod
    async def load(cls, path: Path | None, capacity: int = CAPACITY) -> "FileIdCache":
        """Read the cache from `path`; a missing or damaged file starts an empty cache."""
        cache = cls(path, capacity)
        if path is not None:
            try:
                raw = await anyio.Path(path).read_bytes()
                entries = msgspec.json.decode(raw, type=dict[str, CachedFile])
            except FileNotFoundError:
                entries = {}
            except (OSError, msgspec.DecodeError) as error:
                logger.warning("ignoring unreadable file id cache %s: %s", path, error)
                entries = {}
            cache._entries.update(list(entries.items())[:capacity])
        return cache

    def get(self, key: str) -> CachedFile | None:
        """The cached file for `key`, marking it recently used."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key, last=False)
        return found

    async def put(self, key: str, entry: CachedFile) -> None:
        """Remember `entry` and save."""
        self._entries[key] = entry
        self._entries.move_to_end(key, last=False)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=True)
        await self._save()

    async def drop(self, key: str) -> None:
        """Forget `key` (Telegram no longer knows its file id) and save."""
        if self._entries.pop(key, None) is not None:
            await self._save()

    async def _save(self) -> None:
        if self._path is None:
            return
        data = msgspec.json.encode(dict(self._entries))
        async with self._lock:
            try:
                await anyio.to_thread.run_sync(_write_atomically, self._path, data)
            except OSError as error:  # the cache is an optimisation: never fail a delivery
                logger.warning("cannot save file id cache %s: %s", self._path, error)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
