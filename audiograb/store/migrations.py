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
