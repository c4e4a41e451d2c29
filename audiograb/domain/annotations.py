"""Annotations: notes and threaded replies on a transcript."""

import msgspec

__all__ = ["Annotation"]


class Annotation(msgspec.Struct, frozen=True, kw_only=True):
    """One note on a transcript, or a reply to one."""

    id: str
    job_id: str
    author: str
    text: str
    start: float | None = None
    """Seconds into the transcript; None for a reply."""
    end: float | None = None
    parent_id: str | None = None
    created_at: float
    updated_at: float
