"""Annotations on transcripts: notes on a time range, threaded replies, and live changes.

The author is whoever the caller says it is; the API passes the identity of the API key, so
only that key's holder may change or delete what it wrote. Every change is published on a
topic; `subscribe(job_id)` follows one job's changes (the annotations WebSocket). A slow
subscriber loses its oldest changes rather than slowing anyone (it can list again).
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager

import msgspec

from actors import Lagged, Overflow, Topic
from audiograb.domain import AudiograbError, ErrorCode, Job
from audiograb.pipeline.clock import Clock
from audiograb.pipeline.errors import NotAuthorError, NotFoundError
from audiograb.store import Annotation, AnnotationStore, JobStore

__all__ = [
    "AnnotationChange",
    "AnnotationCreated",
    "AnnotationDeleted",
    "AnnotationUpdated",
    "Annotations",
]

#: Longest annotation text, in characters.
MAX_TEXT = 5000
#: Changes buffered per subscriber before the oldest are dropped.
SUBSCRIBER_BUFFER = 256


class AnnotationCreated(msgspec.Struct, frozen=True, kw_only=True, tag="annotation.created"):
    """Someone added an annotation or a reply."""

    annotation: Annotation


class AnnotationUpdated(msgspec.Struct, frozen=True, kw_only=True, tag="annotation.updated"):
    """Its author changed an annotation's text or times."""

    annotation: Annotation


class AnnotationDeleted(msgspec.Struct, frozen=True, kw_only=True, tag="annotation.deleted"):
    """Its author deleted an annotation (and with it, its replies)."""

    id: str
    job_id: str


AnnotationChange = AnnotationCreated | AnnotationUpdated | AnnotationDeleted


def _job_of(change: AnnotationChange) -> str:
    return change.job_id if isinstance(change, AnnotationDeleted) else change.annotation.job_id


def _check_range(start: float | None, end: float | None) -> None:
    if start is None or end is None or not 0 <= start <= end:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST, "an annotation needs 0 <= start <= end (seconds)"
        )


def _check_text(text: str) -> None:
    if not text.strip() or len(text) > MAX_TEXT:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST, f"the text must have 1 to {MAX_TEXT} characters"
        )


class Annotations:
    """Create, list, show, change and delete annotations, and follow changes."""

    def __init__(
        self, store: JobStore, get_job: Callable[[str], Awaitable[Job]], clock: Clock
    ) -> None:
        self._store = AnnotationStore(store)
        self._get_job = get_job
        self._clock = clock
        self._topic: Topic[AnnotationChange] = Topic("annotations")

    async def create(
        self,
        job_id: str,
        *,
        author: str,
        text: str,
        start: float | None = None,
        end: float | None = None,
        parent_id: str | None = None,
    ) -> Annotation:
        """Annotate `[start, end]` of the job's transcript, or reply to `parent_id`."""
        job = await self._get_job(job_id)
        job_id = job.id  # a short id (a unique start of it) names the job too
        if not job.request.transcribe:
            raise AudiograbError(ErrorCode.INVALID_STATE, f"job {job_id} has no transcript")
        _check_text(text)
        if parent_id is not None:
            await self.get(job_id, parent_id)
            if start is not None or end is not None:
                raise AudiograbError(ErrorCode.INVALID_REQUEST, "a reply has no time range")
        else:
            _check_range(start, end)
        now = self._clock.now()
        annotation = Annotation(
            id=uuid.uuid4().hex,
            job_id=job_id,
            parent_id=parent_id,
            author=author,
            text=text,
            start=start,
            end=end,
            created_at=now,
            updated_at=now,
        )
        await self._store.insert(annotation)
        self._topic.publish(AnnotationCreated(annotation=annotation))
        return annotation

    async def of_job(
        self, job_id: str, *, start: float | None = None, end: float | None = None
    ) -> list[Annotation]:
        """The job's annotations overlapping `[start, end]`, then all their replies."""
        job = await self._get_job(job_id)
        return await self._store.of_job(job.id, start=start, end=end)

    async def get(self, job_id: str, annotation_id: str) -> Annotation:
        """One annotation of the job; `NotFoundError` when the job has no such annotation."""
        annotation = await self._store.get(annotation_id)
        if annotation is not None and annotation.job_id != job_id:  # perhaps a short id
            job_id = (await self._get_job(job_id)).id
        if annotation is None or annotation.job_id != job_id:
            raise NotFoundError("annotation", annotation_id)
        return annotation

    async def update(
        self,
        job_id: str,
        annotation_id: str,
        *,
        author: str,
        text: str | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> Annotation:
        """Change the text and/or times of an annotation; only its author may."""
        current = await self._own(job_id, annotation_id, author)
        if text is not None:
            _check_text(text)
        if (start is not None or end is not None) and current.parent_id is not None:
            raise AudiograbError(ErrorCode.INVALID_REQUEST, "a reply has no time range")
        changed = msgspec.structs.replace(
            current,
            text=current.text if text is None else text,
            start=current.start if start is None else start,
            end=current.end if end is None else end,
            updated_at=self._clock.now(),
        )
        if changed.parent_id is None:
            _check_range(changed.start, changed.end)
        await self._store.update(changed)
        self._topic.publish(AnnotationUpdated(annotation=changed))
        return changed

    async def delete(self, job_id: str, annotation_id: str, *, author: str) -> None:
        """Delete an annotation and its replies; only its author may."""
        await self._own(job_id, annotation_id, author)
        await self._store.delete(annotation_id)
        self._topic.publish(AnnotationDeleted(id=annotation_id, job_id=job_id))

    @contextmanager
    def subscribe(self, job_id: str) -> Iterator[AsyncIterator[AnnotationChange]]:
        """Follow the job's changes from now on, until the block ends or the instance stops."""
        with self._topic.subscribe(
            buffer=SUBSCRIBER_BUFFER, overflow=Overflow.DROP_OLDEST
        ) as subscription:

            async def changes() -> AsyncIterator[AnnotationChange]:
                async for item in subscription:
                    if not isinstance(item, Lagged) and _job_of(item) == job_id:
                        yield item

            yield changes()

    def close(self) -> None:
        """End every subscription (shutdown)."""
        self._topic.close()

    async def _own(self, job_id: str, annotation_id: str, author: str) -> Annotation:
        annotation = await self.get(job_id, annotation_id)
        if annotation.author != author:
            raise NotAuthorError(annotation_id)
        return annotation
