"""Transcripts are rebuilt from the job's event log: its segment events are the checkpoint."""

from collections.abc import Iterable

from audiograb.domain import Job, Segment, Transcript, TranscriptSegmentAdded
from audiograb.store import StoredEvent


def segments_of(log: Iterable[StoredEvent], attempt: int) -> list[Segment]:
    """The segments stored for `attempt` of a job, in order, each index once."""
    by_index: dict[int, Segment] = {}
    for _, event in log:
        if isinstance(event, TranscriptSegmentAdded) and event.attempt == attempt:
            by_index[event.segment.index] = event.segment
    return [by_index[index] for index in sorted(by_index)]


def transcript_of(job: Job, log: Iterable[StoredEvent]) -> Transcript:
    """The job's transcript so far (complete once the job has completed)."""
    return Transcript(
        language=job.transcript_language or job.request.transcription.language,
        duration=job.media.duration if job.media else None,
        segments=tuple(segments_of(log, job.attempts)),
        model=job.transcript_model or job.request.transcription.model,
        language_probability=job.transcript_language_probability,
    )
