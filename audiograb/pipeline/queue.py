"""The waiting room of the job queue: by priority (higher first), then arrival, per platform.

One heap per platform, so the next job that may start is found among the heads of the
platforms that have room, in O(platforms · log n), however many jobs of a full platform wait.
Removing a job (cancel) or moving it (priority change) marks its heap entry dead; dead entries
are dropped when they reach a heap's head, and a heap is rebuilt when more than half of it is
dead, so no operation is worse than O(n) and the common ones are O(log n).
"""

import heapq
import itertools
from collections.abc import Callable, Iterator

import msgspec

from audiograb.domain import Job

__all__ = ["WaitQueue", "arrival_of", "with_priority"]


def arrival_of(job: Job) -> float:
    """When the job joined the queue: first in, first out within a priority level."""
    return job.queued_at if job.queued_at is not None else job.created_at


_Entry = tuple[int, float, int, str]
"""A heap entry: (-priority, arrival, order, job id). Plain tuples compare in C."""


class WaitQueue:
    """Jobs waiting to start, in run order."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[_Entry]] = {}
        self._entries: dict[str, tuple[_Entry, Job]] = {}
        self._dead: dict[str, int] = {}
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._entries

    def get(self, job_id: str) -> Job | None:
        """The waiting job with this id."""
        found = self._entries.get(job_id)
        return found[1] if found is not None else None

    def push(self, job: Job) -> None:
        """Add a job (replacing a waiting one with the same id)."""
        self.remove(job.id)
        self._add(job, next(self._order))

    def remove(self, job_id: str) -> Job | None:
        """Take a waiting job out; None if it is not waiting."""
        found = self._entries.pop(job_id, None)
        if found is None:
            return None
        platform = found[1].platform
        self._dead[platform] = self._dead.get(platform, 0) + 1
        self._compact(platform)
        return found[1]

    def replace(self, job: Job) -> None:
        """Update a waiting job (its priority, say), keeping its place among equals."""
        found = self._entries.get(job.id)
        if found is None:
            raise KeyError(job.id)
        self.remove(job.id)
        self._add(job, found[0][2])

    def pop_next(self, has_room: Callable[[str], bool]) -> Job | None:
        """Take the first job in run order whose platform has room; None if none may start."""
        best: _Entry | None = None
        for platform, heap in self._heaps.items():
            head = self._head(platform, heap)
            if head is not None and (best is None or head < best) and has_room(platform):
                best = head
        if best is None:
            return None
        return self.remove(best[3])

    def ordered(self) -> list[Job]:
        """Every waiting job, in run order (ignoring limits)."""
        return [job for _, job in sorted(self._entries.values(), key=lambda found: found[0])]

    def __iter__(self) -> Iterator[Job]:
        return iter(self.ordered())

    def _add(self, job: Job, order: int) -> None:
        entry: _Entry = (-job.request.priority, arrival_of(job), order, job.id)
        self._entries[job.id] = (entry, job)
        heapq.heappush(self._heaps.setdefault(job.platform, []), entry)

    def _alive(self, entry: _Entry) -> bool:
        found = self._entries.get(entry[3])
        return found is not None and found[0] is entry

    def _head(self, platform: str, heap: list[_Entry]) -> _Entry | None:
        while heap and not self._alive(heap[0]):
            heapq.heappop(heap)
            self._dead[platform] -= 1
        return heap[0] if heap else None

    def _compact(self, platform: str) -> None:
        heap = self._heaps[platform]
        if self._dead[platform] * 2 > len(heap):
            live = [entry for entry in heap if self._alive(entry)]
            heapq.heapify(live)
            self._dead[platform] = 0
            if live:
                self._heaps[platform] = live
            else:
                del self._heaps[platform]


def with_priority(job: Job, priority: int) -> Job:
    """`job` asking for another priority."""
    return msgspec.structs.replace(
        job, request=msgspec.structs.replace(job.request, priority=priority)
    )
