"""Annotations on a job's transcript: REST routes and `WS /api/jobs/{id}/annotations/ws`.

The author of an annotation is the identity of the API key that wrote it; only that identity
may change or delete it (403 `not_author`). The WebSocket sends every change to the job's
annotations as JSON (`annotation.created`, `annotation.updated`, `annotation.deleted`, the
same shapes the REST routes return inside), and takes the same changes from the client as
`{"type": "create" | "update" | "delete", ...}`; a mistake gets `{"type": "error", ...}` and
the socket stays open.
"""

import contextlib
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, Response, WebSocket, delete, get, patch, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, JSONBody, QueryParameter

from audiograb.api.access import QUERY_TOKEN, identity_of
from audiograb.api.context import Api
from audiograb.api.errors import code_of, error_responses, refuse_handshake
from audiograb.domain import AudiograbError
from audiograb.pipeline.annotations import AnnotationChange, Annotations
from audiograb.store import Annotation

__all__ = [
    "AnnotationBody",
    "AnnotationPatch",
    "ThreadView",
    "annotation_socket",
    "create_annotation",
    "delete_annotation",
    "get_annotation",
    "list_annotations",
    "update_annotation",
]

_S = HTTPStatus
_log = logging.getLogger(__name__)

Seconds = Annotated[float, msgspec.Meta(ge=0)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
AnnotationId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class AnnotationBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new annotation on `[start, end]` seconds, or a reply to `parent_id` (no times)."""

    text: Text
    start: Seconds | None = None
    end: Seconds | None = None
    parent_id: AnnotationId | None = None


class AnnotationPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Changes to an annotation: any of its text and times."""

    text: Text | None = None
    start: Seconds | None = None
    end: Seconds | None = None


class ThreadView(msgspec.Struct, frozen=True, kw_only=True):
    """A top-level annotation and every reply in its thread (oldest first; see `parent_id`)."""

    annotation: Annotation
    replies: list[Annotation]


def _threads(found: list[Annotation]) -> list[ThreadView]:
    tops = [a for a in found if a.parent_id is None]
    root: dict[str, str] = {a.id: a.id for a in tops}
    replies: dict[str, list[Annotation]] = {a.id: [] for a in tops}
    for reply in (a for a in found if a.parent_id is not None):
        top = root.get(reply.parent_id or "")
        if top is not None:
            root[reply.id] = top
            replies[top].append(reply)
    return [ThreadView(annotation=top, replies=replies[top.id]) for top in tops]


@post(
    "/api/jobs/{job_id:str}/annotations",
    status_code=201,
    tags=["annotations"],
    summary="Annotate a transcript",
    responses=error_responses(_S.NOT_FOUND, _S.CONFLICT, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def create_annotation(
    job_id: FromPath[str], data: JSONBody[AnnotationBody], api: Api, request: Request[Any, Any, Any]
) -> Response[Annotation]:
    """Add a note on `[start, end]` seconds of the job's transcript, or a reply to one; the
    author is the API key's identity."""
    await api.job(job_id)
    annotation = await api.ag.annotations.create(
        job_id,
        author=identity_of(request),
        text=data.text,
        start=data.start,
        end=data.end,
        parent_id=data.parent_id,
    )
    return Response(annotation, status_code=201)


@get(
    "/api/jobs/{job_id:str}/annotations",
    tags=["annotations"],
    summary="List a transcript's annotations",
    responses=error_responses(_S.NOT_FOUND),
)
async def list_annotations(
    job_id: FromPath[str],
    api: Api,
    start: Annotated[float | None, QueryParameter(ge=0, description="From (seconds)")] = None,
    end: Annotated[float | None, QueryParameter(ge=0, description="To (seconds)")] = None,
) -> list[ThreadView]:
    """Threads whose annotation overlaps `[start, end]` (either bound optional), in
    transcript order, each with all its replies."""
    await api.job(job_id)
    return _threads(await api.ag.annotations.of_job(job_id, start=start, end=end))


@get(
    "/api/jobs/{job_id:str}/annotations/{annotation_id:str}",
    tags=["annotations"],
    summary="Show an annotation",
    responses=error_responses(_S.NOT_FOUND),
)
async def get_annotation(
    job_id: FromPath[str], annotation_id: FromPath[str], api: Api
) -> Annotation:
    """One annotation or reply."""
    await api.job(job_id)
    return await api.ag.annotations.get(job_id, annotation_id)


@patch(
    "/api/jobs/{job_id:str}/annotations/{annotation_id:str}",
    tags=["annotations"],
    summary="Change an annotation",
    responses=error_responses(_S.NOT_FOUND, _S.FORBIDDEN, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def update_annotation(
    job_id: FromPath[str],
    annotation_id: FromPath[str],
    data: JSONBody[AnnotationPatch],
    api: Api,
    request: Request[Any, Any, Any],
) -> Annotation:
    """Change the text or times; only the author may (403 `not_author`)."""
    await api.job(job_id)
    return await api.ag.annotations.update(
        job_id,
        annotation_id,
        author=identity_of(request),
        text=data.text,
        start=data.start,
        end=data.end,
    )


@delete(
    "/api/jobs/{job_id:str}/annotations/{annotation_id:str}",
    status_code=204,
    tags=["annotations"],
    summary="Delete an annotation",
    responses=error_responses(_S.NOT_FOUND, _S.FORBIDDEN),
)
async def delete_annotation(
    job_id: FromPath[str], annotation_id: FromPath[str], api: Api, request: Request[Any, Any, Any]
) -> None:
    """Delete an annotation and its replies; only the author may (403 `not_author`)."""
    await api.job(job_id)
    await api.ag.annotations.delete(job_id, annotation_id, author=identity_of(request))


# -- the WebSocket ----------------------------------------------------------------------------


class Create(AnnotationBody, frozen=True, kw_only=True, tag="create", tag_field="type"):
    """Client → server: add an annotation or reply."""


class Update(AnnotationPatch, frozen=True, kw_only=True, tag="update", tag_field="type"):
    """Client → server: change one of your annotations."""

    id: AnnotationId


class Delete(msgspec.Struct, frozen=True, kw_only=True, tag="delete", tag_field="type"):
    """Client → server: delete one of your annotations."""

    id: AnnotationId


class Error(msgspec.Struct, frozen=True, kw_only=True, tag="error", tag_field="type"):
    """Server → client: a message could not be done; the socket stays open."""

    code: str
    message: str


ClientMessage = Create | Update | Delete
_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()
_GONE = (WebSocketDisconnect, OSError)


@websocket(
    "/api/jobs/{job_id:str}/annotations/ws",
    opt={QUERY_TOKEN: True},
)
async def annotation_socket(
    socket: WebSocket[Any, Any, Any], job_id: FromPath[str], api: Api
) -> None:
    """Live changes to the job's annotations, and changes from this client (see the module)."""
    try:
        job_id = (await api.job(job_id)).id  # a short id names the job too
    except AudiograbError as unknown:
        await refuse_handshake(socket, unknown)
        return
    await socket.accept()
    author = identity_of(socket)
    lock = anyio.Lock()

    async def send(item: AnnotationChange | Error) -> None:
        async with lock:
            await socket.send_text(_encoder.encode(item).decode())

    with contextlib.suppress(*_GONE), api.ag.annotations.subscribe(job_id) as changes:
        async with anyio.create_task_group() as tasks:

            async def forward() -> None:
                async for change in changes:
                    await send(change)
                tasks.cancel_scope.cancel()  # the instance is stopping

            tasks.start_soon(forward)
            await _receive(socket, job_id, author, api.ag.annotations, send)
            tasks.cancel_scope.cancel()


async def _receive(
    socket: WebSocket[Any, Any, Any],
    job_id: str,
    author: str,
    annotations: Annotations,
    send: Callable[[AnnotationChange | Error], Awaitable[None]],
) -> None:
    """Do what the client asks until it leaves; mistakes get an `error` and are skipped."""
    while True:
        event: dict[str, Any] = dict(await socket.receive())
        if event["type"] == "websocket.disconnect":
            return
        try:
            message = _decoder.decode(event.get("text") or event.get("bytes") or b"")
            await _apply(message, job_id, author, annotations)
        except (msgspec.DecodeError, RecursionError) as error:  # the latter: nested too deep
            await send(Error(code="invalid_message", message=str(error)))
        except AudiograbError as error:
            await send(Error(code=code_of(error), message=error.message))


async def _apply(
    message: ClientMessage, job_id: str, author: str, annotations: Annotations
) -> None:
    if isinstance(message, Create):
        await annotations.create(
            job_id,
            author=author,
            text=message.text,
            start=message.start,
            end=message.end,
            parent_id=message.parent_id,
        )
    elif isinstance(message, Update):
        await annotations.update(
            job_id,
            message.id,
            author=author,
            text=message.text,
            start=message.start,
            end=message.end,
        )
    else:
        await annotations.delete(job_id, message.id, author=author)
