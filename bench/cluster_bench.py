"""Several nodes on one PostgreSQL: throughput of 1, 2 and 4 nodes, claim-to-start latency, and
submit-to-started on PostgreSQL against SQLite.

Run with ``PYTHONPATH=. uv run python bench/cluster_bench.py`` (it starts its own PostgreSQL,
like the tests: Debian's `postgresql-15`). Every figure comes with a baseline from the same run:

* **Throughput.** `JOBS` downloads, each of its own file from a loopback media server paced
  to `PACE` bytes per second (so a job takes about `JOB_SECONDS`, waiting on the network, not
  the CPU), all submitted at once to one node; 1, 2 and 4 nodes (`open_audiograb(serve=True)`
  each with its own data folder, one job at a time, one shared PostgreSQL database) run them.
  Jobs per second against one node. Goals: at least 1.8x with 2 nodes and 3.2x with 4.
* **Claim to start.** From the moment a node's slot frees (its job's `job.completed`; for its
  first job, the submit) to the `job.state downloading` of the next job it runs, read from the
  event log of the 4-node run (each row names its writer): what the wake-up (`NOTIFY`), the
  claim transaction and the start cost. p50 and p99, printed for the record.
* **Submit to started.** One serving node, `submit` until the job's first `job.state`, on
  PostgreSQL and on SQLite (queue_bench's `store_backed`). The p99 of PostgreSQL against
  SQLite's, printed for the record (PostgreSQL goes over loopback TCP where SQLite reads a
  local file).

Exits non-zero when a throughput goal is missed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import anyio

from audiograb.config import Settings, load_settings
from audiograb.domain import JobCompleted, JobRequest, JobState, JobStateChanged, decode_event
from audiograb.pipeline import Audiograb, open_audiograb
from audiograb.store import open_store
from bench.queue_bench import percentile, store_backed
from tests.media import make_tone
from tests.mediaserver import MediaServer, media_server
from tests.pgserver import PgServer, postgres_server

JOBS = 16
JOB_SECONDS = 2.0
NODE_COUNTS = (1, 2, 4)
SAMPLES = 60
GOALS = {2: 1.8, 4: 3.2}


def node_settings(root: Path, database_url: str | None) -> Settings:
    return load_settings(
        environ={},
        data_dir=root / "data",
        output_dir=root / "out",
        database_url=database_url,
        allow_private_networks=True,
        max_concurrent_jobs=1,
        retry_limit=0,
    )


async def run_jobs(
    pg: PgServer, media: MediaServer, names: list[str], root: Path, nodes: int
) -> tuple[float, list[float]]:
    """Seconds for `nodes` nodes to finish every job, and each job's slot-free-to-start time."""
    url = pg.create_database()
    async with anyio.create_task_group() as tg:
        opened: list[Audiograb] = []
        ready = anyio.Event()
        finished = anyio.Event()

        async def node(index: int) -> None:
            settings = node_settings(root / f"n{nodes}-{index}", url)
            async with open_audiograb(settings, serve=True) as ag:
                opened.append(ag)
                if len(opened) == nodes:
                    ready.set()
                await finished.wait()

        for index in range(nodes):
            tg.start_soon(node, index)
        await ready.wait()
        first = opened[0]
        submitted_at = time.time()
        started = time.perf_counter()
        jobs = [await first.submit(JobRequest(url=media.url(name))) for name in names]
        for job in jobs:
            done = await first.wait(job.id)
            assert done.state is JobState.COMPLETED, done.error
        elapsed = time.perf_counter() - started
        finished.set()
    return elapsed, await slot_waits(url, submitted_at)


async def slot_waits(url: str, submitted_at: float) -> list[float]:
    """For each job start, the seconds since its node's slot freed: the node's previous
    `job.completed` (every event row names the node that wrote it), or the submit for a
    node's first job. The queue never ran empty before the last start, so this is what the
    wake-up, the claim and the start cost."""
    async with open_store(url) as store:
        rows = await store.read(
            "SELECT writer, data FROM job_events "
            "WHERE type IN ('job.state', 'job.completed') ORDER BY id"
        )
    freed: dict[str, float] = {}
    waits: list[float] = []
    for row in rows:
        writer, event = str(row["writer"]), decode_event(row["data"])
        if isinstance(event, JobCompleted):
            freed[writer] = event.at
        elif isinstance(event, JobStateChanged) and event.state is JobState.DOWNLOADING:
            waits.append(event.at - freed.get(writer, submitted_at))
    return waits


async def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    try:
        media_root = root / "media"
        tone = make_tone(media_root / "tone0.m4a", seconds=3.0, format="m4a")
        names = [f"tone{index}.m4a" for index in range(JOBS)]
        for name in names[1:]:
            shutil.copy(tone, media_root / name)
        pace = tone.stat().st_size / JOB_SECONDS
        with postgres_server() as pg, media_server(media_root) as media:
            for name in names:
                media.slow(name, bytes_per_second=pace)
            rates: dict[int, float] = {}
            latencies: list[float] = []
            for nodes in NODE_COUNTS:
                elapsed, waits = await run_jobs(pg, media, names, root, nodes)
                rates[nodes] = JOBS / elapsed
                latencies = waits
                rate = f"{rates[nodes]:.2f} jobs/s"
                print(f"{nodes} node(s): {JOBS} jobs in {elapsed:.2f} s, {rate}")
            missed = False
            for nodes, goal in GOALS.items():
                ratio = rates[nodes] / rates[1]
                ok = ratio >= goal
                missed = missed or not ok
                verdict = "ok" if ok else "MISSED"
                print(f"throughput {nodes} nodes vs 1: {ratio:.2f}x (goal >= {goal}x) {verdict}")
            print(
                f"claim to start, 4 nodes: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
            )
            on_pg = await store_backed(
                root / "pg", database_url=pg.create_database(), count=SAMPLES
            )
            on_sqlite = await store_backed(root / "sqlite", count=SAMPLES)
        pg99, lite99 = percentile(on_pg, 0.99), percentile(on_sqlite, 0.99)
        pg50, lite50 = percentile(on_pg, 0.5), percentile(on_sqlite, 0.5)
        print(
            f"submit to started p99: PostgreSQL {pg99 * 1000:.1f} ms, SQLite {lite99 * 1000:.1f} "
            f"ms ({pg99 / lite99:.2f}x); p50 {pg50 * 1000:.1f} ms vs {lite50 * 1000:.1f} ms"
        )
        return 1 if missed else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(anyio.run(main))
