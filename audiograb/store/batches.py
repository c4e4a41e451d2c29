"""Batches: many jobs submitted together, with counters by state kept as their jobs move.

`batch_jobs` mirrors each member job's state. `track_job` runs inside the job store's append
transaction (an append hook), so the counters change in the same commit as the job itself and
are never out of date, also across a crash.
"""

import time
from collections.abc import Iterable

import msgspec

from audiograb.domain import JobState
from audiograb.domain.batches import Batch, Rejected
from audiograb.store.connection import Connection, Row
from audiograb.store.store import JobStore

__all__ = ["Batch", "BatchStore", "Rejected", "batch_in", "track_job"]

_TERMINAL = tuple(state.value for state in JobState if state.terminal)


async def track_job(conn: Connection, batch_id: str, job_id: str, state: str) -> bool:
    """Record a member job's state; True when this change ended the batch's last open job."""
    # A no-op write that locks the batch's row (on PostgreSQL), so that members ending at once
    # on two nodes count each other: one of them sees the batch end.
    await conn.execute("UPDATE batches SET total = total WHERE id = ?", (batch_id,))
    await conn.execute(
        "INSERT INTO batch_jobs (job_id, batch_id, state) VALUES (?, ?, ?) "
        "ON CONFLICT (job_id) DO UPDATE SET state = excluded.state",
        (job_id, batch_id, state),
    )
    async with conn.execute(
        "SELECT b.total, b.completed_at, COUNT(j.job_id), "
        f"SUM(CASE WHEN j.state IN ({', '.join('?' * len(_TERMINAL))}) THEN 1 ELSE 0 END) "
        "FROM batches b LEFT JOIN batch_jobs j ON j.batch_id = b.id WHERE b.id = ? GROUP BY b.id",
        (*_TERMINAL, batch_id),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return False
    total, completed_at, members, ended = int(row[0]), row[1], int(row[2]), int(row[3] or 0)
    finished = members >= total and ended == members
    if finished and completed_at is None:
        await conn.execute(
            "UPDATE batches SET completed_at = ? WHERE id = ?", (time.time(), batch_id)
        )
        return True
    if not finished and completed_at is not None:  # a member was retried
        await conn.execute("UPDATE batches SET completed_at = NULL WHERE id = ?", (batch_id,))
    return False


class BatchStore:
    """Batches in the job store's database."""

    def __init__(self, db: JobStore) -> None:
        self._db = db

    async def create(self, batch: Batch) -> None:
        """Store a new batch (before any of its jobs, so `total` is known from the start)."""
        await self._db.execute(
            "INSERT INTO batches (id, created_at, total, webhook_url, rejected) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                batch.id,
                batch.created_at,
                batch.total,
                batch.webhook_url,
                msgspec.json.encode(batch.rejected).decode(),
            ),
        )

    async def get(self, batch_id: str) -> Batch | None:
        """The batch with its counters, or None."""
        return await self._db.transaction(lambda conn: batch_in(conn, batch_id))

    async def recent(self, *, limit: int = 50, offset: int = 0) -> list[Batch]:
        """Batches, newest first."""
        rows = await self._db.read(
            f"{_SELECT} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?", (limit, offset)
        )
        return await self._with_counts(rows)

    async def job_ids(self, batch_id: str, *, open_only: bool = False) -> list[str]:
        """Ids of the batch's jobs, optionally only those that have not ended."""
        sql = "SELECT job_id FROM batch_jobs WHERE batch_id = ?"
        params: tuple[str, ...] = (batch_id,)
        if open_only:
            sql += f" AND state NOT IN ({', '.join('?' * len(_TERMINAL))})"
            params = (batch_id, *_TERMINAL)
        return [str(row[0]) for row in await self._db.read(sql + " ORDER BY rowid", params)]

    async def mark_cancelled(self, batch_id: str) -> None:
        """Note that a user cancelled the batch."""
        await self._db.execute(
            "UPDATE batches SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL",
            (time.time(), batch_id),
        )

    async def _with_counts(self, rows: list[Row]) -> list[Batch]:
        return [_batch(row, await self._db.read(_COUNTS, (row["id"],))) for row in rows]


_SELECT = (
    "SELECT id, created_at, total, webhook_url, rejected, completed_at, cancelled_at FROM batches"
)
_COUNTS = "SELECT state, COUNT(*) FROM batch_jobs WHERE batch_id = ? GROUP BY state"


def _batch(row: Row, counts: Iterable[Row]) -> Batch:
    """A row and its counts as a `Batch`, by column name (`rejected` is stored as JSON)."""
    fields = {
        **dict(row),
        "rejected": msgspec.json.decode(row["rejected"]),
        "counts": {str(count[0]): count[1] for count in counts},
    }
    return msgspec.convert(fields, Batch)


async def batch_in(conn: Connection, batch_id: str) -> Batch | None:
    """The batch with its counters, read on `conn` (inside a transaction)."""
    async with conn.execute(f"{_SELECT} WHERE id = ?", (batch_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    async with conn.execute(_COUNTS, (batch_id,)) as cursor:
        counts = await cursor.fetchall()
    return _batch(row, counts)
