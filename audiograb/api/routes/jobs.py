"""Routes that submit, list, show, cancel and retry jobs, and serve their finished files."""

from http import HTTPStatus
from typing import Annotated

from litestar import Response, delete, get, head, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Stream

from audiograb.api.context import Api
from audiograb.api.errors import URL_CHECKS, error_responses
from audiograb.api.files import file_head, file_response
from audiograb.api.openapi import documented, schema_of
from audiograb.api.paging import Offset
from audiograb.api.schemas import DownloadBody, JobPage, JobView, job_view
from audiograb.domain import JobState, Transcript

__all__ = [
    "cancel_job",
    "get_job",
    "get_job_file",
    "head_job_file",
    "list_jobs",
    "retry_job",
    "submit_download",
]

#: The largest page `GET /api/jobs` returns.
MAX_PAGE = 200

_S = HTTPStatus
_FILE_TYPE = "audio/*"
_FILE_PATHS = ["/api/jobs/{job_id:str}/file", "/api/download/{job_id:str}/file"]
RangeHeader = Annotated[str | None, HeaderParameter(name="Range", required=False)]
IfRange = Annotated[str | None, HeaderParameter(name="If-Range", required=False)]


@post(
    "/api/downloads",
    status_code=201,
    tags=["jobs"],
    summary="Submit a download",
    responses=error_responses(*URL_CHECKS, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def submit_download(data: JSONBody[DownloadBody], api: Api) -> Response[JobView]:
    """Queue a download; answers at once with the queued job (follow it on `events_url`).

    URLs that reach private, loopback or link-local addresses are refused with 403
    `forbidden_address` (unless the server allows private networks).
    """
    job = await api.ag.submit(data.to_request())
    return Response(job_view(job), status_code=201, headers={"Location": f"/api/jobs/{job.id}"})


@get(
    "/api/jobs",
    tags=["jobs"],
    summary="List jobs",
    responses=error_responses(),
)
async def list_jobs(
    api: Api,
    states: Annotated[
        list[JobState] | None,
        QueryParameter(name="state", description="Only jobs in these states (repeatable)"),
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Page size")] = 50,
    offset: Offset = 0,
) -> JobPage:
    """Jobs, newest first, optionally filtered by state, one page at a time."""
    jobs = await api.ag.list(states=states, limit=limit, offset=offset)
    total = await api.ag.count(states=states)
    return JobPage(jobs=[job_view(job) for job in jobs], total=total, limit=limit, offset=offset)


@get(
    "/api/jobs/{job_id:str}",
    tags=["jobs"],
    summary="Show a job",
    responses=error_responses(_S.NOT_FOUND),
)
async def get_job(job_id: FromPath[str], api: Api) -> JobView:
    """One job, as stored now."""
    return job_view(await api.job(job_id))


@delete(
    "/api/jobs/{job_id:str}",
    status_code=200,
    tags=["jobs"],
    summary="Cancel a job, or delete an ended one",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT, _S.BAD_GATEWAY),
)
async def cancel_job(
    job_id: FromPath[str],
    api: Api,
    purge: Annotated[
        bool,
        QueryParameter(description="Delete the ended job, its events and its file instead"),
    ] = False,
) -> JobView:
    """Cancel a queued or running job (its partial files are removed); 409 once it has ended.

    With `purge=true`, an ended job is deleted: its finished file (from the shared object store
    too), its events and its record; the answer is the job as it was. 409 while it runs.
    """
    job = await api.job(job_id)
    if purge:
        await api.ag.delete(job_id)
        return job_view(job)
    return job_view(await api.ag.cancel(job_id))


@post(
    "/api/jobs/{job_id:str}/retry",
    status_code=200,
    tags=["jobs"],
    summary="Retry a job",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT),
)
async def retry_job(job_id: FromPath[str], api: Api) -> JobView:
    """Queue a failed or cancelled job again, under the same id; 409 if it completed or runs."""
    await api.job(job_id)
    return job_view(await api.ag.retry(job_id))


@get(
    _FILE_PATHS,
    tags=["jobs"],
    summary="Download a job's file",
    # A transcript-only job's file is its transcript, as JSON.
    operation_class=documented(
        also_answers={status: {"application/json": schema_of(Transcript)} for status in (200, 206)}
    ),
    responses={
        200: ResponseSpec(
            bytes, description="The whole file", media_type=_FILE_TYPE, generate_examples=False
        ),
        206: ResponseSpec(
            bytes,
            description="The requested byte range",
            media_type=_FILE_TYPE,
            generate_examples=False,
        ),
        **error_responses(_S.NOT_FOUND, _S.CONFLICT, _S.REQUESTED_RANGE_NOT_SATISFIABLE),
    },
)
async def get_job_file(
    job_id: FromPath[str],
    api: Api,
    range_header: RangeHeader = None,
    if_range: IfRange = None,
) -> Stream:
    """The finished file of a completed job, whole or one byte range (`Range: bytes=a-b`).

    Only ever the job's own output file; the name offered comes from the media title.
    """
    return await file_response(await api.job(job_id), api.ag.outputs, range_header, if_range)


@head(
    _FILE_PATHS,
    tags=["jobs"],
    summary="A job's file: headers only",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT, _S.REQUESTED_RANGE_NOT_SATISFIABLE),
)
async def head_job_file(
    job_id: FromPath[str],
    api: Api,
    range_header: RangeHeader = None,
    if_range: IfRange = None,
) -> Response[None]:
    """What `GET` of the file would answer (status, size, type, name, `ETag`), without the bytes:
    how download managers learn a file's size and that it takes ranges."""
    return await file_head(await api.job(job_id), api.ag.outputs, range_header, if_range)
