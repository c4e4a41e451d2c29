"""The job store on PostgreSQL (psycopg 3, ADR 0003): one database shared by many nodes.

`PgJobStore` runs the store's SQL unchanged (`connection.py` names the shared dialect) through
`PgConnection`, which turns `?` and `:name` parameters into psycopg's. What differs from SQLite
is the plumbing and the concurrency:

- Transactions are READ COMMITTED. A write reads the job's row `FOR UPDATE` before it fences
  an append on the lease, and a claim reads its candidates `FOR UPDATE SKIP LOCKED`, after a
  transaction advisory lock that makes the per-platform counts hold across nodes.
- Event ids come from a sequence, so an append takes a second advisory lock just before it
  inserts: ids then follow commit order, and a reader's cursor never passes an event that
  commits later with a smaller id.
- Leases are on the server's clock: `wall_clock()` is `clock_timestamp()` in Unix seconds.
- Every write sends `NOTIFY audiograb` with the writer's identity; a second connection
  LISTENs, and `changed_elsewhere` only drains it. Notices are a wake-up, never the data:
  events are always read from the table.
- Migrations are versioned in `schema_version`, applied under an advisory lock.
"""

import re
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any, Self, TypeVar

import anyio
import psycopg
from psycopg.rows import RowMaker

from audiograb.store.connection import Connection, Row
from audiograb.store.migrations import SchemaVersionError
from audiograb.store.store import LEASE_SECONDS, Dialect, JobStore

__all__ = [
    "PG_MIGRATIONS",
    "PgConnection",
    "PgJobStore",
    "is_postgres_url",
    "translate",
]

T = TypeVar("T")

#: The channel every node's writes are announced on.
CHANNEL = "audiograb"
#: Advisory lock keys (any two distinct numbers this application owns).
MIGRATION_LOCK = 0x61670001
CLAIM_LOCK = 0x61670002
EVENT_LOCK = 0x61670003

PG_MIGRATIONS: tuple[str, ...] = (
    # 1: the whole schema of SQLite's migrations 1-3, with a `rowid` column where the shared
    # SQL orders by insertion, and `wall_clock()`.
    """
    CREATE FUNCTION wall_clock() RETURNS double precision
        LANGUAGE sql VOLATILE AS $$ SELECT extract(epoch FROM clock_timestamp())::float8 $$;
    CREATE TABLE jobs (
        rowid BIGSERIAL UNIQUE,
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        platform TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        data TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 5,
        arrival DOUBLE PRECISION NOT NULL DEFAULT 0,
        not_before DOUBLE PRECISION,
        owner TEXT,
        lease_until DOUBLE PRECISION,
        lease_attempt INTEGER NOT NULL DEFAULT 0,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        origin TEXT
    );
    CREATE INDEX jobs_state_created ON jobs (state, created_at);
    CREATE INDEX jobs_created ON jobs (created_at);
    CREATE INDEX jobs_waiting ON jobs (priority DESC, arrival, rowid)
        WHERE owner IS NULL AND state = 'queued';
    CREATE INDEX jobs_leased ON jobs (lease_until) WHERE owner IS NOT NULL;
    CREATE INDEX jobs_owner ON jobs (owner) WHERE owner IS NOT NULL;
    CREATE TABLE job_events (
        id BIGSERIAL PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        data TEXT NOT NULL,
        writer TEXT NOT NULL DEFAULT '',
        UNIQUE (job_id, seq)
    );
    CREATE TABLE batches (
        rowid BIGSERIAL UNIQUE,
        id TEXT PRIMARY KEY,
        created_at DOUBLE PRECISION NOT NULL,
        total INTEGER NOT NULL,
        webhook_url TEXT,
        rejected TEXT NOT NULL,
        completed_at DOUBLE PRECISION,
        cancelled_at DOUBLE PRECISION
    );
    CREATE INDEX batches_created ON batches (created_at);
    CREATE TABLE batch_jobs (
        rowid BIGSERIAL UNIQUE,
        job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
        batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
        state TEXT NOT NULL
    );
    CREATE INDEX batch_jobs_batch ON batch_jobs (batch_id, state);
    CREATE TABLE schedules (
        rowid BIGSERIAL UNIQUE,
        id TEXT PRIMARY KEY,
        request TEXT NOT NULL,
        platform TEXT NOT NULL,
        state TEXT NOT NULL,
        run_at DOUBLE PRECISION,
        cron TEXT,
        timezone TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0,
        last_job_id TEXT
    );
    CREATE INDEX schedules_due ON schedules (state, run_at);
    CREATE TABLE webhook_endpoints (
        rowid BIGSERIAL UNIQUE,
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        secret TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE webhook_messages (
        rowid BIGSERIAL UNIQUE,
        id TEXT PRIMARY KEY,
        endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        job_id TEXT,
        batch_id TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at DOUBLE PRECISION,
        delivered_at DOUBLE PRECISION,
        claimed_by TEXT
    );
    CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);
    CREATE INDEX webhook_messages_job ON webhook_messages (job_id);
    CREATE TABLE webhook_attempts (
        id BIGSERIAL PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
        at DOUBLE PRECISION NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id);
    CREATE TABLE annotations (
        rowid BIGSERIAL UNIQUE,
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        parent_id TEXT REFERENCES annotations (id) ON DELETE CASCADE,
        author TEXT NOT NULL,
        start_s DOUBLE PRECISION,
        end_s DOUBLE PRECISION,
        text TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX annotations_job ON annotations (job_id, start_s);
    """,
)

#: A string literal (kept as it is), a `?` or `:name` parameter, or a `%` to escape.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """The store's SQL with psycopg's placeholders: `?` → `%s`, `:name` → `%(name)s`."""

    def placeholder(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("'"):
            return token.replace("%", "%%")
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return f"%({match.group(1)})s"

    return _TOKEN.sub(placeholder, sql)


def is_postgres_url(location: object) -> bool:
    """Whether a database location names a PostgreSQL server rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


class PgRow:
    """One row, read by position or by column name, like `sqlite3.Row`."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: tuple[Any, ...]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, key: Any, /) -> Any:
        if isinstance(key, str):
            return self._values[self._names.index(key)]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._names)


def _pg_rows(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[PgRow]:
    names = tuple(column.name for column in cursor.description or ())
    return lambda values: PgRow(names, tuple(values))


class PgCursor:
    """The rows of one statement (aiosqlite's cursor interface, over psycopg's)."""

    def __init__(self, cursor: psycopg.AsyncCursor[PgRow]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> PgRow | None:
        return await self._cursor.fetchone()

    async def fetchall(self) -> list[PgRow]:
        return await self._cursor.fetchall()


class _Pending:
    """A statement to run when awaited or entered (what aiosqlite's `execute` returns)."""

    def __init__(self, run: Awaitable[PgCursor]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any, /) -> None:
        return None


class PgConnection:
    """A psycopg connection that speaks the store's dialect (`connection.Connection`)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Any = (), /) -> _Pending:
        return _Pending(self._run(sql, parameters))

    async def _run(self, sql: str, parameters: Any) -> PgCursor:
        bound = parameters if isinstance(parameters, Mapping) else tuple(parameters)
        cursor = self.raw.cursor(row_factory=_pg_rows)
        await cursor.execute(translate(sql), bound or None)
        return PgCursor(cursor)

    @property
    def in_transaction(self) -> bool:
        """Whether the server holds a transaction open on this connection."""
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    async def close(self) -> None:
        await self.raw.close()


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def _listen(url: str) -> psycopg.AsyncConnection[Any]:
    """A connection that receives every node's wake-up notices."""
    listener = await _connect(url)
    try:
        await listener.execute(f"LISTEN {CHANNEL}")
    except BaseException:
        await listener.close()
        raise
    return listener


async def migrate_pg(conn: PgConnection, migrations: tuple[str, ...] = PG_MIGRATIONS) -> int:
    """Bring the database up to `len(migrations)` under an advisory lock; the version reached.

    The pending migrations and their version rows commit in one transaction (PostgreSQL's DDL
    is transactional): two nodes starting at once apply each exactly once, a failing one
    leaves the previous version, and a database from a newer AudioGrab is refused.
    """
    latest = len(migrations)
    await conn.execute("BEGIN")
    try:
        await conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        async with conn.execute("SELECT MAX(version) FROM schema_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0] or 0) if row is not None else 0
        if current > latest:
            raise SchemaVersionError(current, latest)
        for version in range(current, latest):
            await conn.raw.execute(migrations[version])
            await conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return latest


class PgJobStore(JobStore):
    """The job store on a PostgreSQL server shared by every node (`AUDIOGRAB_DATABASE_URL`)."""

    dialect = Dialect(
        begin="BEGIN",
        lock_row="FOR UPDATE",
        skip_locked="FOR UPDATE SKIP LOCKED",
        waiting_index="",
        no_limit=None,
    )
    integrity_errors = (psycopg.errors.IntegrityError,)

    def __init__(
        self,
        url: str,
        conn: PgConnection,
        listener: psycopg.AsyncConnection[Any],
        *,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        super().__init__(conn, lease_seconds=lease_seconds)
        self._url = url
        self._pg = conn
        self._listener = listener
        self._listen_lock = anyio.Lock()
        self._closed = False

    @classmethod
    async def connect(cls, url: str, *, lease_seconds: float = LEASE_SECONDS) -> Self:
        """Connect to the server at `url`, migrate its schema, and listen for other nodes."""
        conn = PgConnection(await _connect(url))
        try:
            await migrate_pg(conn)
            listener = await _listen(url)
        except BaseException:
            await conn.raw.close()
            raise
        return cls(url, conn, listener, lease_seconds=lease_seconds)

    async def close(self) -> None:
        """Close both connections (idempotent)."""
        self._closed = True
        await super().close()
        async with self._listen_lock:
            await self._listener.close()

    async def changed_elsewhere(self) -> bool:
        """Whether another node wrote since the last call: drains this node's LISTEN
        connection without waiting. Only a wake-up: the caller reads the tables.

        A listener the server dropped (a restart, a failover) is replaced, and the answer is
        then yes: notices may have been missed, and reading once too often costs nothing."""
        changed = False
        async with self._listen_lock:
            if self._listener.closed and not self._closed:
                self._listener = await _listen(self._url)
                return True
            try:
                async for notice in self._listener.notifies(timeout=0.0):
                    changed = changed or notice.payload != self.identity
            except psycopg.OperationalError:
                return True  # replaced at the next call
        return changed

    async def _read(self, sql: str, params: Iterable[Any] | Mapping[str, Any]) -> list[Row]:
        await self._reconnect_if_dropped()
        return await super()._read(sql, params)

    async def _reconnect_if_dropped(self) -> None:
        """Replace the work connection if the server dropped it: the call that found it broken
        failed (its transaction rolled back with the connection), the next ones work."""
        async with self._lock:
            if self._pg.raw.closed and not self._closed:
                self._pg.raw = await _connect(self._url)

    async def serialise_claims(self, conn: Connection) -> None:
        """One claim at a time across nodes, so the per-platform counts it reads hold."""
        await conn.execute("SELECT pg_advisory_xact_lock(?)", (CLAIM_LOCK,))

    async def _order_events(self, conn: Connection) -> None:
        await conn.execute("SELECT pg_advisory_xact_lock(?)", (EVENT_LOCK,))

    async def _execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """One write statement in its own transaction (so that it is announced); rows changed."""

        async def statement(conn: Connection) -> int:
            return (await conn.execute(sql, params)).rowcount

        return await self._transaction(statement)

    async def _transaction(self, body: Callable[[Connection], Awaitable[T]]) -> T:
        await self._reconnect_if_dropped()
        async with self._lock:
            with anyio.CancelScope(shield=True):
                await self._conn.execute(self.dialect.begin)
                try:
                    result = await body(self._conn)
                    await self._announce()
                    await self._conn.execute("COMMIT")
                except BaseException:
                    if not self._pg.raw.closed:  # a dropped connection took its transaction
                        await self._conn.execute("ROLLBACK")
                    raise
        return result

    async def _announce(self) -> None:
        """Tell the other nodes (at commit) that this one wrote."""
        await self._conn.execute("SELECT pg_notify(?, ?)", (CHANNEL, self.identity))
