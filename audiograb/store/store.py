"""The job store: jobs and their append-only event log in one SQLite file (WAL mode).

One aiosqlite connection does all the work, in autocommit mode with explicit transactions.
aiosqlite runs one statement at a time, but a transaction spans several awaits, so a lock makes
each store call whole: no caller's statement can land inside another caller's transaction.
Write transactions are shielded from cancellation once they hold the lock, so a recorded state
change is never half-written and a caller cancelled mid-write still leaves a consistent file.

A write the disk has no room for raises `disk_full` and leaves the connection usable: SQLite
has already rolled such a transaction back itself, so the store does not try to again (that
second rollback, "no transaction is active", used to hide the real error from the caller).
"""

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, NamedTuple, Self, TypeVar

import aiosqlite
import anyio
import msgspec

from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    Job,
    JobEvent,
    JobState,
    decode_event,
    encode_event,
)
from audiograb.store.migrations import migrate

__all__ = ["BUSY_TIMEOUT_MS", "AppendHook", "JobStore", "StoredEvent", "open_store"]

#: How long a statement waits for another process's write lock before failing.
BUSY_TIMEOUT_MS = 5000
#: Tries, and seconds between them, to switch a database another connection is opening to WAL.
WAL_ATTEMPTS = 50
WAL_RETRY_DELAY = 0.1

T = TypeVar("T")

_TERMINAL = tuple(state.value for state in JobState if state.terminal)
_job_decoder = msgspec.json.Decoder(Job)
_encoder = msgspec.json.Encoder()


class StoredEvent(NamedTuple):
    """An event as the log holds it: `id` is its position in the log of all jobs.

    `event.seq` is its position in its own job's log. Being a tuple, it also unpacks as
    `(id, event)`.
    """

    id: int
    event: JobEvent


AppendHook = Callable[[aiosqlite.Connection, StoredEvent, Job], Awaitable[None]]
"""Runs inside `append_event`'s transaction when a job is saved with its event.

What a hook writes commits or rolls back together with the state change (the webhook outbox,
batch counters, a schedule's next run). It must use only the connection it is given.
"""


def _job_row(job: Job) -> tuple[str, str, str, float, float, str]:
    data = _encoder.encode(job).decode()
    return (job.id, job.state.value, job.platform, job.created_at, job.updated_at, data)


def _state_filter(states: Collection[JobState] | None) -> tuple[str, list[str]]:
    """A `WHERE` clause (possibly empty) and its parameters for an optional state filter."""
    if states is None:
        return "", []
    values = [JobState(state).value for state in states]
    marks = ", ".join("?" * len(values))
    return f"WHERE state IN ({marks})", values


def _event_tag(event: JobEvent) -> str:
    return str(event.__struct_config__.tag)


class JobStore:
    """Jobs and their event log. Open with `open_store` (or `await JobStore.open(path)`)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = anyio.Lock()
        self._hooks: list[AppendHook] = []

    def add_append_hook(self, hook: AppendHook) -> None:
        """Run `hook` inside every `append_event` transaction that saves a job."""
        self._hooks.append(hook)

    @classmethod
    async def open(cls, path: Path) -> Self:
        """Open (creating it and its folder if needed) and migrate the database at `path`."""
        await anyio.Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await _enable_wal(conn)
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await migrate(conn)
        except Exception:
            await conn.close()
            raise
        return cls(conn)

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        async with self._lock:
            await self._conn.close()

    # -- jobs -------------------------------------------------------------------------------

    async def insert_job(self, job: Job) -> None:
        """Store a new job; `invalid_request` if its id is taken."""
        try:
            await self._execute("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)", _job_row(job))
        except sqlite3.IntegrityError:
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST, f"job {job.id} already exists"
            ) from None

    async def save_job(self, job: Job) -> None:
        """Insert or update a job (an upsert that keeps the job's events)."""
        await self._execute(*_upsert(job))

    async def get_job(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        rows = await self._read("SELECT data FROM jobs WHERE id = ?", (job_id,))
        return _job_decoder.decode(rows[0][0]) if rows else None

    async def list_jobs(
        self, *, states: Collection[JobState] | None = None, limit: int = 50, offset: int = 0
    ) -> list[Job]:
        """Jobs newest first, optionally only those in `states`."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        where, params = _state_filter(states)
        sql = f"SELECT data FROM jobs {where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"
        rows = await self._read(sql, (*params, limit, offset))
        return [_job_decoder.decode(row[0]) for row in rows]

    async def count_jobs(self, *, states: Collection[JobState] | None = None) -> int:
        """How many jobs there are, optionally only those in `states`."""
        where, params = _state_filter(states)
        rows = await self._read(f"SELECT COUNT(*) FROM jobs {where}", params)
        return int(rows[0][0])

    async def unfinished_jobs(self) -> list[Job]:
        """Jobs not in a terminal state, oldest first: what a restart must resume."""
        marks = ", ".join("?" * len(_TERMINAL))
        sql = f"SELECT data FROM jobs WHERE state NOT IN ({marks}) ORDER BY created_at, rowid"
        return [_job_decoder.decode(row[0]) for row in await self._read(sql, _TERMINAL)]

    async def delete_job(self, job_id: str) -> bool:
        """Delete a job and its events; False if there was no such job."""
        return await self._execute("DELETE FROM jobs WHERE id = ?", (job_id,)) > 0

    # -- events -----------------------------------------------------------------------------

    async def append_event(self, event: JobEvent, *, job: Job | None = None) -> StoredEvent:
        """Append `event` to its job's log, with `job` saved in the same transaction if given.

        The event gets the next `seq` of its job (1 for the first) and the next global id;
        both are returned. `job_not_found` if the job is not stored (nor given).
        """

        async def body(conn: aiosqlite.Connection) -> StoredEvent:
            if job is not None:
                await conn.execute(*_upsert(job))
            async with conn.execute(_NEXT_SEQ, (event.job_id,)) as cursor:
                row = await cursor.fetchone()
            numbered = msgspec.structs.replace(event, seq=int(row[0]) if row else 1)
            cursor = await conn.execute(
                "INSERT INTO job_events (job_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)",
                (
                    event.job_id,
                    numbered.seq,
                    _event_tag(event),
                    event.at,
                    encode_event(numbered).decode(),
                ),
            )
            stored = StoredEvent(id=int(cursor.lastrowid or 0), event=numbered)
            if job is not None:
                for hook in self._hooks:
                    await hook(conn, stored, job)
            return stored

        try:
            return await self._transaction(body)
        except sqlite3.IntegrityError:
            raise AudiograbError(
                ErrorCode.JOB_NOT_FOUND, f"cannot log an event for unknown job {event.job_id}"
            ) from None

    async def events_after(
        self, job_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of one job with `seq > after_seq`, in order."""
        sql = "SELECT id, data FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        return _events(await self._read(sql, (job_id, after_seq, _limit(limit))))

    async def all_events_after(
        self, after_id: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of every job with a global id above `after_id`, in log order."""
        sql = "SELECT id, data FROM job_events WHERE id > ? ORDER BY id LIMIT ?"
        return _events(await self._read(sql, (after_id, _limit(limit))))

    async def last_seq(self, job_id: str) -> int:
        """The `seq` of the job's latest event, 0 if it has none."""
        rows = await self._read("SELECT MAX(seq) FROM job_events WHERE job_id = ?", (job_id,))
        return int(rows[0][0] or 0)

    # -- for the store's feature modules (batches, schedules, webhooks, annotations) ----------

    async def read(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one query."""
        return await self._read(sql, params)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one write statement, shielded; the number of rows it changed."""
        return await self._execute(sql, params)

    async def transaction(self, body: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `await body(conn)` as one shielded write transaction."""
        return await self._transaction(body)

    # -- plumbing ---------------------------------------------------------------------------

    async def _read(self, sql: str, params: Iterable[Any]) -> list[sqlite3.Row]:
        async with self._lock, self._conn.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def _execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one write statement (atomic on its own in autocommit mode); rows changed."""
        async with self._lock:
            with anyio.CancelScope(shield=True), _disk_full_as_error():
                cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def _transaction(self, body: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `await body(conn)` inside `BEGIN IMMEDIATE` … `COMMIT`, shielded, under the lock.

        On an error the transaction is rolled back, unless SQLite ended it already (it does so
        itself on a full disk), and the original error is raised.
        """
        async with self._lock:
            with anyio.CancelScope(shield=True), _disk_full_as_error():
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = await body(self._conn)
                    await self._conn.execute("COMMIT")
                except Exception:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise
        return result


@contextmanager
def _disk_full_as_error() -> Iterator[None]:
    """Turn SQLite's "database or disk is full" into `disk_full`, which the faces explain."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_FULL:
            raise
        message = f"cannot write the job database: {error}"
        raise AudiograbError(ErrorCode.DISK_FULL, message) from error


_NEXT_SEQ = "SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = ?"


def _upsert(job: Job) -> tuple[str, tuple[str, str, str, float, float, str]]:
    # Not INSERT OR REPLACE: that deletes the old row first, and with it (cascade) the events.
    sql = (
        "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "state = excluded.state, platform = excluded.platform, "
        "created_at = excluded.created_at, updated_at = excluded.updated_at, "
        "data = excluded.data"
    )
    return sql, _job_row(job)


def _limit(limit: int | None) -> int:
    """SQLite's LIMIT: -1 means none."""
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    return -1 if limit is None else limit


def _events(rows: list[sqlite3.Row]) -> list[StoredEvent]:
    return [StoredEvent(id=int(row[0]), event=decode_event(row[1])) for row in rows]


async def _enable_wal(conn: aiosqlite.Connection) -> None:
    """Switch to write-ahead logging, waiting out other connections that open the file too.

    Switching needs a moment of exclusive access, and SQLite answers "database is locked" at
    once (its busy timeout does not cover this) while another connection is doing the same.
    """
    for _ in range(WAL_ATTEMPTS - 1):
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            await anyio.sleep(WAL_RETRY_DELAY)
        else:
            return
    await conn.execute("PRAGMA journal_mode = WAL")


@asynccontextmanager
async def open_store(path: Path) -> AsyncIterator[JobStore]:
    """Open the store at `path` for the duration of the block, closing it afterwards."""
    store = await JobStore.open(path)
    try:
        yield store
    finally:
        with anyio.CancelScope(shield=True):
            await store.close()
