"""Server-sent event routes: one job's events, and every job's events.

`GET /api/jobs/{id}/events` sends the job's events from its log (`id:` is the per-job `seq`)
and ends after the terminal event; `GET /api/events` sends every job's events (`id:` is the
global log id) until the server stops. Both resume after the id in `Last-Event-ID` (what
`EventSource` sends on reconnect) or, for a first connection, `?after=N`: no gap and no
duplicate, since the facade replays the stored log before following live events.

Reconnecting to a finished job with nothing left to send gets 204, which stops `EventSource`
from reconnecting for ever.
"""

import re
from collections.abc import AsyncGenerator, Iterable
from http import HTTPStatus
from typing import Annotated

import msgspec
from litestar import get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, QueryParameter

from audiograb.api.access import QUERY_TOKEN
from audiograb.api.context import Api
from audiograb.api.errors import error_responses
from audiograb.api.sse import EventStreamResponse
from audiograb.domain import AudiograbError, ErrorCode

__all__ = ["all_events", "events_head", "job_events"]

_MAX_ID = 2**63 - 1
_EVENT_ID = re.compile(r"[0-9]{1,19}")


class SseEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One server-sent event as a client reads it: `data` is the event as JSON (docs/events.md),
    `id` the resume point, `event` its type; a stream's first frame sets only `retry`."""

    id: str | None = None
    event: str | None = None
    data: str | None = None
    retry: int | None = None


_STREAM = ResponseSpec(
    SseEvent,
    description="A text/event-stream of job events (see docs/api.md); 204 when nothing is left",
    media_type="text/event-stream",
    generate_examples=False,
)

LastEventId = Annotated[
    str | None,
    HeaderParameter(name="Last-Event-ID", required=False, description="Resume after this event id"),
]
After = Annotated[
    str | None,
    QueryParameter(name="after", required=False, description="Start after this event id"),
]
Token = Annotated[
    str | None,
    QueryParameter(
        name="token", required=False, description="API key, for clients without headers"
    ),
]


def _resume_point(last_event_id: str | None, after: str | None) -> int:
    """The id to resume after: `Last-Event-ID` wins over `?after=`, which a reconnect repeats."""
    raw = last_event_id if last_event_id not in (None, "") else after
    if raw in (None, ""):
        return 0
    if _EVENT_ID.fullmatch(raw) is None or int(raw) > _MAX_ID:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST, f"an event id is a non-negative integer, not {raw!r}"
        )
    return int(raw)


async def _replay(frames: Iterable[bytes]) -> AsyncGenerator[bytes, None]:
    yield b"".join(frames)  # one body chunk


@get(
    "/api/jobs/{job_id:str}/events",
    tags=["events"],
    summary="Follow one job",
    opt={QUERY_TOKEN: True},
    media_type="text/event-stream",
    responses={
        200: _STREAM,
        204: ResponseSpec(None, description="A finished job with nothing left after the id"),
        **error_responses(HTTPStatus.NOT_FOUND),
    },
)
async def job_events(
    job_id: FromPath[str],
    api: Api,
    last_event_id: LastEventId = None,
    after: After = None,
    token: Token = None,
) -> EventStreamResponse:
    """Every event of one job after the resume point, ending after its terminal event."""
    start = _resume_point(last_event_id, after)
    job = await api.job(job_id)
    if job.state.terminal:  # finite: read what is left now, so nothing left can answer 204
        async with api.ag.subscribe(job_id, after=start) as feed:
            frames = [api.frames.frame(r.id, r.event.seq, r.event) async for r in feed]
        source = _replay(frames) if frames else None
        return EventStreamResponse(source, keepalive=api.keepalive, closer=api.streams)

    async def live() -> AsyncGenerator[bytes, None]:
        async with api.ag.subscribe(job_id, after=start) as feed:
            async for recorded in feed:
                yield api.frames.frame(recorded.id, recorded.event.seq, recorded.event)

    return EventStreamResponse(live(), keepalive=api.keepalive, closer=api.streams)


class EventsHead(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/events/head`: where the global event log stands now."""

    last_event_id: int
    """The newest event's id (0 when there is none): `?after=` it to skip the history."""


@get("/api/events/head", tags=["events"], summary="Newest event id", responses=error_responses())
async def events_head(api: Api) -> EventsHead:
    """The id of the newest event, so that a client can follow `/api/events` from now on
    (`?after=ID`) instead of replaying the whole log, after reading the jobs as they are."""
    return EventsHead(last_event_id=await api.ag.last_event_id())


@get(
    "/api/events",
    tags=["events"],
    summary="Follow every job",
    opt={QUERY_TOKEN: True},
    media_type="text/event-stream",
    responses={200: _STREAM, **error_responses()},
)
async def all_events(
    api: Api,
    last_event_id: LastEventId = None,
    after: After = None,
    token: Token = None,
) -> EventStreamResponse:
    """Every job's events after the resume point (ids from the global log), until shutdown."""
    start = _resume_point(last_event_id, after)

    async def live() -> AsyncGenerator[bytes, None]:
        async with api.ag.subscribe(after=start) as feed:
            async for recorded in feed:
                yield api.frames.frame(recorded.id, recorded.id, recorded.event)

    return EventStreamResponse(live(), keepalive=api.keepalive, closer=api.streams)
