"""Transcription routes: start one (from a URL, a job's file or an upload) and read the result."""

from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ValidationException
from litestar.params import FromPath, QueryParameter

from audiograb.api.context import Api
from audiograb.api.errors import error_responses
from audiograb.api.schemas import JobView, TranscriptionBody, TranscriptionOptions, job_view
from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    Job,
    JobRequest,
    JobState,
    TranscriptFormat,
    render,
)

__all__ = ["get_transcript", "submit_transcription"]

_S = HTTPStatus
#: Bytes read from an upload at a time while it is copied into the job's folder.
CHUNK = 1 << 20
MEDIA_TYPES = {
    TranscriptFormat.TXT: "text/plain; charset=utf-8",
    TranscriptFormat.SRT: "application/x-subrip; charset=utf-8",
    TranscriptFormat.VTT: "text/vtt; charset=utf-8",
    TranscriptFormat.JSON: "application/json",
}


@post(
    "/api/transcriptions",
    status_code=201,
    tags=["transcripts"],
    summary="Transcribe a URL, a job's file or an upload",
    responses=error_responses(_S.FORBIDDEN, _S.NOT_FOUND, _S.CONFLICT, _S.REQUEST_ENTITY_TOO_LARGE),
    request_max_body_size=None,  # uploads are counted as they are copied, against the setting
)
async def submit_transcription(request: Request[Any, Any, Any], api: Api) -> Response[JobView]:
    """Queue a transcript-only job.

    JSON body: `{"url": …}` or `{"job_id": …}` plus options (`language`, `translate`,
    `beam_size`, `vad_filter`, `word_timestamps`, `prompt`, `model`). Or `multipart/form-data`
    with a `file` field and the same options as fields; uploads over the server's limit get 413.
    """
    if request.content_type[0] == "multipart/form-data":
        _refuse_announced_excess(request, api)
        job = await _from_upload(request, api)
    else:
        body = await _json_body(request, api.settings.max_request_bytes)
        job = await _from_body(body, api)
    return Response(job_view(job), status_code=201, headers={"Location": f"/api/jobs/{job.id}"})


@get(
    "/api/jobs/{job_id:str}/transcript",
    tags=["transcripts"],
    summary="A job's transcript",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT),
)
async def get_transcript(
    job_id: FromPath[str],
    api: Api,
    format: Annotated[
        TranscriptFormat, QueryParameter(description="txt, srt, vtt or json (with word times)")
    ] = TranscriptFormat.TXT,
) -> Response[str]:
    """The transcript as text, SubRip, WebVTT or JSON; partial while the job still runs."""
    await api.job(job_id)
    transcript = await api.ag.transcript(job_id)
    return Response(render(transcript, format), media_type=MEDIA_TYPES[format])


def _request(options: TranscriptionOptions, url: str) -> JobRequest:
    return JobRequest(
        url=url, transcribe=True, keep_media=False, transcription=options.to_options()
    )


async def _from_body(body: TranscriptionBody, api: Api) -> Job:
    if (body.url is None) == (body.job_id is None):
        raise AudiograbError(ErrorCode.INVALID_REQUEST, "give exactly one of url and job_id")
    if body.url is not None:
        return await api.ag.submit(_request(body, body.url))
    source = await api.job(body.job_id or "")
    if source.state is not JobState.COMPLETED or source.output_path is None:
        raise AudiograbError(
            ErrorCode.INVALID_STATE, f"job {source.id} has no finished file to transcribe"
        )
    return await api.ag.submit_existing(source, _request(body, source.request.url))


async def _json_body(request: Request[Any, Any, Any], limit: int) -> TranscriptionBody:
    raw = await request.body()
    if len(raw) > limit:
        raise AudiograbError(ErrorCode.TOO_LARGE, f"request bodies are limited to {limit} bytes")
    try:
        return msgspec.json.decode(raw, type=TranscriptionBody)
    except msgspec.ValidationError as error:
        raise ValidationException(detail=str(error)) from None
    except msgspec.DecodeError as error:
        raise AudiograbError(ErrorCode.INVALID_REQUEST, f"malformed JSON: {error}") from None


def _refuse_announced_excess(request: Request[Any, Any, Any], api: Api) -> None:
    """413 before reading a body whose announced length is over the upload limit (plus room
    for the form's other fields): the form parser would otherwise take in all of it, to disk,
    before the copy into the job counts its bytes. Bodies of unknown length are counted then.
    """
    limit = api.settings.max_upload_bytes
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit + api.settings.max_request_bytes:
        raise AudiograbError(ErrorCode.TOO_LARGE, f"uploads are limited to {limit} bytes")


async def _from_upload(request: Request[Any, Any, Any], api: Api) -> Job:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise AudiograbError(ErrorCode.INVALID_REQUEST, "send the audio as a `file` field")
    fields = {key: value for key, value in form.items() if key != "file"}
    try:
        options = msgspec.convert(fields, TranscriptionOptions, strict=False)
    except msgspec.ValidationError as error:
        raise ValidationException(detail=str(error)) from None
    try:
        return await api.ag.submit_upload(
            _chunks(upload),
            upload.filename or "upload",
            _request(options, ""),
            max_bytes=api.settings.max_upload_bytes,
        )
    finally:
        await upload.close()


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk
