"""Batches: many jobs submitted together, with their counters by state."""

import msgspec

from audiograb.domain.job import JobState

__all__ = ["Batch", "Rejected"]

_TERMINAL = tuple(state.value for state in JobState if state.terminal)


class Rejected(msgspec.Struct, frozen=True, kw_only=True):
    """A line of a batch that was not queued, and why."""

    line: int
    """1-based line number in the uploaded file, or position in the JSON list."""
    text: str
    code: str
    message: str


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    """A batch and its counters: how many of its jobs are in each state."""

    id: str
    created_at: float
    total: int
    webhook_url: str | None = None
    rejected: list[Rejected] = msgspec.field(default_factory=list)
    completed_at: float | None = None
    """When the last of its jobs ended (completed, failed or cancelled)."""
    cancelled_at: float | None = None
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    """Jobs by state (`queued`, `downloading`, ..., `completed`, `failed`, `cancelled`)."""

    @property
    def done(self) -> int:
        """Jobs that have ended, whichever way."""
        return sum(self.counts.get(state, 0) for state in _TERMINAL)
