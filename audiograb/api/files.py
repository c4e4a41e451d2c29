"""Serving a job's finished file: byte ranges, its content type and a safe download name.

The route never takes a path from the client: it looks the job up by id and serves that job's
own file (from this node's output folder, or from the object store every node shares when
`storage_url` is set), whole or one byte range (RFC 9110 §14: `bytes=a-b`, `bytes=a-`, `bytes=-n`).
Several ranges at once, or a malformed header, get the whole file, as the RFC allows; a range
that starts past the end gets 416 (so does one whose start is too long a number to be any
file's size). The name offered in `Content-Disposition` comes from the media title, cleaned of
anything a file system or a header would choke on, with an ASCII fallback and the full UTF-8
name as RFC 5987 / 6266 `filename*`.
"""

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from litestar import Response
from litestar.response import Stream
from litestar.serialization import default_serializer
from litestar.types import Serializer

from audiograb.api.errors import ApiCode, ApiError
from audiograb.domain import AudiograbError, ErrorCode, Job, JobState, MediaKind
from audiograb.storage import OutputFiles

__all__ = [
    "ByteRange",
    "HeadersOnly",
    "content_disposition",
    "content_type",
    "file_head",
    "file_response",
    "parse_range",
]

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
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
#: Digits beyond any file's size: longer numbers are read as "past the end" (Python refuses to
#: parse numbers of thousands of digits, which a header can hold).
_MAX_DIGITS = 19
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
    first, last = (_number(text) for text in match.groups())
    if first is not None:
        start = first
        stop = min(last + 1, size) if last is not None else size
        if last is not None and last < start:
            return None
    elif last is not None:
        start, stop = max(0, size - last), size
        if last == 0:
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


def _number(digits: str) -> int | None:
    """A range bound (None when absent); a bound too long to parse counts as huge."""
    if not digits:
        return None
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


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


class _Answer(NamedTuple):
    """What a GET of the file sends: the span of the job's file, its status and headers."""

    span: ByteRange
    etag: str
    status: int
    headers: dict[str, str]
    media_type: str


async def _answer(
    job: Job, outputs: OutputFiles, range_header: str | None, if_range: str | None
) -> _Answer:
    """The job's own output file and how to send it; an error when there is none to send."""
    if job.state is not JobState.COMPLETED:
        raise AudiograbError(
            ErrorCode.INVALID_STATE, f"job {job.id} is {job.state.value}, not completed"
        )
    if job.output_path is None:
        raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"job {job.id} has no file")
    size, etag = await outputs.info(job)
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
    return _Answer(
        span=span,
        etag=etag,
        status=200 if whole else 206,
        headers=headers,
        media_type=content_type(Path(job.output_path), job.request.media),
    )


async def file_response(
    job: Job, outputs: OutputFiles, range_header: str | None, if_range: str | None
) -> Stream:
    """The response for `GET /api/jobs/{id}/file`: the job's own output file, or an error.

    `outputs` is where finished files live (this node's folder or the shared object store).
    """
    answer = await _answer(job, outputs, range_header, if_range)
    return Stream(
        outputs.read(job, answer.span.start, answer.span.stop, answer.etag),
        status_code=answer.status,
        headers=answer.headers,
        media_type=answer.media_type,
    )


class HeadersOnly(Response[None]):
    """A response of a GET's status and headers with no body, whatever its media type (HEAD).

    Litestar cannot render "no content" as `audio/mpeg`, so this one renders nothing at all.
    """

    def render(
        self, content: Any, media_type: str, enc_hook: Serializer = default_serializer
    ) -> bytes:
        """No body."""
        return b""


async def file_head(
    job: Job, outputs: OutputFiles, range_header: str | None, if_range: str | None
) -> HeadersOnly:
    """The response for `HEAD /api/jobs/{id}/file`: the GET's status and headers, no body."""
    answer = await _answer(job, outputs, range_header, if_range)
    return HeadersOnly(
        None, status_code=answer.status, headers=answer.headers, media_type=answer.media_type
    )
