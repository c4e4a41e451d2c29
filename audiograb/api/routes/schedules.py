"""Scheduled downloads: plan one for an ISO 8601 time (or by cron), list, move and cancel."""

import datetime as dt
from http import HTTPStatus
from typing import Annotated

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from audiograb.api.context import Api
from audiograb.api.errors import URL_CHECKS, error_responses
from audiograb.api.paging import Offset
from audiograb.api.schemas import DownloadBody
from audiograb.store import Schedule, ScheduleState

__all__ = [
    "MoveBody",
    "ScheduleBody",
    "ScheduleView",
    "cancel_schedule",
    "create_schedule",
    "get_schedule",
    "list_schedules",
    "move_schedule",
]

_S = HTTPStatus
IsoTime = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description="ISO 8601 with a time zone, e.g. 2030-01-31T09:30:00+08:00 or …Z",
    ),
]


class ScheduleBody(DownloadBody, frozen=True, kw_only=True):
    """`POST /api/schedules`: a download as in `POST /api/downloads`, and when to start it."""

    at: IsoTime | None = None
    """The (first) run; must name its time zone."""
    cron: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    """Five-field cron expression for a recurring download (`0 6 * * mon-fri`)."""
    timezone: Annotated[str, msgspec.Meta(max_length=64)] = "UTC"
    """IANA time zone the cron expression is read in."""


class MoveBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`PATCH /api/schedules/{id}`: the new (next) run."""

    at: IsoTime


class ScheduleView(msgspec.Struct, frozen=True, kw_only=True):
    """A schedule as clients see it."""

    id: str
    state: ScheduleState
    request: DownloadBody
    platform: str
    run_at: float | None
    """The next run, Unix time; null once none is left."""
    run_at_utc: str | None
    """The same, ISO 8601 in UTC."""
    cron: str | None
    timezone: str
    runs: int
    last_job_id: str | None
    created_at: float


def schedule_view(schedule: Schedule) -> ScheduleView:
    """The client's view of a schedule."""
    request = schedule.request
    when = schedule.run_at
    return ScheduleView(
        id=schedule.id,
        state=schedule.state,
        request=DownloadBody.of(request),
        platform=schedule.platform,
        run_at=when,
        run_at_utc=None if when is None else dt.datetime.fromtimestamp(when, dt.UTC).isoformat(),
        cron=schedule.cron,
        timezone=schedule.timezone,
        runs=schedule.runs,
        last_job_id=schedule.last_job_id,
        created_at=schedule.created_at,
    )


@post(
    "/api/schedules",
    status_code=201,
    tags=["schedules"],
    summary="Schedule a download",
    responses=error_responses(*URL_CHECKS, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def create_schedule(data: JSONBody[ScheduleBody], api: Api) -> Response[ScheduleView]:
    """Start a download at `at` (ISO 8601 with a time zone; stored in UTC), and/or by `cron`.

    It never starts early, also across restarts. A time in the past starts it at once.
    """
    schedule = await api.ag.schedules.create(
        data.to_request(), at=data.at, cron=data.cron, timezone=data.timezone
    )
    return Response(
        schedule_view(schedule),
        status_code=201,
        headers={"Location": f"/api/schedules/{schedule.id}"},
    )


@get("/api/schedules", tags=["schedules"], summary="List schedules", responses=error_responses())
async def list_schedules(
    api: Api,
    states: Annotated[
        list[ScheduleState] | None, QueryParameter(name="state", description="Repeatable")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[ScheduleView]:
    """Schedules by next run, optionally only in some states."""
    found = await api.ag.schedules.recent(states=tuple(states or ()), limit=limit, offset=offset)
    return [schedule_view(schedule) for schedule in found]


@get(
    "/api/schedules/{schedule_id:str}",
    tags=["schedules"],
    summary="Show a schedule",
    responses=error_responses(_S.NOT_FOUND),
)
async def get_schedule(schedule_id: FromPath[str], api: Api) -> ScheduleView:
    """One schedule."""
    return schedule_view(await api.ag.schedules.get(schedule_id))


@patch(
    "/api/schedules/{schedule_id:str}",
    tags=["schedules"],
    summary="Move a schedule",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def move_schedule(
    schedule_id: FromPath[str], data: JSONBody[MoveBody], api: Api
) -> ScheduleView:
    """Set an active schedule's next run; 409 once it is done or cancelled."""
    return schedule_view(await api.ag.schedules.move(schedule_id, data.at))


@delete(
    "/api/schedules/{schedule_id:str}",
    status_code=200,
    tags=["schedules"],
    summary="Cancel a schedule",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT),
)
async def cancel_schedule(schedule_id: FromPath[str], api: Api) -> ScheduleView:
    """Cancel an active schedule (jobs it already started are not touched)."""
    return schedule_view(await api.ag.schedules.cancel(schedule_id))
