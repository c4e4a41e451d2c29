"""The job store against real databases: a SQLite file, and (every test that takes `store` or
`database`) a real PostgreSQL server too. Schema and driver details are SQLite's own tests."""

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import anyio
import msgspec
import pytest

from audiograb.domain import (
    AudiograbError,
    DownloadProgress,
    DownloadProgressed,
    ErrorCode,
    Job,
    JobCompleted,
    JobRequest,
    JobState,
    JobStateChanged,
    JobSubmitted,
    MediaInfo,
)
from audiograb.store import JobStore, SchemaVersionError, StoredEvent, open_store
from audiograb.store.migrations import MIGRATIONS, migrate, schema_version
from tests.databases import raw_rows

pytestmark = pytest.mark.anyio


def make_job(job_id: str, *, created_at: float, state: JobState = JobState.QUEUED) -> Job:
    return Job(
        id=job_id,
        request=JobRequest(url=f"https://example.com/{job_id}.mp3"),
        platform="generic",
        state=state,
        created_at=created_at,
        updated_at=created_at,
    )


def submitted(job: Job) -> JobSubmitted:
    return JobSubmitted(job_id=job.id, request=job.request, platform=job.platform, at=1.0)


def progressed(job_id: str, done: int) -> DownloadProgressed:
    return DownloadProgressed(
        job_id=job_id, progress=DownloadProgress(downloaded_bytes=done), at=2.0
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "audiograb.db"


@pytest.fixture
async def store(database: Path | str) -> AsyncIterator[JobStore]:
    async with open_store(database) as opened:
        yield opened


@pytest.fixture
async def sqlite_store(db_path: Path) -> AsyncIterator[JobStore]:
    async with open_store(db_path) as opened:
        yield opened


def raw(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as conn:
        return list(conn.execute(sql))


class TestSchema:
    async def test_creates_parent_dirs_wal_and_latest_version(
        self, sqlite_store: JobStore, db_path: Path
    ) -> None:
        assert await anyio.Path(db_path).exists()
        assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]
        assert raw(db_path, "PRAGMA user_version") == [(len(MIGRATIONS),)]
        tables = {row[0] for row in raw(db_path, "SELECT name FROM sqlite_master")}
        assert {"jobs", "job_events", "jobs_state_created", "jobs_created"} <= tables

    async def test_reopening_reapplies_nothing(self, db_path: Path) -> None:
        async with open_store(db_path) as store:
            await store.insert_job(make_job("a", created_at=1.0))
        async with open_store(db_path) as store:
            assert await store.get_job("a") is not None
        assert raw(db_path, "PRAGMA user_version") == [(len(MIGRATIONS),)]

    async def test_migrate_is_idempotent_and_stepwise(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True)
        extra = (*MIGRATIONS, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);")
        async with aiosqlite.connect(db_path, isolation_level=None) as conn:
            assert await migrate(conn) == len(MIGRATIONS)
            assert await migrate(conn) == len(MIGRATIONS)
            assert await migrate(conn, extra) == len(extra)
            assert await migrate(conn, extra) == len(extra)
            assert await schema_version(conn) == len(extra)
            assert not conn.in_transaction

    async def test_a_failing_migration_leaves_the_previous_version(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True)
        broken = (*MIGRATIONS, "CREATE TABLE half (id INTEGER); THIS IS NOT SQL;")
        async with aiosqlite.connect(db_path, isolation_level=None) as conn:
            with pytest.raises(sqlite3.OperationalError):
                await migrate(conn, broken)
            assert await schema_version(conn) == len(MIGRATIONS)
            assert not conn.in_transaction
        assert ("half",) not in raw(db_path, "SELECT name FROM sqlite_master")

    async def test_newer_database_is_refused_clearly(self, db_path: Path) -> None:
        async with open_store(db_path):
            pass
        with sqlite3.connect(db_path) as conn:
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
        with pytest.raises(SchemaVersionError) as caught:
            async with open_store(db_path):
                pass
        assert caught.value.found == len(MIGRATIONS) + 5
        assert "upgrade AudioGrab" in caught.value.message
        assert isinstance(caught.value, AudiograbError)


class TestJobs:
    async def test_round_trip(self, store: JobStore) -> None:
        job = msgspec.structs.replace(
            make_job("j1", created_at=10.5),
            media=MediaInfo(title="标题 — title", duration=12.5),
            attempts=2,
        )
        await store.insert_job(job)
        assert await store.get_job("j1") == job
        assert await store.get_job("missing") is None

    async def test_insert_twice_is_an_error(self, store: JobStore) -> None:
        await store.insert_job(make_job("j1", created_at=1.0))
        with pytest.raises(AudiograbError) as caught:
            await store.insert_job(make_job("j1", created_at=2.0))
        assert caught.value.code is ErrorCode.INVALID_REQUEST

    async def test_save_upserts_and_keeps_events(self, store: JobStore) -> None:
        job = make_job("j1", created_at=1.0)
        await store.save_job(job)
        await store.append_event(submitted(job))
        moved = msgspec.structs.replace(job, state=JobState.DOWNLOADING, updated_at=5.0)
        await store.save_job(moved)
        assert await store.get_job("j1") == moved
        assert await store.count_jobs(states=[JobState.DOWNLOADING]) == 1
        assert await store.last_seq("j1") == 1

    async def test_list_filter_paginate_count(self, store: JobStore) -> None:
        states = [JobState.QUEUED, JobState.COMPLETED, JobState.FAILED, JobState.DOWNLOADING]
        for n in range(8):
            await store.insert_job(make_job(f"j{n}", created_at=100.0 + n, state=states[n % 4]))
        newest_first = [job.id for job in await store.list_jobs()]
        assert newest_first == [f"j{n}" for n in range(7, -1, -1)]
        page = await store.list_jobs(limit=3, offset=2)
        assert [job.id for job in page] == ["j5", "j4", "j3"]
        done = await store.list_jobs(states={JobState.COMPLETED, JobState.FAILED})
        assert [job.id for job in done] == ["j6", "j5", "j2", "j1"]
        assert await store.count_jobs() == 8
        assert await store.count_jobs(states=[JobState.QUEUED]) == 2
        assert await store.count_jobs(states=[]) == 0
        assert await store.list_jobs(states=[]) == []
        with pytest.raises(ValueError, match="negative"):
            await store.list_jobs(limit=-1)

    async def test_same_created_at_orders_by_insertion(self, store: JobStore) -> None:
        for job_id in ("b", "a", "c"):
            await store.insert_job(make_job(job_id, created_at=7.0))
        assert [job.id for job in await store.list_jobs()] == ["c", "a", "b"]
        assert [job.id for job in await store.unfinished_jobs()] == ["b", "a", "c"]

    async def test_unfinished_jobs_oldest_first(self, store: JobStore) -> None:
        for n, state in enumerate(JobState):
            await store.insert_job(make_job(state.value, created_at=50.0 - n, state=state))
        unfinished = [job.id for job in await store.unfinished_jobs()]
        assert unfinished == ["transcribing", "converting", "downloading", "queued"]

    async def test_delete_removes_job_and_events(
        self, store: JobStore, database: Path | str
    ) -> None:
        job = make_job("j1", created_at=1.0)
        await store.append_event(submitted(job), job=job)
        assert await store.delete_job("j1") is True
        assert await store.delete_job("j1") is False
        assert await store.get_job("j1") is None
        assert await store.events_after("j1") == []
        assert raw_rows(database, "SELECT COUNT(*) FROM job_events") == [(0,)]


class TestEvents:
    async def test_seq_increments_per_job_and_global_id_across_jobs(self, store: JobStore) -> None:
        a, b = make_job("a", created_at=1.0), make_job("b", created_at=2.0)
        first = await store.append_event(submitted(a), job=a)
        second = await store.append_event(submitted(b), job=b)
        third = await store.append_event(progressed("a", 10))
        assert isinstance(first, StoredEvent)
        assert [(s.id, s.event.job_id, s.event.seq) for s in (first, second, third)] == [
            (1, "a", 1),
            (2, "b", 1),
            (3, "a", 2),
        ]
        assert third.event == msgspec.structs.replace(progressed("a", 10), seq=2)
        assert await store.last_seq("a") == 2
        assert await store.last_seq("nobody") == 0

    async def test_log_survives_reopen(self, database: Path | str) -> None:
        job = make_job("a", created_at=1.0)
        async with open_store(database) as store:
            await store.append_event(submitted(job), job=job)
            await store.append_event(progressed("a", 1))
        async with open_store(database) as store:
            stored = await store.append_event(progressed("a", 2))
            assert (stored.id, stored.event.seq) == (3, 3)
            assert [s.event.seq for s in await store.events_after("a")] == [1, 2, 3]

    async def test_events_after_cursor_and_limit(self, store: JobStore) -> None:
        job = make_job("a", created_at=1.0)
        await store.append_event(submitted(job), job=job)
        for done in range(1, 6):
            await store.append_event(progressed("a", done))
        after = await store.events_after("a", 2)
        assert [s.event.seq for s in after] == [3, 4, 5, 6]
        assert [s.event.seq for s in await store.events_after("a", 2, limit=2)] == [3, 4]
        assert await store.events_after("a", 6) == []
        assert isinstance(after[0].event, DownloadProgressed)
        assert after[0].event.progress.downloaded_bytes == 2

    async def test_all_events_after_is_a_global_cursor(self, store: JobStore) -> None:
        jobs = [make_job(name, created_at=1.0) for name in ("a", "b")]
        for job in jobs:
            await store.append_event(submitted(job), job=job)
        for done in range(3):
            for job in jobs:
                await store.append_event(progressed(job.id, done))
        everything = await store.all_events_after()
        assert [s.id for s in everything] == list(range(1, 9))
        page = await store.all_events_after(3, limit=2)
        assert [(s.id, s.event.job_id, s.event.seq) for s in page] == [(4, "b", 2), (5, "a", 3)]
        cursor, event = page[-1]  # also unpacks as (id, event)
        assert (cursor, event.seq) == (5, 3)
        assert await store.all_events_after(8) == []

    async def test_append_with_job_is_atomic(self, store: JobStore) -> None:
        job = make_job("a", created_at=1.0)
        await store.append_event(submitted(job), job=job)
        done = msgspec.structs.replace(job, state=JobState.COMPLETED, output_path="/o.m4a")
        # An event for another (unknown) job makes the transaction fail: the job save with it
        # must be rolled back too.
        with pytest.raises(AudiograbError) as caught:
            await store.append_event(
                progressed("ghost", 1), job=msgspec.structs.replace(done, id="other")
            )
        assert caught.value.code is ErrorCode.JOB_NOT_FOUND
        assert await store.get_job("other") is None
        completed = JobCompleted(job_id="a", output_path="/o.m4a", size_bytes=3)
        stored = await store.append_event(completed, job=done)
        assert stored.event.seq == 2
        assert await store.get_job("a") == done

    async def test_event_for_unknown_job_is_refused(self, store: JobStore) -> None:
        with pytest.raises(AudiograbError) as caught:
            await store.append_event(progressed("ghost", 1))
        assert caught.value.code is ErrorCode.JOB_NOT_FOUND

    async def test_event_rows_carry_type_and_time(
        self, store: JobStore, database: Path | str
    ) -> None:
        job = make_job("a", created_at=1.0)
        await store.append_event(submitted(job), job=job)
        moved = JobStateChanged(
            job_id="a", state=JobState.DOWNLOADING, previous=JobState.QUEUED, at=3.5
        )
        await store.append_event(moved)
        rows = raw_rows(database, "SELECT job_id, seq, type, at FROM job_events ORDER BY id")
        assert rows == [("a", 1, "job.submitted", 1.0), ("a", 2, "job.state", 3.5)]

    async def test_concurrent_appends_get_distinct_gapless_seqs(self, store: JobStore) -> None:
        jobs = [make_job(f"j{n}", created_at=float(n)) for n in range(3)]
        for job in jobs:
            await store.insert_job(job)

        async def writer(job_id: str) -> None:
            for done in range(20):
                await store.append_event(progressed(job_id, done))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for job in jobs:
                    tg.start_soon(writer, job.id)
                    tg.start_soon(store.list_jobs)
        for job in jobs:
            seqs = [s.event.seq for s in await store.events_after(job.id)]
            assert seqs == list(range(1, 21))
        assert [s.id for s in await store.all_events_after()] == list(range(1, 61))

    async def test_cancelled_before_the_write_writes_nothing(self, store: JobStore) -> None:
        job = make_job("a", created_at=1.0)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await store.append_event(submitted(job), job=job)
        assert await store.get_job("a") is None
        await store.append_event(submitted(job), job=job)
        assert await store.last_seq("a") == 1

    async def test_cancelled_mid_write_still_commits_whole(self, sqlite_store: JobStore) -> None:
        store = sqlite_store
        job = make_job("a", created_at=1.0)
        inside, release = threading.Event(), threading.Event()

        def trace(sql: str) -> None:  # runs on aiosqlite's thread, between the two writes
            if sql.startswith("INSERT INTO job_events"):
                inside.set()
                release.wait(10)

        await store._conn.set_trace_callback(trace)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: store.append_event(submitted(job), job=job))
                await anyio.to_thread.run_sync(inside.wait)
                tg.cancel_scope.cancel()
                release.set()
        assert await store.get_job("a") == job  # the whole transaction committed
        assert await store.last_seq("a") == 1
        await store.append_event(progressed("a", 1))
        assert await store.last_seq("a") == 2


async def test_two_connections_opening_a_new_file_at_once(db_path: Path) -> None:
    stores: list[JobStore] = []

    async def opener() -> None:
        stores.append(await JobStore.open(db_path))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(opener)
    try:
        await stores[0].insert_job(make_job("a", created_at=1.0))
        assert await stores[1].get_job("a") is not None
    finally:
        for store in stores:
            await store.close()
            await store.close()  # closing twice is harmless
    assert raw(db_path, "PRAGMA user_version") == [(len(MIGRATIONS),)]
