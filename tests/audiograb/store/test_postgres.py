"""What only the PostgreSQL store does: versioned migrations on a shared server, nodes claiming
at once (SKIP LOCKED, limits across nodes), event ids in commit order for cursors, leases on
the server's clock, NOTIFY as a wake-up, and a schedule tick or webhook message taken by one
node of several trying at once."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import anyio
import anyio.lowlevel
import psycopg
import pytest

from audiograb.domain import DownloadProgress, DownloadProgressed, Job, JobRequest, JobSubmitted
from audiograb.store import (
    JobQueue,
    JobStore,
    Schedule,
    ScheduleStore,
    SchemaVersionError,
    Transaction,
    WebhookStore,
    open_store,
)
from audiograb.store.postgres import PG_MIGRATIONS, PgJobStore, translate
from tests.databases import raw_rows
from tests.pgserver import PgServer

pytestmark = pytest.mark.anyio

NODES = 4


@pytest.fixture
def url(postgres: PgServer) -> str:
    return postgres.create_database()


@pytest.fixture
async def nodes(url: str) -> AsyncIterator[list[JobStore]]:
    """Four nodes on one database, opened at once (they migrate it together)."""
    stores: list[JobStore] = []
    async with AsyncExitStack() as stack:

        async def node() -> None:
            stores.append(await stack.enter_async_context(open_store(url, lease_seconds=30)))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(NODES):
                    tg.start_soon(node)
        yield stores


def job(name: str, platform: str = "generic") -> Job:
    return Job(id=name, request=JobRequest(url=f"https://example.com/{name}"), platform=platform)


async def submit(store: JobStore, *jobs: Job) -> None:
    for item in jobs:
        event = JobSubmitted(job_id=item.id, request=item.request, platform=item.platform)
        await store.append_event(event, job=item)


def test_parameters_become_psycopg_placeholders_outside_literals() -> None:
    sql = "SELECT '?:x%' AS s FROM t WHERE a = ? AND b = :name AND c LIKE 'a%' AND d::text = ?"
    assert translate(sql) == (
        "SELECT '?:x%%' AS s FROM t WHERE a = %s AND b = %(name)s AND c LIKE 'a%%' AND d::text = %s"
    )


async def test_nodes_opening_at_once_migrate_once_and_newer_schemas_are_refused(
    nodes: list[JobStore], url: str
) -> None:
    assert all(isinstance(node, PgJobStore) for node in nodes)
    assert raw_rows(url, "SELECT version FROM schema_version") == [(len(PG_MIGRATIONS),)]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (len(PG_MIGRATIONS) + 1,))
    with pytest.raises(SchemaVersionError) as caught:
        async with open_store(url):
            pass
    assert caught.value.found == len(PG_MIGRATIONS) + 1


async def test_nodes_claiming_at_once_take_each_job_once_within_the_platform_limit(
    nodes: list[JobStore], url: str
) -> None:
    await submit(nodes[0], *(job(f"a{n}", "alpha") for n in range(6)))
    await submit(nodes[0], *(job(f"g{n}") for n in range(20)))
    claims: dict[str, list[str]] = {}

    async def claim(store: JobStore) -> None:
        got = await JobQueue(store).claim(count=10, now=1e12, platform_limits={"alpha": 2})
        claims[store.identity] = [claimed.job.id for claimed in got]

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for node in nodes:
                tg.start_soon(claim, node)
    taken = [job_id for ids in claims.values() for job_id in ids]
    assert len(taken) == len(set(taken))  # never one job to two nodes
    assert sum(job_id.startswith("a") for job_id in taken) == 2  # the limit over every node
    assert len(taken) == 22  # the other 20 jobs were all claimable, and all were claimed
    assert raw_rows(url, "SELECT COUNT(*) FROM jobs WHERE owner IS NULL") == [(4,)]


async def test_event_cursors_see_every_event_of_every_node_once(nodes: list[JobStore]) -> None:
    reader, writers = nodes[0], nodes[1:]
    jobs = [job(f"j{n}") for n in range(len(writers))]
    for writer, item in zip(writers, jobs, strict=True):
        await submit(writer, item)
    cursor = await reader.last_event_id()
    seen: list[tuple[str, int]] = []
    done = anyio.Event()

    async def write(store: JobStore, job_id: str) -> None:
        for n in range(30):
            progress = DownloadProgress(downloaded_bytes=n)
            await store.append_event(DownloadProgressed(job_id=job_id, progress=progress))

    async def read() -> None:
        nonlocal cursor
        while True:
            finished = done.is_set()
            cursor, events = await reader.foreign_events_after(cursor)
            seen.extend((stored.event.job_id, stored.event.seq) for stored in events)
            if finished:
                return
            await anyio.lowlevel.checkpoint()

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            async with anyio.create_task_group() as writing:
                for writer, item in zip(writers, jobs, strict=True):
                    writing.start_soon(write, writer, item.id)
            done.set()
    for item in jobs:  # in order, no gaps, no repeats, although read while being written
        assert [seq for job_id, seq in seen if job_id == item.id] == list(range(2, 32))


async def test_leases_run_on_the_server_clock(nodes: list[JobStore], url: str) -> None:
    await submit(nodes[0], job("j"))
    [claimed] = await JobQueue(nodes[1]).claim(count=1, now=1e12, platform_limits={})
    [(left,)] = raw_rows(
        url, "SELECT lease_until - extract(epoch FROM clock_timestamp())::float8 FROM jobs"
    )
    assert isinstance(left, float)
    assert 25 < left <= 30
    assert await JobQueue(nodes[2]).owner_of("j") == nodes[1].identity == claimed.lease.owner


async def test_a_notice_wakes_other_nodes_only(nodes: list[JobStore]) -> None:
    writer, watcher = nodes[0], nodes[1]
    await watcher.changed_elsewhere()
    await submit(watcher, job("own"))
    assert not await watcher.changed_elsewhere()  # its own write
    await submit(writer, job("theirs"))
    with anyio.fail_after(10):  # the notice comes at the writer's commit, over the socket
        woken = await watcher.changed_elsewhere()
        while not woken:
            await anyio.sleep(0.01)
            woken = await watcher.changed_elsewhere()
    assert not await watcher.changed_elsewhere()  # drained: the notice is only a wake-up
    _, events = await watcher.foreign_events_after(0)
    assert [stored.event.job_id for stored in events] == ["theirs"]


async def test_a_due_schedule_fires_once_and_a_message_is_tried_once_across_nodes(
    nodes: list[JobStore],
) -> None:
    request = JobRequest(url="https://example.com/daily")
    schedule = Schedule(id="s", request=request, platform="generic", run_at=100.0, created_at=1.0)
    await ScheduleStore(nodes[0]).insert(schedule)

    async def make_message(tx: Transaction) -> str:
        endpoint = await tx.endpoint("http://127.0.0.1:9/hook", 1.0)
        return await tx.add_message(endpoint_id=endpoint.id, type="t", body="{}", now=1.0)

    message_id = await nodes[0].within(make_message)
    fired: list[bool] = []
    tokens: list[str | None] = []

    async def node_tick(store: JobStore, index: int) -> None:
        async def fire(tx: Transaction) -> bool:
            return await tx.fire_schedule("s", due_at=100.0, next_run_at=160.0, job_id=f"j{index}")

        fired.append(await store.within(fire))
        tokens.append(await WebhookStore(store).claim(message_id, now=2.0, until=30.0))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for index, store in enumerate(nodes):
                tg.start_soon(node_tick, store, index)
    assert sorted(fired) == [False] * (NODES - 1) + [True]
    assert sum(token is not None for token in tokens) == 1
    moved = await ScheduleStore(nodes[1]).get("s")
    assert moved is not None
    assert (moved.runs, moved.run_at) == (1, 160.0)


async def test_a_node_whose_connections_the_server_dropped_reconnects(
    nodes: list[JobStore], url: str
) -> None:
    node, other = nodes[0], nodes[1]
    await submit(node, job("before"))
    await node.changed_elsewhere()
    with psycopg.connect(url, autocommit=True) as admin:  # as a server restart would
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    for store in (node, other):
        with pytest.raises(psycopg.OperationalError):
            await store.get_job("before")  # the call that finds the connection gone fails
        assert await store.get_job("before") is not None  # the next one reconnected
    await submit(other, job("theirs"))
    with anyio.fail_after(10):  # only a replaced listener can hear this
        woken = await node.changed_elsewhere()
        while not woken:
            await anyio.sleep(0.01)
            woken = await node.changed_elsewhere()
