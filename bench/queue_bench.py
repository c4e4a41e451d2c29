"""The job queue: enqueue-to-start latency with an idle worker, and operations on 10,000 jobs.

Run with ``uv run python bench/queue_bench.py``. Machines are noisy, so every figure comes with a
baseline measured in the same run:

* **Enqueue to start.** `Enqueue` told to the real scheduler actor until the job's run begins
  (a stub runner), against one hop through a bare anyio memory stream. Then the whole path
  through the pipeline: `Audiograb.submit` until `job.started` is in the store (SQLite writes
  included), against a bare `append_event` of the store.
* **10,000 waiting jobs.** Push, take the next, cancel and re-prioritise a waiting job, and list
  the queue in order, against `heapq.heappush`/`heappop` on a list of the same size.

Goals: the scheduler hop under 25x a memory-stream hop; one queue operation on 10,000 jobs under
100x a raw (C) heap operation and under 5x its cost on 1,000 jobs (linear would be 10x);
listing 10,000 jobs in order under 50 ms.
Exits non-zero when a goal is missed.
"""

from __future__ import annotations

import heapq
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import msgspec

from actors import ChildSpec, open_actor_system
from audiograb.config import load_settings
from audiograb.domain import Job, JobRequest, JobState, JobStateChanged, JobSubmitted
from audiograb.pipeline import open_audiograb
from audiograb.pipeline.queue import WaitQueue, with_priority
from audiograb.pipeline.scheduler import Enqueue, Scheduler, Snapshot
from audiograb.store import open_store

WAITING = 10_000
SAMPLES = 300
SCHEDULER_GOAL = 25.0
OPERATION_GOAL = 100.0
GROWTH_GOAL = 5.0
LISTING_GOAL_S = 0.050
PLATFORMS = ("generic", "youtube", "x_spaces", "podcasts")


def make_job(index: int, rng: random.Random) -> Job:
    return Job(
        id=f"job{index}",
        request=JobRequest(url=f"https://example.com/{index}", priority=rng.randint(1, 10)),
        platform=rng.choice(PLATFORMS),
        created_at=float(index),
    )


class StubRunner:
    """Stands in for `JobRunner`: a run starts, notes the time, and ends at once."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.event = anyio.Event()

    async def run(self, job: Job, *, cancelled_by_user: Any) -> Job:
        self.started[job.id] = time.perf_counter()
        self.event.set()
        return msgspec.structs.replace(job, state=JobState.COMPLETED)  # QUEUED would be a retry

    async def record(self, event: Any, job: Job | None = None) -> None:
        return None


async def stream_hop() -> float:
    """Median seconds for one item through a memory object stream to a waiting receiver."""
    send, receive = anyio.create_memory_object_stream[float](1)
    samples: list[float] = []
    async with anyio.create_task_group() as tasks, send, receive:

        async def consume() -> None:
            async for sent in receive:
                samples.append(time.perf_counter() - sent)

        tasks.start_soon(consume)
        for _ in range(SAMPLES):
            await send.send(time.perf_counter())
            await anyio.lowlevel.checkpoint()
            await anyio.lowlevel.checkpoint()
        tasks.cancel_scope.cancel()
    return statistics.median(samples)


async def scheduler_hop() -> float:
    """Median seconds from telling `Enqueue` to an idle scheduler until the job's run starts."""
    runner = StubRunner()
    rng = random.Random(1)
    samples = []
    async with open_actor_system(grace=5) as system:
        scheduler = await system.spawn(
            ChildSpec(name="scheduler", factory=lambda: Scheduler(runner, 1), mailbox_size=256)  # type: ignore[arg-type]
        )
        for index in range(SAMPLES):
            runner.event = anyio.Event()
            job = make_job(index, rng)
            told = time.perf_counter()
            await scheduler.tell(Enqueue(job=job))
            await runner.event.wait()
            samples.append(runner.started[job.id] - told)
    return statistics.median(samples)


async def pipeline_latency() -> tuple[float, float, float]:
    """p50 and p99 seconds from `submit` to `job.started` stored; and a bare append's median."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = load_settings(
            environ={}, data_dir=root, allow_private_networks=True, retry_limit=0
        )
        samples: list[float] = []
        async with open_audiograb(settings) as ag:
            for index in range(SAMPLES // 3):
                async with ag.subscribe() as events:
                    submitted = time.perf_counter()
                    job = await ag.submit(JobRequest(url=f"http://127.0.0.1:9/{index}.mp3"))
                    async for recorded in events:
                        event = recorded.event
                        if isinstance(event, JobStateChanged) and event.job_id == job.id:
                            samples.append(time.perf_counter() - submitted)
                            break
                await ag.wait(job.id)
        appends = []
        async with open_store(root / "bare.sqlite3") as store:
            for index in range(SAMPLES // 3):
                job = Job(id=f"b{index}", request=JobRequest(url="https://e.com"), platform="g")
                started = time.perf_counter()
                await store.append_event(
                    JobSubmitted(job_id=job.id, request=job.request, platform="g"), job=job
                )
                appends.append(time.perf_counter() - started)
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)], statistics.median(appends)


def heap_operation() -> float:
    """Seconds for one push plus one pop on a heap of WAITING entries."""
    rng = random.Random(2)
    heap = [(rng.random(), index) for index in range(WAITING)]
    heapq.heapify(heap)
    started = time.perf_counter()
    for index in range(SAMPLES):
        heapq.heappush(heap, (rng.random(), -index))
        heapq.heappop(heap)
    return (time.perf_counter() - started) / SAMPLES


def queue_operations(size: int) -> dict[str, float]:
    """Seconds per operation on a `WaitQueue` holding `size` jobs."""
    rng = random.Random(3)
    queue = WaitQueue()
    for index in range(size):
        queue.push(make_job(index, rng))
    extra = [make_job(size + index, rng) for index in range(SAMPLES)]
    ids = [f"job{rng.randrange(size)}" for _ in range(SAMPLES)]
    results = {}
    started = time.perf_counter()
    for job in extra:
        queue.push(job)
    results["push"] = (time.perf_counter() - started) / SAMPLES
    started = time.perf_counter()
    for job_id in dict.fromkeys(ids):
        found = queue.get(job_id)
        if found is not None:
            queue.replace(with_priority(found, rng.randint(1, 10)))
    results["change priority"] = (time.perf_counter() - started) / len(dict.fromkeys(ids))
    started = time.perf_counter()
    for _ in range(SAMPLES):
        queue.pop_next(lambda platform: platform != "youtube")
    results["take next (one platform full)"] = (time.perf_counter() - started) / SAMPLES
    started = time.perf_counter()
    for job_id in ids:
        queue.remove(job_id)
    results["cancel waiting"] = (time.perf_counter() - started) / SAMPLES
    started = time.perf_counter()
    queue.ordered()
    results["list in order"] = time.perf_counter() - started
    return results


async def snapshot_of_many() -> float:
    """Seconds to ask the scheduler actor for the queue while WAITING jobs wait."""
    runner = StubRunner()
    rng = random.Random(4)
    async with open_actor_system(grace=5) as system:
        scheduler = await system.spawn(
            ChildSpec(
                name="scheduler",
                factory=lambda: Scheduler(runner, 1, platform_limits={p: 0 for p in PLATFORMS}),  # type: ignore[arg-type]
                mailbox_size=256,
            )
        )
        for index in range(WAITING):
            await scheduler.tell(Enqueue(job=make_job(index, rng)))
        started = time.perf_counter()
        snapshot = await scheduler.ask(lambda reply: Snapshot(reply=reply), timeout=None)
        took = time.perf_counter() - started
    assert len(snapshot.waiting) == WAITING, len(snapshot.waiting)
    return took


def min_of(measure: Callable[[], dict[str, float]], repeats: int = 3) -> dict[str, float]:
    """The best of a few runs, per operation."""
    runs = [measure() for _ in range(repeats)]
    return {name: min(run[name] for run in runs) for name in runs[0]}


def main() -> int:
    stream = anyio.run(stream_hop)
    hop = anyio.run(scheduler_hop)
    p50, p99, append = anyio.run(pipeline_latency)
    heap = heap_operation()
    operations = min_of(lambda: queue_operations(WAITING))
    small = min_of(lambda: queue_operations(WAITING // 10))
    snapshot = anyio.run(snapshot_of_many)
    failed = False
    ratio = hop / stream
    print(f"enqueue -> start, scheduler actor: {hop * 1e6:8.1f} us  ({ratio:.1f}x a stream hop)")
    failed |= ratio > SCHEDULER_GOAL
    print(
        f"submit -> job.started stored:      p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms "
        f"({p50 / append:.1f}x a bare append_event of {append * 1e3:.2f} ms)"
    )
    print(f"raw heap push+pop on {WAITING}:        {heap * 1e6:8.2f} us")
    for name, seconds in operations.items():
        if name == "list in order":
            print(f"{name} of {WAITING}:              {seconds * 1e3:8.2f} ms")
            failed |= seconds > LISTING_GOAL_S
            continue
        ratio = seconds / heap
        growth = seconds / small[name]
        print(
            f"{name:<30} {seconds * 1e6:8.2f} us  ({ratio:.1f}x raw heap, "
            f"{growth:.1f}x the cost at {WAITING // 10})"
        )
        failed |= ratio > OPERATION_GOAL or growth > GROWTH_GOAL
    print(f"GET /api/queue snapshot of {WAITING}:   {snapshot * 1e3:8.2f} ms")
    failed |= snapshot > LISTING_GOAL_S * 2
    if failed:
        print("a goal was missed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
