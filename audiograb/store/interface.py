"""The store interface: what the pipeline needs from a database, and nothing of how.

`JobStore` (SQLite, `store.py`) and `JobQueue` (`queue.py`) implement these protocols; a store
on another database (PostgreSQL, for several machines) implements the same ones. Everything
crossing this seam is a domain entity (`audiograb.domain`): jobs, events, leases, schedules,
batches, webhook messages. No driver type appears here, and the import contracts keep driver
modules inside `audiograb.store`.

The rules an implementation must keep (see docs/store.md and docs/pipeline.md):

- `append_event` stores an event and the job it changes in one transaction, numbers it (the
  job's next `seq`, the log's next global id), runs the append hooks inside that transaction,
  and fences it: with a lease only while the lease is the job's, without one only while no
  live lease exists.
- `claim` takes leases exclusively (no two owners ever hold one job), in run order, with the
  platform limits counted over every owner.
- `changed_elsewhere` answers whether another instance wrote since it was last asked, cheaply
  enough to be asked ten times a second.
"""

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Protocol, TypeVar

from audiograb.domain import Claimed, Held, Job, JobEvent, JobState, Lease, StoredEvent
from audiograb.store.transaction import Transaction

__all__ = ["JobLog", "QueueStore"]

T = TypeVar("T")


class JobLog(Protocol):
    """Jobs and their append-only event log, shared by every instance on one database."""

    identity: str
    """This instance's name: the owner of its leases, the writer of its events."""
    lease_seconds: float

    def add_append_hook(
        self, hook: Callable[[Transaction, StoredEvent, Job], Awaitable[None]]
    ) -> None: ...

    async def within(self, body: Callable[[Transaction], Awaitable[T]]) -> T: ...

    async def get_job(self, job_id: str) -> Job | None: ...

    async def list_jobs(
        self, *, states: Collection[JobState] | None = None, limit: int = 50, offset: int = 0
    ) -> list[Job]: ...

    async def count_jobs(self, *, states: Collection[JobState] | None = None) -> int: ...

    async def unfinished_jobs(self) -> list[Job]: ...

    async def append_event(
        self, event: JobEvent, *, job: Job | None = None, lease: Lease | None = None
    ) -> StoredEvent: ...

    async def events_after(
        self, job_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredEvent]: ...

    async def all_events_after(
        self, after_id: int = 0, limit: int | None = None
    ) -> list[StoredEvent]: ...

    async def foreign_events_after(self, after_id: int) -> tuple[int, list[StoredEvent]]: ...

    async def last_seq(self, job_id: str) -> int: ...

    async def last_event_id(self) -> int: ...

    async def changed_elsewhere(self) -> bool: ...


class QueueStore(Protocol):
    """The queue and the leases of one instance."""

    owner: str
    lease_seconds: float

    async def claim(
        self,
        *,
        count: int,
        now: float,
        platform_limits: Mapping[str, int],
        only_mine: bool = False,
    ) -> list[Claimed]: ...

    async def renew(self) -> list[Held]: ...

    async def held(self) -> list[Held]: ...

    async def release_all(self) -> int: ...

    async def request_cancel(self, job_id: str) -> Lease | None: ...

    async def adopt(self, job_id: str) -> None: ...

    async def owner_of(self, job_id: str) -> str | None: ...

    async def owners(self) -> list[str]: ...

    async def expire(self, owner: str) -> int: ...

    async def next_expiry(self) -> float | None: ...

    async def next_due(self, now: float, *, only_mine: bool = False) -> float | None: ...

    async def running(self) -> list[Job]: ...

    async def waiting(self, now: float) -> list[Job]: ...

    async def delayed(self, now: float) -> list[Job]: ...

    async def depth(self) -> int: ...
