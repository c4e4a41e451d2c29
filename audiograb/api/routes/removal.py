"""`POST /api/jobs/{id}/remove`: forget an ended job and its file (the web app's "Remove")."""

from http import HTTPStatus

from litestar import post
from litestar.params import FromPath

from audiograb.api.context import Api
from audiograb.api.errors import error_responses

__all__ = ["remove_job"]


@post(
    "/api/jobs/{job_id:str}/remove",
    status_code=204,
    tags=["jobs"],
    summary="Remove an ended job",
    responses=error_responses(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT),
)
async def remove_job(job_id: FromPath[str], api: Api) -> None:
    """Delete a completed, failed or cancelled job: its record, events and annotations, and
    its file in the output folder. 409 `invalid_state` while it is queued or running (cancel it
    first). Other clients are not told: the job simply is no longer listed."""
    await api.ag.delete(job_id)
