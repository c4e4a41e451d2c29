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

import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self, TypeVar

import aiosqlite
import anyio
import msgspec

from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    Job,
    JobEvent,
    JobState,
    Lease,
    LeaseLost,
    decode_event,
    encode_event,
)
from audiograb.domain.events import StoredEvent
from audiograb.store.connection import Connection, Row
from audiograb.store.migrations import migrate

__all__ = [
    "BUSY_TIMEOUT_MS",
    "AppendHook",
    "Dialect",
    "JobStore",
    "StoredEvent",
    "instance_identity",
]

#: How long a statement waits for another process's write lock before failing.
BUSY_TIMEOUT_MS = 5000
#: Tries, and seconds between them, to switch a database another connection is opening to WAL.
WAL_ATTEMPTS = 50
WAL_RETRY_DELAY = 0.1
#: Seconds a job's lease lasts unless renewed (the `lease_seconds` setting's default).
LEASE_SECONDS = 30.0

T = TypeVar("T")

_TERMINAL = tuple(state.value for state in JobState if state.terminal)
_job_decoder = msgspec.json.Decoder(Job)
_encoder = msgspec.json.Encoder()


AppendHook = Callable[["Transaction", StoredEvent, Job], Awaitable[None]]
"""Runs inside `append_event`'s transaction when a job is saved with its event.

What a hook writes commits or rolls back together with the state change (the webhook outbox,
batch counters, a schedule's next run). It must write only through the `Transaction` given.
"""


_JOB_COLUMNS = "id, state, platform, created_at, updated_at, data, priority, arrival, not_before"
_INSERT_JOB = f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_JobRow = tuple[str, str, str, float, float, str, int, float, float | None]


def _job_row(job: Job) -> _JobRow:
    """The job's row: its JSON, and copies of what the queue filters and sorts on."""
    data = _encoder.encode(job).decode()
    arrival = job.queued_at if job.queued_at is not None else job.created_at
    return (
        job.id,
        job.state.value,
        job.platform,
        job.created_at,
        job.updated_at,
        data,
        job.request.priority,
        arrival,
        job.retry_at,
    )


def instance_identity() -> str:
    """A name for one opened store, unique across processes and machines: host, pid, nonce.

    It is the owner named in the leases this instance holds and the writer of its events.
    """
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Holder(msgspec.Struct, frozen=True):
    """Who holds a job's lease, as the jobs table says, and whether it is live now."""

    owner: str | None
    lease_attempt: int
    live: bool


class Dialect(msgspec.Struct, frozen=True):
    """What the SQL of one database says differently from the shared dialect."""

    begin: str = "BEGIN IMMEDIATE"
    """Starts a write transaction (SQLite's takes the write lock at once)."""
    lock_row: str = ""
    """Appended to a SELECT of the rows a transaction will change (PostgreSQL locks them)."""
    skip_locked: str = ""
    """Appended to a claim's SELECT: rows another transaction is claiming are passed over."""
    waiting_index: str = "INDEXED BY jobs_waiting"
    """After `FROM jobs` when reading the waiting jobs in run order."""
    no_limit: int | None = -1
    """The LIMIT that means none."""


def _state_filter(states: Collection[JobState] | None) -> tuple[str, list[str]]:
    """A `WHERE` clause (possibly empty) and its parameters for an optional state filter."""
    if states is None:
        return "", []
    values = [JobState(state).value for state in states]
    if not values:
        return "WHERE 1 = 0", []
    marks = ", ".join("?" * len(values))
    return f"WHERE state IN ({marks})", values


def _event_tag(event: JobEvent) -> str:
    return str(event.__struct_config__.tag)


class JobStore:
    """Jobs and their event log. Open with `open_store` (or `await JobStore.open(path)`).

    This class is the SQLite store; `PgJobStore` (postgres.py) runs the same SQL on PostgreSQL,
    overriding the plumbing (connection, transactions, change notices) and the `dialect`.
    """

    dialect = Dialect()
    #: What the driver raises for a broken key or constraint.
    integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)

    def __init__(
        self,
        conn: Connection,
        *,
        identity: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._conn = conn
        self.lease_seconds = lease_seconds
        """How long a lease lasts unless its owner renews it."""
        self._lock = anyio.Lock()
        self._hooks: list[AppendHook] = []
        self._data_version: int | None = None
        self.identity = identity or instance_identity()
        """This instance's name: the owner of its leases and the writer of its events."""

    def add_append_hook(self, hook: AppendHook) -> None:
        """Run `hook` inside every `append_event` transaction that saves a job."""
        self._hooks.append(hook)

    @classmethod
    async def open(cls, path: Path, *, lease_seconds: float = LEASE_SECONDS) -> Self:
        """Open (creating it and its folder if needed) and migrate the database at `path`."""
        await anyio.Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            await conn.create_function("wall_clock", 0, time.time)
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await _enable_wal(conn)
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await migrate(conn)
        except Exception:
            await conn.close()
            raise
        return cls(conn, lease_seconds=lease_seconds)

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        async with self._lock:
            await self._conn.close()

    # -- jobs -------------------------------------------------------------------------------

    async def insert_job(self, job: Job) -> None:
        """Store a new job; `invalid_request` if its id is taken."""
        try:
            await self._execute(_INSERT_JOB, _job_row(job))
        except self.integrity_errors:
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

    async def job_ids_starting_with(self, prefix: str, *, limit: int = 2) -> list[str]:
        """Up to `limit` ids of jobs whose id starts with `prefix` (hex digits only), sorted."""
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            return []
        sql = "SELECT id FROM jobs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT ?"
        return [row[0] for row in await self._read(sql, (len(prefix), prefix, limit))]

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

    async def append_event(
        self, event: JobEvent, *, job: Job | None = None, lease: Lease | None = None
    ) -> StoredEvent:
        """Append `event` to its job's log, with `job` saved in the same transaction if given.

        The event gets the next `seq` of its job (1 for the first) and the next global id;
        both are returned. `job_not_found` if the job is not stored (nor given).

        Fenced: with `lease`, the write happens only while that lease is the job's, else
        `LeaseLost`. Without one, a state change (`job` given) of a job whose lease is live
        is refused with `job_running`; a lapsed lease is revoked by it. A job saved as queued
        or ended releases its owner's lease in the same transaction. A new job records this
        instance as its origin, and with `lease` is stored owned by it.
        """
        try:
            return await self._transaction(lambda conn: self.append_within(conn, event, job, lease))
        except self.integrity_errors:
            raise AudiograbError(
                ErrorCode.JOB_NOT_FOUND, f"cannot log an event for unknown job {event.job_id}"
            ) from None

    async def append_within(
        self,
        conn: Connection,
        event: JobEvent,
        job: Job | None = None,
        lease: Lease | None = None,
    ) -> StoredEvent:
        """`append_event` inside a transaction the caller holds on `conn`."""
        holder = await self._holder(conn, event.job_id)
        if lease is not None and not (holder is None and job is not None):
            if holder is None or (holder.owner, holder.lease_attempt) != (
                lease.owner,
                lease.attempt,
            ):
                raise LeaseLost(lease)
        elif job is not None and holder is not None and holder.owner is not None:
            if holder.live:
                raise AudiograbError(
                    ErrorCode.JOB_RUNNING, f"job {job.id} is running in {holder.owner}"
                )
            await conn.execute(_RELEASE + " WHERE id = ?", (job.id,))
        if job is not None:
            await conn.execute(*_upsert(job))
            if holder is None:  # a new job: its origin is this instance, which may own it
                await conn.execute(
                    "UPDATE jobs SET origin = ?, owner = ?, lease_until = wall_clock() + ?, "
                    "lease_attempt = ? WHERE id = ?",
                    (
                        self.identity,
                        lease.owner if lease else None,
                        self.lease_seconds if lease else None,
                        lease.attempt if lease else 0,
                        job.id,
                    ),
                )
            elif lease is not None and (job.state.terminal or job.state is JobState.QUEUED):
                await conn.execute(_RELEASE + " WHERE id = ?", (job.id,))
        async with conn.execute(_NEXT_SEQ, (event.job_id,)) as cursor:
            row = await cursor.fetchone()
        numbered = msgspec.structs.replace(event, seq=int(row[0]) if row else 1)
        await self._order_events(conn)
        async with conn.execute(
            "INSERT INTO job_events (job_id, seq, type, at, data, writer) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                event.job_id,
                numbered.seq,
                _event_tag(event),
                event.at,
                encode_event(numbered).decode(),
                self.identity,
            ),
        ) as cursor:
            inserted = await cursor.fetchone()
        stored = StoredEvent(id=int(inserted[0]), event=numbered)
        if job is not None:
            for hook in self._hooks:
                await hook(Transaction(conn), stored, job)
        return stored

    async def events_after(
        self, job_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of one job with `seq > after_seq`, in order."""
        sql = "SELECT id, data FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        return _events(await self._read(sql, (job_id, after_seq, self._limit(limit))))

    async def all_events_after(
        self, after_id: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of every job with a global id above `after_id`, in log order."""
        sql = "SELECT id, data FROM job_events WHERE id > ? ORDER BY id LIMIT ?"
        return _events(await self._read(sql, (after_id, self._limit(limit))))

    async def foreign_events_after(self, after_id: int) -> tuple[int, list[StoredEvent]]:
        """Events with a global id above `after_id` that other instances wrote, in log order,
        and the id of the newest event read (the cursor for the next call)."""
        sql = (
            "SELECT id, CASE WHEN writer != ? THEN data END AS data FROM job_events "
            "WHERE id > ? ORDER BY id"
        )
        rows = await self._read(sql, (self.identity, after_id))
        cursor = int(rows[-1][0]) if rows else after_id
        return cursor, _events([row for row in rows if row[1] is not None])

    async def last_event_id(self) -> int:
        """The global id of the newest event, 0 if none."""
        rows = await self._read("SELECT MAX(id) FROM job_events", ())
        return int(rows[0][0] or 0)

    async def changed_elsewhere(self) -> bool:
        """Whether another connection committed a change since the last call (`PRAGMA
        data_version`: a counter SQLite keeps per connection, moved only by other writers)."""
        rows = await self._read("PRAGMA data_version", ())
        version = int(rows[0][0])
        changed = self._data_version is not None and version != self._data_version
        self._data_version = version
        return changed

    async def last_seq(self, job_id: str) -> int:
        """The `seq` of the job's latest event, 0 if it has none."""
        rows = await self._read("SELECT MAX(seq) FROM job_events WHERE job_id = ?", (job_id,))
        return int(rows[0][0] or 0)

    # -- for the store's feature modules (batches, schedules, webhooks, annotations) ----------

    async def read(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> list[Row]:
        """Rows of one query."""
        return await self._read(sql, params)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one write statement, shielded; the number of rows it changed."""
        return await self._execute(sql, params)

    async def transaction(self, body: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `await body(conn)` as one shielded write transaction (for the store's own
        modules: code above the store uses `within`)."""
        return await self._transaction(body)

    async def within(self, body: Callable[["Transaction"], Awaitable[T]]) -> T:
        """Run `await body(transaction)` as one shielded write transaction."""
        return await self._transaction(lambda conn: body(Transaction(conn)))

    # -- plumbing ---------------------------------------------------------------------------

    async def serialise_claims(self, conn: Connection) -> None:
        """Make claims take turns across instances (SQLite's `BEGIN IMMEDIATE` already does)."""

    async def _order_events(self, conn: Connection) -> None:
        """Make event ids follow commit order (SQLite's one writer at a time already does)."""

    async def _holder(self, conn: Connection, job_id: str) -> _Holder | None:
        """Who holds the job's lease, read (and on PostgreSQL locked) for a write."""
        async with conn.execute(
            "SELECT owner, lease_attempt, "
            "CASE WHEN owner IS NOT NULL AND lease_until >= wall_clock() THEN 1 ELSE 0 END AS live "
            f"FROM jobs WHERE id = ? {self.dialect.lock_row}",
            (job_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return msgspec.convert(dict(row), _Holder, strict=False) if row is not None else None

    def _limit(self, limit: int | None) -> int | None:
        """The LIMIT parameter for `limit` rows (None: all)."""
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        return self.dialect.no_limit if limit is None else limit

    async def _read(self, sql: str, params: Iterable[Any] | Mapping[str, Any]) -> list[Row]:
        bound = params if isinstance(params, Mapping) else tuple(params)
        async with self._lock, self._conn.execute(sql, bound) as cursor:
            return list(await cursor.fetchall())

    async def _execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one write statement (atomic on its own in autocommit mode); rows changed."""
        async with self._lock:
            with anyio.CancelScope(shield=True), _disk_full_as_error():
                cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def _transaction(self, body: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `await body(conn)` inside `BEGIN IMMEDIATE` … `COMMIT`, shielded, under the lock.

        On an error the transaction is rolled back, unless the database ended it already
        (SQLite does so itself on a full disk), and the original error is raised.
        """
        async with self._lock:
            with anyio.CancelScope(shield=True), _disk_full_as_error():
                await self._conn.execute(self.dialect.begin)
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
#: Gives up a job's lease; the attempt goes up, so the old lease can write nothing more.
_RELEASE = (
    "UPDATE jobs SET owner = NULL, lease_until = NULL, lease_attempt = lease_attempt + 1, "
    "cancel_requested = 0"
)


def _upsert(job: Job) -> tuple[str, _JobRow]:
    # Not INSERT OR REPLACE: that deletes the old row first, and with it (cascade) the events.
    # The lease columns are left alone: only claims and releases move them.
    sql = (
        f"{_INSERT_JOB} ON CONFLICT (id) DO UPDATE SET "
        "state = excluded.state, platform = excluded.platform, "
        "created_at = excluded.created_at, updated_at = excluded.updated_at, "
        "data = excluded.data, priority = excluded.priority, arrival = excluded.arrival, "
        "not_before = excluded.not_before"
    )
    return sql, _job_row(job)


def _events(rows: list[Row]) -> list[StoredEvent]:
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


from audiograb.store.transaction import Transaction  # noqa: E402  (it builds on JobStore)
