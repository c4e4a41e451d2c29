"""The original tool's routes, kept as aliases so its clients keep working.

Same request body as `POST /api/downloads`; answers in the original's job shape (`job_id`,
`status`, `download_url`, ...). Security, errors and limits are those of the new routes.
`GET /api/download/{id}/file` is the file route itself, registered under both paths.
"""

from http import HTTPStatus

from litestar import delete, get, post
from litestar.params import FromPath, JSONBody

from audiograb.api.context import Api
from audiograb.api.errors import URL_CHECKS, error_responses
from audiograb.api.schemas import DownloadBody, LegacyJob, legacy_job

__all__ = ["legacy_cancel", "legacy_status", "legacy_submit"]

_S = HTTPStatus
_TAGS = ["legacy"]


@post(
    "/api/download",
    status_code=200,
    tags=_TAGS,
    summary="Submit a download (original API)",
    responses=error_responses(*URL_CHECKS, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def legacy_submit(data: JSONBody[DownloadBody], api: Api) -> LegacyJob:
    """Alias of `POST /api/downloads` in the original tool's shape."""
    return legacy_job(await api.ag.submit(data.to_request()))


@get(
    "/api/download/{job_id:str}",
    tags=_TAGS,
    summary="Show a job (original API)",
    responses=error_responses(_S.NOT_FOUND),
)
async def legacy_status(job_id: FromPath[str], api: Api) -> LegacyJob:
    """Alias of `GET /api/jobs/{id}` in the original tool's shape."""
    return legacy_job(await api.job(job_id))


@delete(
    "/api/download/{job_id:str}",
    status_code=200,
    tags=_TAGS,
    summary="Cancel a job (original API)",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT),
)
async def legacy_cancel(job_id: FromPath[str], api: Api) -> LegacyJob:
    """Alias of `DELETE /api/jobs/{id}` in the original tool's shape."""
    await api.job(job_id)
    return legacy_job(await api.ag.cancel(job_id))
