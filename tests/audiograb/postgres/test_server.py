"""The PostgreSQL test server and the driver (psycopg 3) do what the job store will need:
password login, LISTEN/NOTIFY as a wake-up, and `FOR UPDATE SKIP LOCKED` claims."""

import anyio
import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from tests.pgserver import PgServer

pytestmark = pytest.mark.anyio


async def test_a_wrong_password_is_refused(postgres: PgServer) -> None:
    url = postgres.url().replace(postgres.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        await psycopg.AsyncConnection.connect(url)


async def test_listen_notify_round_trip(postgres: PgServer) -> None:
    url = postgres.create_database()
    async with (
        await psycopg.AsyncConnection.connect(url, autocommit=True) as listener,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as talker,
    ):
        await listener.execute("LISTEN job_events")
        await talker.execute("SELECT pg_notify('job_events', 'job-1:7')")
        with anyio.fail_after(10):
            notice = await anext(aiter(listener.notifies()))
        sender = talker.info.backend_pid
    assert (notice.channel, notice.payload, notice.pid) == ("job_events", "job-1:7", sender)


async def test_skip_locked_claims_never_hand_one_row_to_two_workers(postgres: PgServer) -> None:
    url = postgres.create_database()
    async with AsyncConnectionPool(url, min_size=2, max_size=2, open=False) as pool:
        async with pool.connection() as conn:
            await conn.execute("CREATE TABLE jobs (id int PRIMARY KEY, priority int NOT NULL)")
            await conn.execute("INSERT INTO jobs SELECT n, n % 3 FROM generate_series(1, 6) AS n")
        claim = "SELECT id FROM jobs ORDER BY priority DESC, id LIMIT 2 FOR UPDATE SKIP LOCKED"
        async with pool.connection() as first, pool.connection() as second:
            first.row_factory = dict_row
            async with first.transaction(), second.transaction():
                mine = [row["id"] for row in await (await first.execute(claim)).fetchall()]
                theirs = [row[0] for row in await (await second.execute(claim)).fetchall()]
    assert mine == [2, 5]  # priority 2 first
    assert theirs == [1, 4]  # the locked rows skipped: the next best ones
