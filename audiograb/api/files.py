"""Serving a job's finished file: byte ranges, its content type and a safe download name.

The route never takes a path from the client: it looks the job up by id and serves that job's
own `output_path`, whole or one byte range (RFC 9110 §14: `bytes=a-b`, `bytes=a-`, `bytes=-n`).
Several ranges at once, or a malformed header, get the whole file, as the RFC allows; a range
that starts past the end gets 416. The name offered in `Content-Disposition` comes from the
media title, cleaned of anything a file system or a header would choke on, with an ASCII
fallback and the full UTF-8 name as RFC 5987 / 6266 `filename*`.
"""

import re
import unicodedata
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import anyio
from litestar.response import Stream

from audiograb.api.errors import ApiCode, ApiError
from audiograb.domain import AudiograbError, ErrorCode, Job, JobState, MediaKind

__all__ = [
    "ByteRange",
    "content_disposition",
    "content_type",
    "file_response",
    "parse_range",
]

_CHUNK = 64 * 1024
_MAX_NAME = 120
_TYPES: Mapping[str, str] = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".mp4": "audio/mp4",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg; codecs=opus",
    ".flac": "audio/flac",
    ".webm": "audio/webm",
    ".mkv": "video/x-matroska",
    ".json": "application/json",  # the file of a transcript-only job
}
_VIDEO_TYPES: Mapping[str, str] = {".mp4": "video/mp4", ".webm": "video/webm"}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_UNSAFE = re.compile(r'[\\/:*?"<>|;=\x00-\x1f\x7f]+')
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9 ._()\[\]-]+")


class ByteRange(NamedTuple):
    """Bytes `start` up to, not including, `stop`."""

    start: int
    stop: int


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for in a `Range` header; None means send the whole file."""
    if not header or size == 0:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None  # several ranges, another unit or junk: the whole file is a valid answer
    first, last = match.groups()
    if first:
        start = int(first)
        stop = min(int(last) + 1, size) if last else size
        if last and int(last) < start:
            return None
    elif last:
        start, stop = max(0, size - int(last)), size
        if int(last) == 0:
            start = size
    else:
        return None
    if start >= size:
        raise ApiError(
            ApiCode.RANGE_NOT_SATISFIABLE,
            f"the range {header!r} starts past the end of the file ({size} bytes)",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return ByteRange(start, stop)


def content_type(path: Path, media: MediaKind) -> str:
    """The MIME type of a finished file, from its suffix and whether it holds video."""
    suffix = path.suffix.lower()
    if media is MediaKind.VIDEO and suffix in _VIDEO_TYPES:
        return _VIDEO_TYPES[suffix]
    return _TYPES.get(suffix, "application/octet-stream")


def _clean_title(title: str | None) -> str:
    text = unicodedata.normalize("NFC", title or "")
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = _UNSAFE.sub("_", text)
    text = " ".join(text.split()).strip(" ._")
    return text[:_MAX_NAME].rstrip(" ._")


def content_disposition(title: str | None, suffix: str, fallback: str) -> str:
    """`attachment` with an ASCII `filename` and the UTF-8 `filename*` built from `title`."""
    stem = _clean_title(title) or fallback
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = _NOT_ASCII_SAFE.sub("_", ascii_stem).strip(" ._") or fallback
    full = quote(stem + suffix, safe="")
    return f"attachment; filename=\"{ascii_stem}{suffix}\"; filename*=UTF-8''{full}"


async def _chunks(path: Path, span: ByteRange) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(span.start)
        left = span.stop - span.start
        while left > 0:
            chunk = await handle.read(min(_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


async def file_response(job: Job, range_header: str | None, if_range: str | None) -> Stream:
    """The response for `GET /api/jobs/{id}/file`: the job's own output file, or an error."""
    if job.state is not JobState.COMPLETED:
        raise AudiograbError(
            ErrorCode.INVALID_STATE, f"job {job.id} is {job.state.value}, not completed"
        )
    if job.output_path is None:
        raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"job {job.id} has no file")
    path = anyio.Path(job.output_path)
    try:
        stat = await path.stat()
    except OSError:
        stat = None
    if stat is None or not await path.is_file():
        raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"the file of job {job.id} is gone")
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    span = parse_range(range_header, size) if if_range in (None, etag) else None
    whole = span is None
    span = span or ByteRange(0, size)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Content-Length": str(span.stop - span.start),
        "Content-Disposition": content_disposition(
            job.media.title if job.media else None, Path(job.output_path).suffix, job.id
        ),
    }
    if not whole:
        headers["Content-Range"] = f"bytes {span.start}-{span.stop - 1}/{size}"
    return Stream(
        _chunks(Path(job.output_path), span),
        status_code=200 if whole else 206,
        headers=headers,
        media_type=content_type(Path(job.output_path), job.request.media),
    )
