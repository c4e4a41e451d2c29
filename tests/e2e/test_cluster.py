"""Two `audiograb serve` nodes on one PostgreSQL and one S3 store: node A is SIGKILLed
mid-download and node B finishes the job, exactly once; B's event stream shows A's events and
its own, and a stream read on A resumes on B with `Last-Event-ID`."""

import contextlib
import os
import secrets
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import msgspec
import obstore
import pytest
from anyio.abc import Process

from tests.e2e.api_support import (
    API_KEY,
    SseFrame,
    frames_of,
    frames_until_progress,
    read_frames,
)
from tests.mediaserver import MediaServer
from tests.pgserver import PgServer
from tests.s3server import S3Server
from tests.servers import free_ports
from tests.webhookreceiver import WebhookReceiver, webhook_receiver

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

BIN = Path(sys.executable).parent
HEADERS = {"X-API-Key": API_KEY}


@asynccontextmanager
async def node(
    env: dict[str, str], folder: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Process]]:
    """A real `audiograb serve` process with its own data folder; an HTTP client of it."""
    [port] = free_ports(1)
    node_env = {
        **os.environ,
        **env,
        "AUDIOGRAB_DATA_DIR": str(folder / "data"),
        "AUDIOGRAB_OUTPUT_DIR": str(folder / "out"),
    }
    argv = [str(BIN / "audiograb"), "serve", "--port", str(port)]
    async with await anyio.open_process(argv, env=node_env, stdout=None, stderr=None) as process:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=30) as http:
            try:
                with anyio.fail_after(60):
                    while True:
                        with contextlib.suppress(httpx.TransportError):
                            if (await http.get("/api/health")).status_code == 200:
                                break
                        await anyio.sleep(0.1)
                yield http, process
            finally:
                if process.returncode is None:
                    process.terminate()
                with anyio.move_on_after(30):
                    await process.wait()
                if process.returncode is None:
                    process.kill()


def event_of(frame: SseFrame) -> dict[str, object]:
    decoded: dict[str, object] = msgspec.json.decode(frame.data)
    return decoded


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


async def test_a_node_killed_mid_download_another_finishes_the_job_once(
    postgres: PgServer,
    s3: S3Server,
    server: MediaServer,
    hooks: WebhookReceiver,
    tmp_path: Path,
) -> None:
    prefix = "cluster-" + secrets.token_hex(4)
    env = {
        "AUDIOGRAB_DATABASE_URL": postgres.create_database(),
        "AUDIOGRAB_STORAGE_URL": s3.url(prefix),
        "AUDIOGRAB_STORAGE_ACCESS_KEY_ID": s3.access_key_id,
        "AUDIOGRAB_STORAGE_SECRET_ACCESS_KEY": s3.secret_access_key,
        "AUDIOGRAB_API_KEYS": API_KEY,
        "AUDIOGRAB_ALLOW_PRIVATE_NETWORKS": "true",
        "AUDIOGRAB_LEASE_SECONDS": "3",
        "AUDIOGRAB_MAX_CONCURRENT_JOBS": "1",
        "AUDIOGRAB_PROGRESS_INTERVAL": "0.05",
        "AUDIOGRAB_WEBHOOK_URL": hooks.url(),
    }
    server.slow("/long.m4a", bytes_per_second=100_000)
    on_b: list[SseFrame] = []
    seen = anyio.Event()
    wanted: set[str] = set()

    async def follow_all(http: httpx.AsyncClient) -> None:
        async with http.stream("GET", "/api/events", timeout=None) as response:
            async for frame in read_frames(response):
                if frame.comment is None:
                    on_b.append(frame)
                    if frame.event in wanted:
                        seen.set()

    async def until_b_sees(event: str) -> None:
        nonlocal seen
        while not any(frame.event == event for frame in on_b):
            wanted.clear()
            wanted.add(event)
            seen = anyio.Event()
            await seen.wait()

    async with (
        node(env, tmp_path / "a") as (http_a, process_a),
        node(env, tmp_path / "b") as (http_b, _),
        anyio.create_task_group() as streams,
    ):
        streams.start_soon(follow_all, http_b)
        made = await http_a.post(
            "/api/downloads", json={"url": server.url("long.m4a"), "format": "m4a"}
        )
        assert made.status_code in (200, 201, 202), made.text
        job_id = str(made.json()["id"])
        path = f"/api/jobs/{job_id}/events"
        first = await frames_until_progress(http_a, path, 3)  # hang up mid-download, on A
        with anyio.fail_after(60):
            await until_b_sees("download.progress")  # A's events, relayed by B
        process_a.kill()  # SIGKILL: nothing of A's shutdown runs
        await process_a.wait()
        server.slow("/long.m4a", bytes_per_second=None)
        with anyio.fail_after(120):
            await until_b_sees("job.completed")
            await hooks.wait_until(
                lambda got: any(b'"job.completed"' in r.body for r in got), within=60
            )
        rest = await frames_of(http_b, path, headers={"Last-Event-ID": str(first[-1].id)})
        everything = await frames_of(http_b, path)
        file = await http_b.get(f"/api/jobs/{job_id}/file")
        streams.cancel_scope.cancel()

    # Last-Event-ID from A's stream resumes on B with no gap and no repeat.
    assert [(f.id, f.data) for f in first + rest] == [(f.id, f.data) for f in everything]
    log = [event_of(f) for f in everything]
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert sum(f.event == "job.completed" for f in everything) == 1
    starts = [e for e in log if e.get("state") == "downloading"]
    assert len(starts) == 2  # started by A, then again by B after A's lease lapsed
    # B's all-jobs stream, opened before the kill, shows every event of the job once, in
    # order: A's (relayed from the table by B's watcher) and then B's own.
    assert [f.data for f in on_b if event_of(f).get("job_id") == job_id] == [
        f.data for f in everything
    ]
    # One output object, served by the surviving node.
    keys = [meta["path"] for batch in obstore.list(s3.store(prefix)) for meta in batch]
    assert keys == [f"{job_id}.m4a"]
    assert file.status_code == 200
    # Each webhook message delivered once per id.
    ids = Counter(r.headers["webhook-id"] for r in hooks.received if r.status == 200)
    assert ids
    assert max(ids.values()) == 1
