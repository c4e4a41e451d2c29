"""`Transaction`: what code above the store may do inside one of the store's transactions.

Append hooks (the webhook outbox, batch counters, a fired schedule) must write together with a
job's state change. They get this handle, not the database connection: the operations it
offers are the store's, whichever database implements them, and no driver type leaks above
`audiograb.store`.
"""

from audiograb.store.batches import Batch, batch_in, track_job
from audiograb.store.connection import Connection
from audiograb.store.schedules import Schedule, fired, schedule_in
from audiograb.store.webhooks import Endpoint, add_message, endpoint_in

__all__ = ["Transaction"]


class Transaction:
    """Store operations inside a write transaction that is already open."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def endpoint(self, url: str, now: float) -> Endpoint:
        """The webhook endpoint for `url`, made (with a fresh secret) if it is new."""
        return await endpoint_in(self._conn, url, now)

    async def add_message(
        self,
        *,
        endpoint_id: str,
        type: str,
        body: str,
        now: float,
        job_id: str | None = None,
        batch_id: str | None = None,
    ) -> str:
        """Queue a webhook message for delivery now; its id."""
        return await add_message(
            self._conn,
            endpoint_id=endpoint_id,
            type=type,
            body=body,
            now=now,
            job_id=job_id,
            batch_id=batch_id,
        )

    async def track_batch_job(self, batch_id: str, job_id: str, state: str) -> bool:
        """Record a batch member's state; True when this change ended the batch."""
        return await track_job(self._conn, batch_id, job_id, state)

    async def batch(self, batch_id: str) -> Batch | None:
        """The batch with its counters."""
        return await batch_in(self._conn, batch_id)

    async def schedule(self, schedule_id: str) -> Schedule | None:
        """The schedule."""
        return await schedule_in(self._conn, schedule_id)

    async def fire_schedule(
        self, schedule_id: str, *, due_at: float, next_run_at: float | None, job_id: str
    ) -> bool:
        """Advance an active schedule due at `due_at`; False if it had moved on already."""
        return await fired(
            self._conn, schedule_id, due_at=due_at, next_run_at=next_run_at, job_id=job_id
        )
