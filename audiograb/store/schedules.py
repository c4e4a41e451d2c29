"""Schedules: downloads to start at a time (UTC), once or again and again by a cron expression.

A schedule fires by submitting its job; `fired` advances it to its next run *inside the same
transaction* that stores the job (an append hook), so a crash can neither lose a run nor make
it twice. A time is a Unix timestamp: UTC by definition.
"""

import msgspec

from audiograb.domain.schedules import Schedule, ScheduleState
from audiograb.store.connection import Connection, Row
from audiograb.store.store import JobStore

__all__ = ["Schedule", "ScheduleState", "ScheduleStore", "fired", "schedule_in"]


_COLUMNS = "id, request, platform, state, run_at, cron, timezone, created_at, runs, last_job_id"


def _row(schedule: Schedule) -> tuple[object, ...]:
    return (
        schedule.id,
        msgspec.json.encode(schedule.request).decode(),
        schedule.platform,
        schedule.state.value,
        schedule.run_at,
        schedule.cron,
        schedule.timezone,
        schedule.created_at,
        schedule.runs,
        schedule.last_job_id,
    )


def _schedule(row: Row) -> Schedule:
    """A row as a `Schedule`, by column name (the request is stored as JSON)."""
    return msgspec.convert({**dict(row), "request": msgspec.json.decode(row["request"])}, Schedule)


async def schedule_in(conn: Connection, schedule_id: str) -> Schedule | None:
    """The schedule, read on `conn` (inside a transaction)."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,)
    ) as cur:
        row = await cur.fetchone()
    return _schedule(row) if row is not None else None


async def fired(
    conn: Connection,
    schedule_id: str,
    *,
    due_at: float,
    next_run_at: float | None,
    job_id: str,
) -> bool:
    """Advance an active schedule that was due at `due_at`; False if it had moved on already."""
    cursor = await conn.execute(
        "UPDATE schedules SET runs = runs + 1, last_job_id = ?, run_at = ?, "
        "state = CASE WHEN CAST(? AS REAL) IS NULL THEN 'done' ELSE state END "
        "WHERE id = ? AND run_at = ? AND state = 'active'",
        (job_id, next_run_at, next_run_at, schedule_id, due_at),
    )
    return cursor.rowcount > 0


class ScheduleStore:
    """Schedules in the job store's database."""

    def __init__(self, db: JobStore) -> None:
        self._db = db

    async def insert(self, schedule: Schedule) -> None:
        """Store a new schedule."""
        marks = ", ".join("?" * 10)
        await self._db.execute(
            f"INSERT INTO schedules ({_COLUMNS}) VALUES ({marks})", _row(schedule)
        )

    async def get(self, schedule_id: str) -> Schedule | None:
        """The schedule, or None."""
        rows = await self._db.read(f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,))
        return _schedule(rows[0]) if rows else None

    async def recent(
        self, *, states: tuple[ScheduleState, ...] = (), limit: int = 100, offset: int = 0
    ) -> list[Schedule]:
        """Schedules by next run (those without one last), optionally only in `states`."""
        where = f"WHERE state IN ({', '.join('?' * len(states))})" if states else ""
        rows = await self._db.read(
            f"SELECT {_COLUMNS} FROM schedules {where} "
            "ORDER BY run_at IS NULL, run_at, created_at LIMIT ? OFFSET ?",
            (*(state.value for state in states), limit, offset),
        )
        return [_schedule(row) for row in rows]

    async def due(self, now: float) -> list[Schedule]:
        """Active schedules whose time has come, earliest first."""
        rows = await self._db.read(
            f"SELECT {_COLUMNS} FROM schedules WHERE state = 'active' AND run_at <= ? "
            "ORDER BY run_at",
            (now,),
        )
        return [_schedule(row) for row in rows]

    async def next_run_at(self) -> float | None:
        """The earliest run of any active schedule."""
        rows = await self._db.read("SELECT MIN(run_at) FROM schedules WHERE state = 'active'")
        return float(rows[0][0]) if rows and rows[0][0] is not None else None

    async def move(self, schedule_id: str, run_at: float) -> bool:
        """Set an active schedule's next run; False if it is not active."""
        changed = await self._db.execute(
            "UPDATE schedules SET run_at = ? WHERE id = ? AND state = 'active'",
            (run_at, schedule_id),
        )
        return changed > 0

    async def cancel(self, schedule_id: str) -> bool:
        """Cancel an active schedule; False if it is not active."""
        changed = await self._db.execute(
            "UPDATE schedules SET state = 'cancelled', run_at = NULL "
            "WHERE id = ? AND state = 'active'",
            (schedule_id,),
        )
        return changed > 0
