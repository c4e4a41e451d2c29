"""Transcription routes: start one (from a URL, a job's file or an upload) and read the result."""

from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, QueryParameter

from audiograb.api.bodies import capped
from audiograb.api.context import Api
from audiograb.api.errors import URL_CHECKS, error_responses, invalid_body
from audiograb.api.forms import form_options, read_form, uploaded_file
from audiograb.api.openapi import documented, json_body, schema_of, upload_body
from audiograb.api.schemas import JobView, TranscriptionBody, TranscriptionOptions, job_view
from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    Job,
    JobRequest,
    JobState,
    Transcript,
    TranscriptFormat,
    render,
)

__all__ = ["get_transcript", "submit_transcription"]

_S = HTTPStatus
#: Bytes read from an upload at a time while it is copied into the job's folder.
CHUNK = 1 << 20
#: Bytes an upload's form may hold besides the file: its option fields and part headers.
FORM_OVERHEAD = 64 * 1024
#: Content types by format (Litestar adds `; charset=utf-8` to `text/` types by itself).
MEDIA_TYPES = {
    TranscriptFormat.TXT: "text/plain",
    TranscriptFormat.SRT: "application/x-subrip; charset=utf-8",
    TranscriptFormat.VTT: "text/vtt",
    TranscriptFormat.JSON: "application/json",
}


@post(
    "/api/transcriptions",
    status_code=201,
    tags=["transcripts"],
    summary="Transcribe a URL, a job's file or an upload",
    responses=error_responses(*URL_CHECKS, _S.NOT_FOUND, _S.CONFLICT, _S.REQUEST_ENTITY_TOO_LARGE),
    request_max_body_size=None,  # the limit depends on the body and the settings: see `capped`
    operation_class=documented(
        body={
            **json_body(TranscriptionBody),
            **upload_body(TranscriptionOptions, "The audio or video to transcribe"),
        }
    ),
)
async def submit_transcription(request: Request[Any, Any, Any], api: Api) -> Response[JobView]:
    """Queue a transcript-only job.

    JSON body: `{"url": …}` or `{"job_id": …}` plus options (`language`, `translate`,
    `beam_size`, `vad_filter`, `word_timestamps`, `prompt`, `model`). Or `multipart/form-data`
    with a `file` field and the same options as fields; uploads over the server's limit get 413.
    """
    settings = api.settings
    if request.content_type[0] == "multipart/form-data":
        job = await _from_upload(capped(request, settings.max_upload_bytes + FORM_OVERHEAD), api)
    else:
        body = await _json_body(capped(request, settings.max_request_bytes))
        job = await _from_body(body, api)
    return Response(job_view(job), status_code=201, headers={"Location": f"/api/jobs/{job.id}"})


@get(
    "/api/jobs/{job_id:str}/transcript",
    tags=["transcripts"],
    summary="A job's transcript",
    media_type="text/plain",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT),
    operation_class=documented(
        also_answers={
            200: {
                "application/x-subrip": Schema(type=OpenAPIType.STRING),
                "text/vtt": Schema(type=OpenAPIType.STRING),
                "application/json": schema_of(Transcript),
            }
        }
    ),
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


async def _json_body(request: Request[Any, Any, Any]) -> TranscriptionBody:
    try:
        return msgspec.json.decode(await request.body(), type=TranscriptionBody)
    except msgspec.ValidationError as error:
        raise invalid_body(error) from None
    except msgspec.DecodeError as error:
        raise AudiograbError(ErrorCode.INVALID_REQUEST, f"malformed JSON: {error}") from None


async def _from_upload(request: Request[Any, Any, Any], api: Api) -> Job:
    form = await read_form(request)
    upload = uploaded_file(form, "the audio")
    options = form_options(form, TranscriptionOptions)
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
