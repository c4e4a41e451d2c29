"""Memory under repeated load: does the server's memory level off, or does it leak?

A real `audiograb serve` in a child process runs 10 rounds of 100 jobs (short tones from a
loopback media server, remuxed), each job followed by 2 SSE streams (200 per round) to its end.
The child runs with tracemalloc on and answers SIGUSR1 by dumping a snapshot and reporting its
RSS before and after `malloc_trim(0)` (glibc handing its free pages back). After every round
the bench prints the server's RSS, that RSS after the trim, and the memory Python has allocated
(traced); at the end it compares the last round's snapshot with the second one (the first warms
caches up: yt-dlp's extractors, SQLite's pages) and lists where the Python heap grew. Litestar's
route cache (1,024 paths, one per job URL) is filled before the first round: it would otherwise
grow by about 100 KiB a round until round 10 and then stop, which reads as a slow leak.

Pass: over the last five rounds the traced memory (after a full garbage collection) grows
less than `LEAK_PER_ROUND` a round, by least squares (a leak of even 1 KiB a job would show
as 100 KiB a round).

What it found (issue 20, a 2-core machine shared with other work): nothing leaks. With the
route cache full and a collection before each snapshot, the Python heap went 16.1 -> 16.6 MB over
10 rounds (+24 KiB a round at the end: regex and yt-dlp caches, bounded). Without any trimming
RSS climbed 357 -> 496 MB over 7 rounds and then levelled off (498, 501, 505 MB); that excess
is memory the worker threads freed and glibc's per-thread arenas kept, so `serve` now hands it
back every minute (`audiograb/server/memory.py`): RSS 342-382 MB a round, 312-337 MB right
after a trim, growing about 1 MB a round by round 10.

Run with `make bench` (or `PYTHONPATH=. uv run python bench/soak_bench.py`); about 7 minutes
(`SOAK_ROUNDS` and `SOAK_JOBS` make it shorter).
"""

import ctypes
import gc
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import anyio
import httpx

from bench.api_bench import KEY, free_port, rss_bytes, server_env, submit, until_healthy
from tests.e2e.api_support import read_frames
from tests.media import make_tone
from tests.mediaserver import media_server

ROUNDS = int(os.environ.get("SOAK_ROUNDS", "10"))
JOBS_PER_ROUND = int(os.environ.get("SOAK_JOBS", "100"))
STREAMS_PER_JOB = 2
CONCURRENT_JOBS = 6
TRACE_FRAMES = 1
ROUTE_CACHE = 1100
STARTUP_DEADLINE = 180
LEAK_PER_ROUND = 64 * 1024
"""Bytes a round of traced growth, over the last rounds, still taken as levelled off."""
SNAPSHOT_ENV = "AUDIOGRAB_SOAK_SNAPSHOTS"
MB = 1024 * 1024


def serve_traced() -> None:
    """The child: `audiograb serve` with tracemalloc on, dumping a snapshot on SIGUSR1."""
    tracemalloc.start(TRACE_FRAMES)
    folder = Path(os.environ[SNAPSHOT_ENV])
    taken = 0

    def dump(signum: int, frame: object) -> None:
        nonlocal taken
        taken += 1
        name = f"round-{taken:02d}"
        gc.collect()  # what only waits for the cycle collector is not a leak
        tracemalloc.take_snapshot().dump(str(folder / f"{name}.snapshot"))
        before = rss_bytes(os.getpid())
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed heap pages back to the system
        trimmed = f"{before} {rss_bytes(os.getpid())}"
        (folder / f"{name}.rss.part").write_text(trimmed)
        os.replace(folder / f"{name}.rss.part", folder / f"{name}.rss")

    signal.signal(signal.SIGUSR1, dump)
    from audiograb.server import main

    sys.argv = ["audiograb", "serve", "--port", sys.argv[2]]
    main()


def start_server(work: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **server_env(work, CONCURRENT_JOBS),
        "AUDIOGRAB_MIN_FREE_DISK_MB": "0",
        SNAPSHOT_ENV: str(work / "snapshots"),
    }
    (work / "snapshots").mkdir()
    command = [sys.executable, __file__, "--serve", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def fill_route_cache(http: httpx.AsyncClient) -> None:
    """Look up `ROUTE_CACHE` distinct job paths, so Litestar's route cache (an LRU of 1,024
    paths, one entry per job URL) is full before the first round instead of filling during
    the first ten: bounded growth, but it would read as a slow leak."""
    async with anyio.create_task_group() as tasks:
        for batch in range(0, ROUTE_CACHE, 100):

            async def look_up(first: int = batch) -> None:
                for number in range(first, first + 100):
                    await http.get(f"/api/jobs/warm-up-{number}")

            tasks.start_soon(look_up)


async def follow(http: httpx.AsyncClient, job_id: str, late: list[str]) -> str:
    """Read one job's event stream to its end; the last event's type.

    A job the server has answered for may not be readable at once: under this load its
    `job.submitted` can wait in the journal's mailbox for seconds. Such a stream asks again
    (and is counted in `late`).
    """
    with anyio.fail_after(STARTUP_DEADLINE):
        while True:
            async with http.stream("GET", f"/api/jobs/{job_id}/events") as response:
                if response.status_code == 404:
                    late.append(job_id)
                    await anyio.sleep(0.5)
                    continue
                if response.status_code != 200:
                    await response.aread()
                    return f"HTTP {response.status_code}: {response.text[:200]}"
                last = ""
                async for frame in read_frames(response):
                    if frame.event:
                        last = frame.event
                return last


async def one_job(http: httpx.AsyncClient, url: str, ends: list[str], late: list[str]) -> None:
    job_id = await submit(http, url)
    async with anyio.create_task_group() as tasks:
        for _ in range(STREAMS_PER_JOB):

            async def stream() -> None:
                ends.append(await follow(http, job_id, late))

            tasks.start_soon(stream)


async def one_round(http: httpx.AsyncClient, url: str) -> tuple[float, int]:
    """Run a round's jobs, all submitted at once; the seconds it took and the streams that had
    to wait for their job to be readable. Every job must complete."""
    ends: list[str] = []
    late: list[str] = []
    started = time.perf_counter()
    with anyio.fail_after(600):
        async with anyio.create_task_group() as tasks:
            for _ in range(JOBS_PER_ROUND):
                tasks.start_soon(one_job, http, url, ends, late)
    failed = [end for end in ends if end != "job.completed"]
    if len(ends) != JOBS_PER_ROUND * STREAMS_PER_JOB or failed:
        raise SystemExit(f"{len(failed)} streams did not end in job.completed: {failed[:3]}")
    return time.perf_counter() - started, len(set(late))


async def snapshot(
    server: subprocess.Popen[bytes], folder: Path, round_: int
) -> tuple[Path, int, int]:
    """Ask the server for its tracemalloc snapshot, and its RSS before and after it handed
    its freed heap pages back (`malloc_trim`); wait until they are written."""
    done = folder / f"round-{round_:02d}.rss"
    server.send_signal(signal.SIGUSR1)
    with anyio.fail_after(120):
        while not done.exists():  # noqa: ASYNC110  # another process writes it: nothing to wait on
            await anyio.sleep(0.1)
    before, after = (int(value) for value in done.read_text().split())
    return folder / f"round-{round_:02d}.snapshot", before, after


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        make_tone(work / "media" / "tone.m4a", seconds=2.0, format="m4a")
        port = free_port()
        server = start_server(work, port)
        # Idle connections are dropped before uvicorn's own 5 s keep-alive runs out, so that no
        # request goes out on a connection the server is closing at that moment.
        limits = httpx.Limits(
            max_connections=JOBS_PER_ROUND * STREAMS_PER_JOB + 50, keepalive_expiry=2.0
        )
        rows: list[tuple[int, float, int, int]] = []
        snapshots: list[Path] = []
        try:
            with media_server(work / "media") as media:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}",
                    headers={"X-API-Key": KEY},
                    limits=limits,
                    timeout=120,
                ) as http:
                    await until_healthy(http, STARTUP_DEADLINE)  # tracing slows its start
                    await fill_route_cache(http)
                    for round_ in range(1, ROUNDS + 1):
                        seconds, late = await one_round(http, media.url("tone.m4a"))
                        path, rss, trimmed = await snapshot(server, work / "snapshots", round_)
                        snapshots.append(path)
                        traced = traced_bytes(path)
                        rows.append((round_, seconds, rss, traced))
                        print(
                            f"round {round_:2d}: {JOBS_PER_ROUND} jobs, "
                            f"{JOBS_PER_ROUND * STREAMS_PER_JOB} SSE streams in {seconds:5.1f} s; "
                            f"server RSS {rss / MB:6.1f} MB ({trimmed / MB:6.1f} MB after "
                            f"malloc_trim), Python heap (traced) {traced / MB:6.2f} MB"
                            + (f"; {late} jobs readable only after a wait" if late else ""),
                            flush=True,
                        )
                    growth = top_growth(snapshots[min(1, len(snapshots) - 1)], snapshots[-1])
        finally:
            server.terminate()
            server.wait(timeout=60)
    report(rows, growth)


def traced_bytes(path: Path) -> int:
    """What the snapshot at `path` holds in all."""
    return sum(stat.size for stat in tracemalloc.Snapshot.load(str(path)).statistics("filename"))


def top_growth(first: Path, last: Path, limit: int = 8) -> list[str]:
    """Where the traced memory grew most between two snapshots, by allocating line."""
    old = tracemalloc.Snapshot.load(str(first))
    new = tracemalloc.Snapshot.load(str(last))
    lines = []
    for stat in new.compare_to(old, "lineno")[:limit]:
        frame = stat.traceback[0]
        lines.append(
            f"    {stat.size_diff / 1024:+8.1f} KiB {stat.count_diff:+6d} blocks  "
            f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
        )
    return lines


def slope(points: list[tuple[int, int]]) -> float:
    """The least-squares growth per round of `(round, bytes)` points."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points) or 1.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def report(rows: list[tuple[int, float, int, int]], growth: list[str]) -> None:
    tail = rows[len(rows) // 2 :]
    per_round = slope([(round_, traced) for round_, _, _, traced in tail])
    rss_per_round = slope([(round_, rss) for round_, _, rss, _ in tail])
    print(f"largest growth of the Python heap, round 2 to round {rows[-1][0]}:")
    print("\n".join(growth))
    print(
        f"over rounds {tail[0][0]}-{tail[-1][0]} (least squares): Python heap "
        f"{per_round / 1024:+.1f} KiB a round, RSS {rss_per_round / 1024:+.1f} KiB a round; "
        f"goal under {LEAK_PER_ROUND / 1024:.0f} KiB a round: "
        + ("met (levelled off)" if per_round < LEAK_PER_ROUND else "MISSED (still growing)")
    )
    if per_round >= LEAK_PER_ROUND:
        raise SystemExit(1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve_traced()
    else:
        anyio.run(main)
