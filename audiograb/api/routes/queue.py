"""The queue: what runs and what waits, in order, and priority changes on waiting jobs."""

from http import HTTPStatus

import msgspec
from litestar import get, patch
from litestar.params import FromPath, JSONBody

from audiograb.api.context import Api
from audiograb.api.errors import error_responses
from audiograb.api.schemas import JobView, Priority, job_view

__all__ = ["PriorityBody", "QueueView", "change_priority", "show_queue"]

_S = HTTPStatus


class QueueView(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/queue`: the running jobs, then the waiting ones in the order they will run."""

    running: list[JobView]
    waiting: list[JobView]
    """By priority (higher first), then arrival; a job whose platform is at its limit waits
    while later jobs of other platforms start."""
    delayed: list[JobView]
    """Waiting for an automatic retry, soonest first (`retry_at`)."""
    limit: int
    """Jobs that run at once."""
    platform_limits: dict[str, int]
    """Jobs of one platform that run at once (platforms not named: only `limit`)."""


class PriorityBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`PATCH /api/queue/{job_id}`: the waiting job's new priority."""

    priority: Priority


@get("/api/queue", tags=["queue"], summary="Show the queue", responses=error_responses())
async def show_queue(api: Api) -> QueueView:
    """Running and waiting jobs, in order; with the concurrency limits that apply."""
    queue = await api.ag.queue()
    return QueueView(
        running=[job_view(job) for job in queue.running],
        waiting=[job_view(job) for job in queue.waiting],
        delayed=[job_view(job) for job in queue.delayed],
        limit=queue.limit,
        platform_limits=queue.platform_limits,
    )


@patch(
    "/api/queue/{job_id:str}",
    tags=["queue"],
    summary="Change a waiting job's priority",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def change_priority(job_id: FromPath[str], data: JSONBody[PriorityBody], api: Api) -> JobView:
    """Move a waiting job up or down (it keeps its arrival order among equals); 409 once it runs
    or has ended."""
    await api.job(job_id)
    return job_view(await api.ag.set_priority(job_id, data.priority))
