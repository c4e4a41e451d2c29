"""The job queue, kept in the jobs table: claims, leases and their heartbeat, requests.

Every process on the data folder works from these rows. A job waits while it has no owner;
a process *claims* it (highest priority first, then arrival) by writing itself as the owner
with a lease that expires `lease_seconds` later unless renewed by its heartbeat. The claim and
the per-platform counts it checks happen in one `BEGIN IMMEDIATE` transaction, so two
processes never claim the same job and the platform limits hold across processes. A job whose
lease lapsed (or that its owner released at shutdown) is claimed again in its turn, from its
last completed phase.

Lease times are Unix times on the database's clock (`wall_clock()` in SQL: the machine's clock
for SQLite, the server's for PostgreSQL), so every node compares them against the same clock.
On PostgreSQL the claim reads its candidates `FOR UPDATE SKIP LOCKED` and takes a transaction
lock first so that the per-platform counts hold across nodes (`PgJobStore.serialise_claims`).
"""

from collections.abc import Mapping

import msgspec

from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    Job,
    JobState,
    JobStateChanged,
    Lease,
)
from audiograb.domain.lease import Claimed, Held
from audiograb.store.connection import Connection
from audiograb.store.store import JobStore

__all__ = ["Claimed", "Held", "JobQueue"]

_job_decoder = msgspec.json.Decoder(Job)

_WORKING = tuple(
    state.value for state in (JobState.DOWNLOADING, JobState.CONVERTING, JobState.TRANSCRIBING)
)
_COLUMNS = "rowid AS r, id, platform, priority, arrival, origin, data, cancel_requested"
#: Jobs whose owner is gone: a lapsed lease, or no owner although the job was working (a
#: released job, or one left by a version of AudioGrab without leases).
_LAPSED = f"SELECT {_COLUMNS} FROM jobs WHERE owner IS NOT NULL AND lease_until < wall_clock()"
_RELEASED = (
    f"SELECT {_COLUMNS} FROM jobs "
    f"WHERE owner IS NULL AND state IN ({', '.join(repr(s) for s in _WORKING)})"
)
#: Waiting jobs, read in run order straight from the partial index (no sort, however many).
_WAITING = (
    f"SELECT {_COLUMNS} FROM jobs {{index}} "
    "WHERE owner IS NULL AND state = 'queued' AND (not_before IS NULL OR not_before <= :now)"
)
_ORDER = "ORDER BY priority DESC, arrival, rowid"


class _Candidate(msgspec.Struct, frozen=True):
    r: int
    id: str
    platform: str
    priority: int
    arrival: float
    data: str
    cancel_requested: int


def _run_order(candidate: _Candidate) -> tuple[int, float, int]:
    return (-candidate.priority, candidate.arrival, candidate.r)


class JobQueue:
    """The queue and the leases of one instance (`db.identity` is the owner it writes)."""

    def __init__(self, db: JobStore) -> None:
        self._db = db
        self.lease_seconds = db.lease_seconds
        self.owner = db.identity
        self._waiting = _WAITING.format(index=db.dialect.waiting_index)

    async def claim(
        self,
        *,
        count: int,
        now: float,
        platform_limits: Mapping[str, int],
        only_mine: bool = False,
    ) -> list[Claimed]:
        """Claim up to `count` jobs, orphaned or waiting and due at `now`, in run order.

        `only_mine` restricts the claim to the jobs this instance submitted (a process that
        does not serve the queue). A job of a platform at its limit, counted over every
        process, is skipped without holding up the others.
        """
        if count <= 0:
            return []

        async def body(conn: Connection) -> list[Claimed]:
            if platform_limits:
                await self._db.serialise_claims(conn)
            running = await _running_per_platform(conn)
            claimed: list[Claimed] = []
            while len(claimed) < count:
                full = [p for p, limit in platform_limits.items() if running.get(p, 0) >= limit]
                candidate = await self._next(conn, now, full, only_mine)
                if candidate is None:
                    break
                claimed.append(await self._take(conn, candidate))
                running[candidate.platform] = running.get(candidate.platform, 0) + 1
            return claimed

        return await self._db.transaction(body)

    async def _next(
        self,
        conn: Connection,
        now: float,
        full: list[str],
        only_mine: bool,
    ) -> _Candidate | None:
        filters: list[str] = []
        params: dict[str, object] = {"now": now, "me": self.owner}
        if full:
            filters.append(f"platform NOT IN ({', '.join(f':p{i}' for i in range(len(full)))})")
            params.update({f"p{i}": platform for i, platform in enumerate(full)})
        if only_mine:
            filters.append("origin = :me")
        where = "".join(f" AND {condition}" for condition in filters)
        heads = []
        lock = self._db.dialect.skip_locked
        for source in (_LAPSED, _RELEASED, self._waiting):
            async with conn.execute(f"{source}{where} {_ORDER} LIMIT 1 {lock}", params) as cur:
                row = await cur.fetchone()
            if row is not None:
                heads.append(msgspec.convert(dict(row), _Candidate))
        return min(heads, key=_run_order, default=None)

    async def _take(self, conn: Connection, candidate: _Candidate) -> Claimed:
        job = _job_decoder.decode(candidate.data)
        if job.state is not JobState.QUEUED:  # its owner died mid-phase: resume it from here
            queued = msgspec.structs.replace(job, state=JobState.QUEUED)
            event = JobStateChanged(job_id=job.id, state=JobState.QUEUED, previous=job.state)
            await self._db.append_within(conn, event, queued)
            job = queued
        lease = await self._lease(conn, job.id)
        return Claimed(job=job, lease=lease, cancel_requested=bool(candidate.cancel_requested))

    async def _lease(self, conn: Connection, job_id: str) -> Lease:
        """Make this instance the job's owner with a fresh attempt number."""
        async with conn.execute(
            "UPDATE jobs SET owner = ?, lease_until = wall_clock() + ?, "
            "lease_attempt = lease_attempt + 1 WHERE id = ? RETURNING lease_attempt",
            (self.owner, self.lease_seconds, job_id),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return Lease(job_id=job_id, owner=self.owner, attempt=int(row[0]))

    async def renew(self) -> list[Held]:
        """The heartbeat: push back the expiry of every lease held; what is still held."""
        await self._db.execute(
            "UPDATE jobs SET lease_until = wall_clock() + ? WHERE owner = ?",
            (self.lease_seconds, self.owner),
        )
        return await self.held()

    async def held(self) -> list[Held]:
        """The jobs this instance owns, with their attempt and any cancel request."""
        rows = await self._db.read(
            "SELECT id AS job_id, lease_attempt, cancel_requested FROM jobs WHERE owner = ?",
            (self.owner,),
        )
        return [msgspec.convert(dict(row), Held, strict=False) for row in rows]

    async def release_all(self) -> int:
        """Give up every lease held (a shutdown, a restarted scheduler): the jobs may be
        claimed again at once, by any process. A pending cancel request stays."""
        return await self._db.execute(
            "UPDATE jobs SET owner = NULL, lease_until = NULL, "
            "lease_attempt = lease_attempt + 1 WHERE owner = ?",
            (self.owner,),
        )

    async def request_cancel(self, job_id: str) -> Lease | None:
        """Ask the job's owner to cancel it (None); a job nobody runs is claimed instead, and
        its lease returned, for the caller to record the cancel itself."""

        async def body(conn: Connection) -> Lease | None:
            async with conn.execute(
                "SELECT state, CASE WHEN owner IS NOT NULL AND lease_until >= wall_clock() "
                f"THEN 1 ELSE 0 END AS live FROM jobs WHERE id = ? {self._db.dialect.lock_row}",
                (job_id,),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise AudiograbError(ErrorCode.JOB_NOT_FOUND, f"no job {job_id!r}")
            if JobState(row["state"]).terminal:
                raise AudiograbError(
                    ErrorCode.INVALID_STATE, f"job {job_id} is already {row['state']}"
                )
            if row["live"]:
                await conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
                return None
            return await self._lease(conn, job_id)

        return await self._db.transaction(body)

    async def adopt(self, job_id: str) -> None:
        """Make this instance the origin of a waiting job (a retry it asked for): a process
        that runs only what it submitted runs it too."""
        await self._db.execute(
            "UPDATE jobs SET origin = ? WHERE id = ? AND owner IS NULL", (self.owner, job_id)
        )

    async def owner_of(self, job_id: str) -> str | None:
        """The instance whose live lease runs the job, if any."""
        rows = await self._db.read(
            "SELECT owner FROM jobs WHERE id = ? AND owner IS NOT NULL "
            "AND lease_until >= wall_clock()",
            (job_id,),
        )
        return str(rows[0][0]) if rows else None

    async def owners(self) -> list[str]:
        """Every instance holding a live lease."""
        rows = await self._db.read(
            "SELECT DISTINCT owner FROM jobs WHERE owner IS NOT NULL "
            "AND lease_until >= wall_clock()",
        )
        return [str(row[0]) for row in rows]

    async def expire(self, owner: str) -> int:
        """End the leases of an owner known to be gone, so its jobs are reclaimed at once."""
        return await self._db.execute("UPDATE jobs SET lease_until = 0 WHERE owner = ?", (owner,))

    async def next_expiry(self) -> float | None:
        """When the next live lease held by another instance lapses (wall-clock time); leases
        that lapsed already are not counted (they are claimed when a slot is free)."""
        rows = await self._db.read(
            "SELECT MIN(lease_until) FROM jobs "
            "WHERE owner IS NOT NULL AND owner != ? AND lease_until >= wall_clock()",
            (self.owner,),
        )
        return float(rows[0][0]) if rows[0][0] is not None else None

    async def next_due(self, now: float, *, only_mine: bool = False) -> float | None:
        """When the next job held back for its automatic retry may start."""
        restrict = " AND origin = ?" if only_mine else ""
        rows = await self._db.read(
            "SELECT MIN(not_before) FROM jobs WHERE owner IS NULL AND state = 'queued' "
            f"AND not_before > ?{restrict}",
            (now, self.owner) if only_mine else (now,),
        )
        return float(rows[0][0]) if rows[0][0] is not None else None

    async def running(self) -> list[Job]:
        """Jobs with a live owner, in the order they were claimed."""
        rows = await self._db.read(
            "SELECT data FROM jobs WHERE owner IS NOT NULL AND lease_until >= wall_clock() "
            "ORDER BY updated_at, rowid",
        )
        return [_job_decoder.decode(row[0]) for row in rows]

    async def waiting(self, now: float) -> list[Job]:
        """Jobs to be claimed, in claim order (ignoring limits), orphaned ones among them."""
        rows = await self._db.read(
            f"SELECT data FROM ({_LAPSED} UNION ALL {_RELEASED} UNION ALL {self._waiting}) "
            "AS waiting ORDER BY priority DESC, arrival, r",
            {"now": now},
        )
        return [_job_decoder.decode(row[0]) for row in rows]

    async def delayed(self, now: float) -> list[Job]:
        """Jobs held back until their automatic retry is due, soonest first."""
        rows = await self._db.read(
            "SELECT data FROM jobs WHERE owner IS NULL AND state = 'queued' "
            "AND not_before > ? ORDER BY not_before, rowid",
            (now,),
        )
        return [_job_decoder.decode(row[0]) for row in rows]

    async def depth(self) -> int:
        """How many jobs wait (for a slot or their retry time)."""
        rows = await self._db.read(
            "SELECT COUNT(*) FROM jobs WHERE owner IS NULL AND state = 'queued'", ()
        )
        return int(rows[0][0])


async def _running_per_platform(conn: Connection) -> dict[str, int]:
    async with conn.execute(
        "SELECT platform, COUNT(*) FROM jobs WHERE owner IS NOT NULL "
        "AND lease_until >= wall_clock() GROUP BY platform",
        (),
    ) as cursor:
        return {str(row[0]): int(row[1]) for row in await cursor.fetchall()}
