"""Schema migrations: an ordered list of SQL scripts, the version kept in `PRAGMA user_version`.

Migration N (1-based) takes the database from version N-1 to N. Each runs in its own
`BEGIN IMMEDIATE` transaction that re-reads the version first, so applying them is idempotent
and safe when two processes open the same file at once. Never edit a released script: append a
new one. A database whose version is above the newest script was written by a newer AudioGrab
and is refused rather than misread.
"""

import sqlite3
from collections.abc import Iterator

import aiosqlite

from audiograb.domain import AudiograbError, ErrorCode

__all__ = ["MIGRATIONS", "SchemaVersionError", "migrate", "schema_version"]

MIGRATIONS: tuple[str, ...] = (
    # 1: jobs, and their append-only event log.
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        platform TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX jobs_state_created ON jobs (state, created_at);
    CREATE INDEX jobs_created ON jobs (created_at);
    CREATE TABLE job_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at REAL NOT NULL,
        data TEXT NOT NULL,
        UNIQUE (job_id, seq)
    );
    """,
    # 2: batches, schedules, the webhook outbox and its delivery log, annotations.
    """
    CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        total INTEGER NOT NULL,
        webhook_url TEXT,
        rejected TEXT NOT NULL,
        completed_at REAL,
        cancelled_at REAL
    );
    CREATE INDEX batches_created ON batches (created_at);
    CREATE TABLE batch_jobs (
        job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
        batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
        state TEXT NOT NULL
    );
    CREATE INDEX batch_jobs_batch ON batch_jobs (batch_id, state);
    CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        request TEXT NOT NULL,
        platform TEXT NOT NULL,
        state TEXT NOT NULL,
        run_at REAL,
        cron TEXT,
        timezone TEXT NOT NULL,
        created_at REAL NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0,
        last_job_id TEXT
    );
    CREATE INDEX schedules_due ON schedules (state, run_at);
    CREATE TABLE webhook_endpoints (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        secret TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE webhook_messages (
        id TEXT PRIMARY KEY,
        endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        job_id TEXT,
        batch_id TEXT,
        created_at REAL NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        delivered_at REAL
    );
    CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);
    CREATE INDEX webhook_messages_job ON webhook_messages (job_id);
    CREATE TABLE webhook_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
        at REAL NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration REAL NOT NULL
    );
    CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id);
    CREATE TABLE annotations (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        parent_id TEXT REFERENCES annotations (id) ON DELETE CASCADE,
        author TEXT NOT NULL,
        start_s REAL,
        end_s REAL,
        text TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX annotations_job ON annotations (job_id, start_s);
    """,
    # 3: the queue and job ownership in the store: leases, requests, the writer of each event,
    # and who holds a webhook message while it is tried.
    """
    ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 5;
    ALTER TABLE jobs ADD COLUMN arrival REAL NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN not_before REAL;
    ALTER TABLE jobs ADD COLUMN owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until REAL;
    ALTER TABLE jobs ADD COLUMN lease_attempt INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN origin TEXT;
    UPDATE jobs SET
        priority = COALESCE(json_extract(data, '$.request.priority'), 5),
        arrival = COALESCE(json_extract(data, '$.queued_at'), created_at),
        not_before = json_extract(data, '$.retry_at');
    CREATE INDEX jobs_waiting ON jobs (priority DESC, arrival)
        WHERE owner IS NULL AND state = 'queued';
    CREATE INDEX jobs_leased ON jobs (lease_until) WHERE owner IS NOT NULL;
    CREATE INDEX jobs_owner ON jobs (owner) WHERE owner IS NOT NULL;
    ALTER TABLE job_events ADD COLUMN writer TEXT NOT NULL DEFAULT '';
    ALTER TABLE webhook_messages ADD COLUMN claimed_by TEXT;
    """,
)


class SchemaVersionError(AudiograbError):
    """The database was written by a newer AudioGrab than this one."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            ErrorCode.INTERNAL,
            f"the database has schema version {found}, but this AudioGrab understands up to "
            f"{supported}: upgrade AudioGrab or point it at another database file",
        )
        self.found = found
        self.supported = supported


def _statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (semicolons inside strings or triggers kept)."""
    pending = ""
    for chunk in script.split(";"):
        pending += chunk + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""


async def schema_version(conn: aiosqlite.Connection) -> int:
    """The database's schema version (0 for a fresh file)."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def migrate(conn: aiosqlite.Connection, migrations: tuple[str, ...] = MIGRATIONS) -> int:
    """Bring the database up to `len(migrations)`; return the version it ended at.

    `conn` must be in autocommit mode (`isolation_level=None`): transactions here are explicit.
    """
    latest = len(migrations)
    while True:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            current = await schema_version(conn)
            if current > latest:
                raise SchemaVersionError(current, latest)
            if current < latest:
                for statement in _statements(migrations[current]):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {current + 1}")
            await conn.execute("COMMIT")
        except Exception:
            await conn.execute("ROLLBACK")
            raise
        if current == latest:
            return current
