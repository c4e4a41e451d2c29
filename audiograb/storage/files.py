"""The interface every home of finished files implements, and what it says about a file."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import NamedTuple, Protocol

import anyio

from audiograb.domain import Job

__all__ = ["CHUNK", "FileInfo", "OutputFiles", "save_copy"]

#: Bytes read at a time when a file is streamed out.
CHUNK = 64 * 1024


class FileInfo(NamedTuple):
    """A finished file's size and HTTP entity tag (quoted, as sent in `ETag`)."""

    size: int
    etag: str


class OutputFiles(Protocol):
    """A completed job's file: kept where every node that serves it can read it.

    Each method takes the job (its id and `output_path`); a missing file raises
    `AudiograbError(FILE_NOT_FOUND)`.
    """

    async def publish(self, job: Job) -> None:
        """Make the finished file at `job.output_path` readable from every node."""
        ...

    async def info(self, job: Job) -> FileInfo:
        """The file's size and entity tag."""
        ...

    def read(self, job: Job, start: int, stop: int, etag: str) -> AsyncIterator[bytes]:
        """Bytes `start` up to `stop` of the file whose tag `info` gave as `etag`."""
        ...

    async def remove(self, job: Job) -> None:
        """Delete the file (no error when it is already gone)."""
        ...


async def save_copy(outputs: OutputFiles, job: Job, dest: Path) -> None:
    """Write the job's finished file to `dest`, read from wherever `outputs` keeps it."""
    size, etag = await outputs.info(job)
    async with await anyio.open_file(dest, "wb") as out:
        async for chunk in outputs.read(job, 0, size, etag):
            await out.write(chunk)
