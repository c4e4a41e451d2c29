"""Finished files in this node's output folder: the default, and what one node needs."""

from collections.abc import AsyncIterator

import anyio

from audiograb.domain import AudiograbError, ErrorCode, Job
from audiograb.storage.files import CHUNK, FileInfo

__all__ = ["LocalFiles", "local_path"]


def local_path(job: Job) -> anyio.Path:
    """The job's file in the output folder; FILE_NOT_FOUND when the job has none."""
    if job.output_path is None:
        raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"job {job.id} has no file")
    return anyio.Path(job.output_path)


class LocalFiles:
    """Reads the file where the job's `output_path` says; publishing has nothing to do."""

    async def publish(self, job: Job) -> None:
        """The file is already where it is read from."""

    async def info(self, job: Job) -> FileInfo:
        """Size and a tag of modification time and size, as web servers make for files."""
        path = local_path(job)
        try:
            stat = await path.stat()
            is_file = await path.is_file()
        except OSError:
            is_file = False
        if not is_file:
            raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"the file of job {job.id} is gone")
        return FileInfo(size=stat.st_size, etag=f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"')

    async def read(self, job: Job, start: int, stop: int, etag: str) -> AsyncIterator[bytes]:
        """Chunks of the byte span, read from the file as the receiver takes them."""
        async with await anyio.open_file(local_path(job), "rb") as handle:
            await handle.seek(start)
            left = stop - start
            while left > 0:
                chunk = await handle.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    async def remove(self, job: Job) -> None:
        """Unlink the file."""
        if job.output_path is not None:
            await anyio.Path(job.output_path).unlink(missing_ok=True)
