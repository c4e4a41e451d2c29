"""Batches: many URLs at once, from a JSON list or an uploaded text file; status and cancel."""

from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from audiograb.api.context import Api
from audiograb.api.errors import URL_CHECKS, error_responses
from audiograb.api.forms import form_options, read_form, uploaded_file
from audiograb.api.openapi import documented, upload_body
from audiograb.api.paging import Offset
from audiograb.api.schemas import Priority, WebhookUrl
from audiograb.domain import (
    DEFAULT_PRIORITY,
    AudioFormat,
    AudiograbError,
    ErrorCode,
    JobRequest,
    MediaKind,
    Quality,
)
from audiograb.pipeline.batches import MAX_BATCH, BatchResult, parse_lines
from audiograb.store import Batch, Rejected

__all__ = [
    "BatchBody",
    "BatchOptions",
    "BatchView",
    "cancel_batch",
    "get_batch",
    "list_batches",
    "submit_batch",
    "upload_batch",
]

_S = HTTPStatus
#: Largest uploaded URL list, in bytes.
MAX_LIST_BYTES = 1_048_576


class BatchOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What every job of a batch is asked to make."""

    format: AudioFormat = AudioFormat.M4A
    quality: Quality = Quality.HIGH
    media: MediaKind = MediaKind.AUDIO
    transcribe: bool = False
    priority: Priority = DEFAULT_PRIORITY
    webhook_url: WebhookUrl | None = None
    """Gets every job's webhooks and `batch.completed` (besides the default URL)."""

    def template(self) -> JobRequest:
        """The request each URL is filled into."""
        return JobRequest(
            url="",
            format=self.format,
            quality=self.quality,
            media=self.media,
            transcribe=self.transcribe,
            priority=self.priority,
        )


class BatchBody(BatchOptions, frozen=True, kw_only=True):
    """`POST /api/batches`: a JSON list of URLs and what to make of each."""

    urls: Annotated[
        list[str],
        msgspec.Meta(
            min_length=1,
            description=f"At most {MAX_BATCH} URLs; more are 413 `too_large`, as in an upload",
        ),
    ]


class BatchView(msgspec.Struct, frozen=True, kw_only=True):
    """A batch, its counters and its jobs."""

    id: str
    created_at: float
    total: int
    """Jobs queued (rejected lines not counted)."""
    done: int
    """Jobs that have ended, whichever way."""
    counts: dict[str, int]
    """Jobs by state."""
    completed_at: float | None
    cancelled_at: float | None
    rejected: list[Rejected]
    """Lines (or list positions, from 1) that were not queued, and why."""
    webhook_url: str | None
    job_ids: list[str]


def batch_view(batch: Batch, job_ids: list[str]) -> BatchView:
    """The client's view of a batch."""
    return BatchView(
        id=batch.id,
        created_at=batch.created_at,
        total=batch.total,
        done=batch.done,
        counts=batch.counts,
        completed_at=batch.completed_at,
        cancelled_at=batch.cancelled_at,
        rejected=batch.rejected,
        webhook_url=batch.webhook_url,
        job_ids=job_ids,
    )


def _created(result: BatchResult) -> Response[BatchView]:
    view = batch_view(result.batch, [job.id for job in result.jobs])
    return Response(view, status_code=201, headers={"Location": f"/api/batches/{view.id}"})


@post(
    "/api/batches",
    status_code=201,
    tags=["batches"],
    summary="Submit a batch of URLs",
    responses=error_responses(*URL_CHECKS, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def submit_batch(data: JSONBody[BatchBody], api: Api) -> Response[BatchView]:
    """Queue one job per URL; URLs that cannot be queued come back in `rejected` with their
    position (from 1). 400 when none can."""
    entries = list(enumerate(data.urls, start=1))
    result = await api.ag.batches.submit(entries, data.template(), webhook_url=data.webhook_url)
    return _created(result)


@post(
    "/api/batches/upload",
    status_code=201,
    tags=["batches"],
    summary="Submit a batch as a text file",
    responses=error_responses(*URL_CHECKS, _S.REQUEST_ENTITY_TOO_LARGE),
    request_max_body_size=MAX_LIST_BYTES + 65_536,
    operation_class=documented(
        body=upload_body(
            BatchOptions, "The URL list: one URL a line; blank lines and `#` comments are skipped"
        )
    ),
)
async def upload_batch(request: Request[Any, Any, Any], api: Api) -> Response[BatchView]:
    """`multipart/form-data` with a `file` field: one URL a line, blank lines and lines that
    start with `#` ignored; the other fields as in `POST /api/batches`. Invalid lines come back
    in `rejected` with their line number."""
    form = await read_form(request)
    upload = uploaded_file(form, "the URL list")
    try:
        raw = await upload.read(MAX_LIST_BYTES + 1)
    finally:
        await upload.close()
    if len(raw) > MAX_LIST_BYTES:
        raise AudiograbError(
            ErrorCode.TOO_LARGE, f"URL lists are limited to {MAX_LIST_BYTES} bytes"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AudiograbError(ErrorCode.INVALID_REQUEST, "the URL list is not UTF-8 text") from None
    options = form_options(form, BatchOptions)
    result = await api.ag.batches.submit(
        parse_lines(text), options.template(), webhook_url=options.webhook_url
    )
    return _created(result)


@get("/api/batches", tags=["batches"], summary="List batches", responses=error_responses())
async def list_batches(
    api: Api,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[BatchView]:
    """Batches, newest first, with their counters."""
    batches = await api.ag.batches.recent(limit=limit, offset=offset)
    return [batch_view(batch, await api.ag.batches.job_ids(batch.id)) for batch in batches]


@get(
    "/api/batches/{batch_id:str}",
    tags=["batches"],
    summary="Show a batch",
    responses=error_responses(_S.NOT_FOUND),
)
async def get_batch(batch_id: FromPath[str], api: Api) -> BatchView:
    """A batch with its counters, kept current as its jobs move."""
    return batch_view(await api.ag.batches.get(batch_id), await api.ag.batches.job_ids(batch_id))


@delete(
    "/api/batches/{batch_id:str}",
    status_code=200,
    tags=["batches"],
    summary="Cancel a batch",
    responses=error_responses(_S.NOT_FOUND),
)
async def cancel_batch(batch_id: FromPath[str], api: Api) -> BatchView:
    """Cancel every job of the batch that has not ended, waiting or running."""
    batch = await api.ag.batches.cancel(batch_id)
    return batch_view(batch, await api.ag.batches.job_ids(batch_id))
