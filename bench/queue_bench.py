"""The job queue in the store: submit-to-start latency, and a claim with 10,000 jobs waiting.

Run with ``uv run python bench/queue_bench.py``. Machines are noisy, so every figure comes with a
baseline measured in the same run:

* **Submit to started.** A serving `open_audiograb(serve=True)`: `Audiograb.submit` until the
  job's first `job.state` (it left the queue for work) is stored, through the store-backed
  queue (the job stored unowned, the scheduler poked, a claim transaction, the state change
  fenced by the lease). The baseline is the in-memory queue AudioGrab had before: the same two
  stored writes (`job.submitted`, then the `job.state`) with the job passed between them
  through an in-memory heap, as the old scheduler did.
* **Submitted elsewhere.** A second instance on the same data folder that runs nothing
  (`run_submitted=False`, as `batch --no-wait`) submits; the serving one notices through the
  wake-up watcher (`wake_interval`, 0.1 s) and starts the job. Shown beside the first figure.
* **Cancel from another instance.** A serving instance downloads (slowly, from a loopback
  server); a second instance on the data folder cancels: seconds until `cancel` returns with
  the job recorded cancelled by its owner, against a cancel from the owning instance itself.
* **Claim with 10,000 waiting jobs.** `JobQueue.claim` of one job, with one of four platforms
  at its limit, on a store holding 10,000 waiting jobs, against the same on 1,000 jobs
  (growth) and against a bare `append_event` (one write transaction).

Goals: the store-backed p99 under 20x the in-memory p99 (it makes about seven round trips
to SQLite where the in-memory queue made two); a claim on 10,000 jobs under 3x its
cost on 1,000 (linear would be 10x) and under 10x a bare write transaction.
Exits non-zero when a goal is missed.
"""

from __future__ import annotations

import heapq
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import msgspec

from audiograb.config import load_settings
from audiograb.domain import Job, JobRequest, JobState, JobStateChanged, JobSubmitted
from audiograb.pipeline import Audiograb, open_audiograb
from audiograb.store import JobQueue, JobStore, open_store
from tests.media import make_tone
from tests.mediaserver import media_server

WAITING = 10_000
SAMPLES = 200
P99_GOAL = 20.0
GROWTH_GOAL = 3.0
CLAIM_GOAL = 10.0
PLATFORMS = ("generic", "youtube", "x_spaces", "podcasts")
CANCELS = 10


def make_job(index: int, rng: random.Random) -> Job:
    return Job(
        id=f"job{index}",
        request=JobRequest(url=f"https://example.com/{index}", priority=rng.randint(1, 10)),
        platform=rng.choice(PLATFORMS),
        created_at=float(index),
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def store_backed(
    root: Path, *, database_url: str | None = None, count: int = SAMPLES
) -> list[float]:
    """Seconds from `submit` until the job's first `job.state` is stored, serving process
    (on SQLite in `root`, or on PostgreSQL at `database_url`; cluster_bench uses both)."""
    settings = load_settings(
        environ={},
        data_dir=root,
        database_url=database_url,
        allow_private_networks=True,
        retry_limit=0,
    )
    samples: list[float] = []
    cursor = 0
    async with open_audiograb(settings, serve=True) as ag:
        for index in range(count):
            async with ag.subscribe(after=cursor) as events:
                submitted = time.perf_counter()
                job = await ag.submit(JobRequest(url=f"http://127.0.0.1:9/{index}.mp3"))
                async for recorded in events:
                    event = recorded.event
                    cursor = recorded.id
                    if isinstance(event, JobStateChanged) and event.job_id == job.id:
                        samples.append(time.perf_counter() - submitted)
                        break
            await ag.wait(job.id)
    return samples


async def submitted_elsewhere(root: Path) -> list[float]:
    """Seconds from a submit in a non-running instance until the serving one starts the job."""
    settings = load_settings(environ={}, data_dir=root, allow_private_networks=True, retry_limit=0)
    samples: list[float] = []
    cursor = 0
    async with (
        open_audiograb(settings, serve=True) as server,
        open_audiograb(settings, run_submitted=False) as client,
    ):
        for index in range(SAMPLES // 4):
            async with server.subscribe(after=cursor) as events:
                submitted = time.perf_counter()
                job = await client.submit(JobRequest(url=f"http://127.0.0.1:9/{index}.mp3"))
                async for recorded in events:
                    cursor = recorded.id
                    event = recorded.event
                    if isinstance(event, JobStateChanged) and event.job_id == job.id:
                        samples.append(time.perf_counter() - submitted)
                        break
            await server.wait(job.id)
    return samples


async def cancel_latency(root: Path) -> tuple[list[float], list[float]]:
    """Seconds for `cancel` of a running job: from another instance, and from its owner."""
    make_tone(root / "media" / "long.m4a", seconds=30.0, format="m4a")
    settings = load_settings(environ={}, data_dir=root / "data", allow_private_networks=True)
    elsewhere: list[float] = []
    here: list[float] = []
    with media_server(root / "media") as server:
        server.slow("/long.m4a", bytes_per_second=20_000)
        async with (
            open_audiograb(settings, serve=True) as owner,
            open_audiograb(settings, run_submitted=False) as other,
        ):
            for canceller, samples in [(other, elsewhere), (owner, here)] * (CANCELS // 2):
                job = await owner.submit(JobRequest(url=server.url("long.m4a")))
                await until_started(owner, job.id)
                started = time.perf_counter()
                cancelled = await canceller.cancel(job.id)
                samples.append(time.perf_counter() - started)
                assert cancelled.state is JobState.CANCELLED
    return elsewhere, here


async def until_started(ag: Audiograb, job_id: str) -> None:
    async with ag.subscribe(job_id) as events:
        async for recorded in events:
            if getattr(recorded.event, "state", None) is JobState.DOWNLOADING:
                return


async def in_memory(root: Path) -> list[float]:
    """The same two stored writes with the job passed through an in-memory heap between them."""
    samples: list[float] = []
    heap: list[tuple[int, float, str, Job]] = []
    async with open_store(root / "memory.sqlite3") as store:
        for index in range(SAMPLES):
            job = Job(id=f"m{index}", request=JobRequest(url="https://e.com"), platform="g")
            submitted = time.perf_counter()
            event = JobSubmitted(job_id=job.id, request=job.request, platform=job.platform)
            await store.append_event(event, job=job)
            heapq.heappush(heap, (-job.request.priority, job.created_at, job.id, job))
            taken = heapq.heappop(heap)[3]
            working = msgspec.structs.replace(taken, state=JobState.DOWNLOADING)
            moved = JobStateChanged(
                job_id=job.id, state=JobState.DOWNLOADING, previous=JobState.QUEUED
            )
            await store.append_event(moved, job=working)
            samples.append(time.perf_counter() - submitted)
    return samples


async def fill(store: JobStore, size: int) -> None:
    rng = random.Random(size)
    for index in range(size):
        job = make_job(index, rng)
        event = JobSubmitted(job_id=job.id, request=job.request, platform=job.platform)
        await store.append_event(event, job=job)


async def claim_latency(root: Path, size: int) -> float:
    """Median seconds to claim one job with `size` waiting and one platform at its limit."""
    async with open_store(root / f"claim-{size}.sqlite3") as store:
        await fill(store, size)
        queue = JobQueue(store)
        full = {"youtube": 0}
        samples = []
        for _ in range(SAMPLES):
            started = time.perf_counter()
            claimed = await queue.claim(count=1, now=time.time(), platform_limits=full)
            samples.append(time.perf_counter() - started)
            assert claimed[0].job.platform != "youtube"
            await queue.release_all()  # back to waiting: the queue keeps its size
    return statistics.median(samples)


async def bare_append(root: Path) -> float:
    """Median seconds of one `append_event` that saves a job (one write transaction)."""
    samples = []
    async with open_store(root / "bare.sqlite3") as store:
        for index in range(SAMPLES):
            job = Job(id=f"b{index}", request=JobRequest(url="https://e.com"), platform="g")
            started = time.perf_counter()
            event = JobSubmitted(job_id=job.id, request=job.request, platform="g")
            await store.append_event(event, job=job)
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def measure() -> int:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = await store_backed(root / "served")
        elsewhere = await submitted_elsewhere(root / "elsewhere")
        cancel_elsewhere, cancel_here = await cancel_latency(root / "cancel")
        memory = await in_memory(root)
        many = await claim_latency(root, WAITING)
        few = await claim_latency(root, WAITING // 10)
        append = await bare_append(root)
    failed = False
    p99, base = percentile(store, 0.99), percentile(memory, 0.99)
    print(
        f"submit -> started, store-backed queue: p50 {percentile(store, 0.5) * 1e3:.2f} ms, "
        f"p99 {p99 * 1e3:.2f} ms"
    )
    print(
        f"submit -> started, in-memory baseline: p50 {percentile(memory, 0.5) * 1e3:.2f} ms, "
        f"p99 {base * 1e3:.2f} ms  (store-backed p99 {p99 / base:.1f}x)"
    )
    failed |= p99 / base > P99_GOAL
    print(
        f"submit -> started, submitted by another instance: "
        f"p50 {percentile(elsewhere, 0.5) * 1e3:.2f} ms, "
        f"p99 {percentile(elsewhere, 0.99) * 1e3:.2f} ms (wake-up poll every 100 ms)"
    )
    print(
        f"cancel a running job from another instance: p50 "
        f"{statistics.median(cancel_elsewhere) * 1e3:.0f} ms, max {max(cancel_elsewhere) * 1e3:.0f}"
        f" ms (from its owner: p50 {statistics.median(cancel_here) * 1e3:.0f} ms)"
    )
    print(
        f"claim one of {WAITING} waiting:  {many * 1e3:.2f} ms  ({many / few:.1f}x the cost at "
        f"{WAITING // 10}, {many / append:.1f}x a bare append_event of {append * 1e3:.2f} ms)"
    )
    failed |= many / few > GROWTH_GOAL or many / append > CLAIM_GOAL
    if failed:
        print("a goal was missed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(anyio.run(measure))
