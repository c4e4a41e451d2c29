"""Finished files in an S3-compatible object store, through obstore (docs/adr/0002).

The key is the job id and the file's suffix below the URL's prefix (`prefix/<job id>.mp3`),
so running a job again overwrites its one object instead of adding a second. The local file
stays in the output folder of the node that made it, as without a store; every node serves
the object, so all of them answer a range request with the same bytes and the same tag.
"""

from collections.abc import AsyncIterator
from pathlib import Path, PurePath
from urllib.parse import parse_qs, urlsplit

import obstore
from obstore.exceptions import BaseError, NotFoundError, PreconditionError
from obstore.store import S3Store

from audiograb.domain import AudiograbError, ErrorCode, Job
from audiograb.storage.files import CHUNK, FileInfo
from audiograb.storage.local import LocalFiles, local_path

__all__ = ["ObjectFiles", "object_key", "open_object_store"]

#: Region sent when the URL names none (S3-compatible servers mostly ignore it).
DEFAULT_REGION = "us-east-1"
#: How long one request (a whole download to a slow client included) may take.
REQUEST_TIMEOUT = "1h"
#: How long a request may wait for its next bytes before it counts as stalled.
READ_TIMEOUT = "60s"


def open_object_store(url: str, access_key_id: str | None, secret: str | None) -> S3Store:
    """The store of an `s3://bucket/prefix?endpoint=…&region=…` URL (checked by Settings).

    Keys not given here come from the `AWS_*` environment variables, as obstore reads them.
    """
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    config: dict[str, str | bool] = {"region": query.get("region", DEFAULT_REGION)}
    if "endpoint" in query:
        config["endpoint"] = query["endpoint"]
        config["virtual_hosted_style_request"] = False  # path style, as MinIO or SeaweedFS
    if access_key_id is not None and secret is not None:
        config["access_key_id"] = access_key_id
        config["secret_access_key"] = secret
    return S3Store(
        parts.netloc,
        prefix=parts.path.strip("/") or None,
        config=config,  # type: ignore[arg-type]  # the keys above are S3Config's
        client_options={
            "allow_http": query.get("endpoint", "").startswith("http://"),
            "timeout": REQUEST_TIMEOUT,
            "read_timeout": READ_TIMEOUT,
        },
    )


def object_key(job: Job) -> str:
    """The job's key below the store's prefix: its id and its file's suffix."""
    return job.id + PurePath(local_path(job)).suffix.lower()


class ObjectFiles:
    """Uploads each finished file once it is done; reads and deletes it by the job's key."""

    def __init__(self, store: S3Store) -> None:
        self._store = store
        self._local = LocalFiles()

    async def publish(self, job: Job) -> None:
        """Upload the finished file (in parts when large); overwrites an earlier run's."""
        key = object_key(job)
        try:
            await obstore.put_async(self._store, key, Path(local_path(job)))
        except BaseError as error:
            raise _unreachable(f"uploading {key}", error) from error

    async def info(self, job: Job) -> FileInfo:
        """Size and tag from the store's metadata."""
        key = object_key(job)
        try:
            meta = await obstore.head_async(self._store, key)
        except (FileNotFoundError, NotFoundError):
            raise AudiograbError(
                ErrorCode.FILE_NOT_FOUND, f"the file of job {job.id} is not in the store"
            ) from None
        except BaseError as error:
            raise _unreachable(f"reading {key}", error) from error
        etag = meta["e_tag"] or f'"{meta["size"]:x}"'
        return FileInfo(size=meta["size"], etag=etag if etag.startswith('"') else f'"{etag}"')

    async def read(self, job: Job, start: int, stop: int, etag: str) -> AsyncIterator[bytes]:
        """The span in chunks, from one ranged GET that must still match `etag`."""
        if stop <= start:
            return
        key = object_key(job)
        try:
            result = await obstore.get_async(
                self._store, key, options={"range": (start, stop), "if_match": etag}
            )
        except (FileNotFoundError, NotFoundError, PreconditionError):
            raise AudiograbError(
                ErrorCode.FILE_NOT_FOUND, f"the file of job {job.id} changed or went away"
            ) from None
        except BaseError as error:
            raise _unreachable(f"reading {key}", error) from error
        async for chunk in result.stream(min_chunk_size=CHUNK):
            yield bytes(chunk)

    async def remove(self, job: Job) -> None:
        """Delete the object, and this node's local copy if it has one."""
        key = object_key(job)
        try:
            await obstore.delete_async(self._store, key)
        except (FileNotFoundError, NotFoundError):
            pass
        except BaseError as error:
            raise _unreachable(f"deleting {key}", error) from error
        await self._local.remove(job)


def _unreachable(doing: str, error: BaseError) -> AudiograbError:
    """A store that failed or refused: NETWORK, which a job retries later."""
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return AudiograbError(ErrorCode.NETWORK, f"object store: {doing} failed: {first_line}")
