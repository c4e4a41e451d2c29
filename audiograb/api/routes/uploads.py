"""`POST /api/uploads`: a file sent from a browser or a script, converted (and transcribed).

The counterpart of `POST /api/downloads` for a file the client has: multipart/form-data with the
`file` and the same choices as a download (format, quality, media, priority, transcribe and the
speech language). The upload is the job's download: it lives in the job's work folder and goes
with it. `POST /api/transcriptions` stays the way to a transcript alone.
"""

from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import UploadFile

from audiograb.api.bodies import capped
from audiograb.api.context import Api
from audiograb.api.errors import error_responses
from audiograb.api.forms import form_options, read_form
from audiograb.api.openapi import documented, upload_body
from audiograb.api.routes.transcripts import CHUNK, FORM_OVERHEAD
from audiograb.api.schemas import JobView, Language, Priority, job_view
from audiograb.domain import (
    DEFAULT_PRIORITY,
    AudioFormat,
    AudiograbError,
    ErrorCode,
    JobRequest,
    MediaKind,
    Quality,
    TranscribeOptions,
)

__all__ = ["UploadOptions", "upload_file"]


class UploadOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to make of an uploaded file: the choices of a download."""

    format: AudioFormat = AudioFormat.M4A
    quality: Quality = Quality.HIGH
    media: MediaKind = MediaKind.AUDIO
    priority: Priority = DEFAULT_PRIORITY
    transcribe: bool = False
    """Also transcribe it (the converted file is kept too)."""
    language: Language | None = None
    """The spoken language when transcribing; absent: detected."""

    def to_request(self, filename: str) -> JobRequest:
        """The job request for the uploaded `filename`."""
        return JobRequest(
            url=filename,
            format=self.format,
            quality=self.quality,
            media=self.media,
            priority=self.priority,
            transcribe=self.transcribe,
            transcription=TranscribeOptions(language=self.language),
        )


@post(
    "/api/uploads",
    status_code=201,
    tags=["jobs"],
    summary="Convert (and transcribe) an uploaded file",
    responses=error_responses(HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    request_max_body_size=None,  # limited by `max_upload_bytes`: see `capped`
    operation_class=documented(body=upload_body(UploadOptions, "The audio or video file")),
)
async def upload_file(request: Request[Any, Any, Any], api: Api) -> Response[JobView]:
    """Queue a job on an uploaded file; answers at once with the queued job. Uploads over the
    server's `max_upload_bytes` get 413 `too_large`."""
    limit = api.settings.max_upload_bytes
    form = await read_form(capped(request, limit + FORM_OVERHEAD))
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise AudiograbError(ErrorCode.INVALID_REQUEST, "send the file as a `file` field")
    options = form_options(form, UploadOptions)
    name = upload.filename or "upload"
    try:
        job = await api.ag.submit_upload(
            _chunks(upload), name, options.to_request(name), max_bytes=limit
        )
    finally:
        await upload.close()
    return Response(job_view(job), status_code=201, headers={"Location": f"/api/jobs/{job.id}"})


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk
