"""The REST API under load: 500 SSE subscribers while 4 jobs run, and job submission latency.

The server is a real `audiograb serve` in a child process (so its memory can be read from
/proc); the media comes from a loopback server that paces its bytes so jobs run for seconds.

(a) SSE fan-out: 4 jobs, 125 subscribers on each job's event stream. Every subscriber must get
    every event of its job (the state events above all); reported: delivery latency (event
    time to client receipt) p50/p99 against a baseline of 1 subscriber on 1 job (goal: p99
    < 100 ms with 500), the CPU the server and this client spent meanwhile (with the machine's
    load: on a shared machine, waiting for a CPU is most of the latency), and the server's
    memory per subscriber (RSS growth while they are connected, divided by 500). The
    subscribers read with h11 straight off their sockets: 500 httpx streams would cost this
    client more CPU than the server spends.
(b) Submission: 200 `POST /api/downloads` one after another, p99 against `GET /api/health`
    measured the same way (goal: p99 < 50 ms), and the throughput of 10 concurrent submitters.

Run with `make bench` (or `PYTHONPATH=. uv run python bench/api_bench.py`); about a minute.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import h11
import httpx

from tests.e2e.api_support import read_frames
from tests.media import make_tone
from tests.mediaserver import MediaServer, media_server

SUBSCRIBERS = 500
JOBS = 4
SUBMISSIONS = 200
CONCURRENT_SUBMITTERS = 10
SUBMIT_P99_GOAL = 0.050
SSE_P99_GOAL = 0.100
"""Seconds from an event's making to its receipt by each of the 500 subscribers, p99."""
KEY = "bench-key-0123456789abcdef"
PACE = 60_000
"""Bytes a second the media server sends each download: a few seconds per job."""


@dataclass
class Subscriber:
    """What one SSE client saw: event ids, and latencies of the events sent live."""

    ids: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    connected: anyio.Event = field(default_factory=anyio.Event)
    since: float = 0.0
    """When every subscriber had connected: later events count towards latency."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_env(work: Path, concurrent_jobs: int) -> dict[str, str]:
    """The environment of a benchmarked `serve`: folders in `work`, loopback media allowed,
    one API key, no rate limit."""
    return {
        **os.environ,
        "AUDIOGRAB_DATA_DIR": str(work / "data"),
        "AUDIOGRAB_OUTPUT_DIR": str(work / "out"),
        "AUDIOGRAB_ALLOW_PRIVATE_NETWORKS": "true",
        "AUDIOGRAB_API_KEYS": KEY,
        "AUDIOGRAB_RATE_LIMIT_PER_MINUTE": "0",
        "AUDIOGRAB_MAX_CONCURRENT_JOBS": str(concurrent_jobs),
        "AUDIOGRAB_PROGRESS_INTERVAL": "0.1",
    }


def start_server(work: Path, port: int) -> subprocess.Popen[bytes]:
    env = server_env(work, JOBS)
    command = [str(Path(sys.executable).parent / "audiograb"), "serve", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def until_healthy(http: httpx.AsyncClient, deadline: float = 120.0) -> None:
    """Wait until the server answers `/api/health`, at most `deadline` seconds (a loaded
    machine may take a while to import everything)."""
    with anyio.fail_after(deadline):
        while True:
            try:
                if (await http.get("/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await anyio.sleep(0.1)


async def sse_frames(port: int, path: str) -> AsyncIterator[tuple[int, bytes]]:
    """`(id, data)` of each event frame of a stream, read with h11 straight off the socket.

    500 httpx streams in one client process cost the client more than the server: this lean
    reader keeps the client's share of each delivery small, so the figure is the server's.
    """
    async with await anyio.connect_tcp("127.0.0.1", port) as sock:
        conn = h11.Connection(h11.CLIENT)
        headers = [("Host", f"127.0.0.1:{port}"), ("X-API-Key", KEY)]
        request = h11.Request(method="GET", target=path, headers=headers)
        await sock.send(conn.send(request) + (conn.send(h11.EndOfMessage()) or b""))
        pending = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                try:
                    conn.receive_data(await sock.receive())
                except anyio.EndOfStream:
                    conn.receive_data(b"")
            elif isinstance(event, h11.Response):
                if event.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {event.status_code}")
            elif isinstance(event, h11.Data):
                pending += bytes(event.data)
                *blocks, pending = pending.split(b"\n\n")
                for block in blocks:
                    lines = (line.split(b": ", 1) for line in block.split(b"\n"))
                    fields = {line[0]: line[1] for line in lines if len(line) == 2}
                    if b"id" in fields:
                        yield int(fields[b"id"]), fields[b"data"]
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return


async def follow(port: int, job_id: str, seen: Subscriber, everyone: anyio.Event) -> None:
    """Read one job's stream; time the events made once every subscriber was connected."""
    async for frame_id, data in sse_frames(port, f"/api/jobs/{job_id}/events"):
        received = time.time()
        seen.connected.set()  # the first event proves the subscription is live
        event = json.loads(data)
        seen.ids.append(frame_id)
        seen.types.append(event["type"])
        if everyone.is_set() and event["at"] >= seen.since:
            seen.latencies.append(received - event["at"])


async def submit(http: httpx.AsyncClient, url: str) -> str:
    response = await http.post("/api/downloads", json={"url": url, "format": "m4a"})
    response.raise_for_status()
    job_id: str = response.json()["id"]
    return job_id


@dataclass
class FanOut:
    """What (a) measured."""

    subscribers: list[Subscriber]
    events: int
    connect_seconds: float
    rss_growth: int
    live_seconds: float = 0.0
    """Wall time from every subscriber connected to the jobs' ends."""
    server_cpu: float = 0.0
    """CPU seconds the server used meanwhile."""
    client_cpu: float = 0.0
    """CPU seconds this client (500 readers) used meanwhile."""


async def fan_out(
    http: httpx.AsyncClient, port: int, media: MediaServer, jobs: int, per_job: int, pid: int
) -> FanOut:
    """Run `jobs` jobs with `per_job` subscribers each, all connecting at once."""
    job_ids = [await submit(http, media.url("talk.m4a")) for _ in range(jobs)]
    before = rss_bytes(pid)
    subscribers: list[tuple[str, Subscriber]] = []
    everyone = anyio.Event()
    growth = 0
    started = time.perf_counter()
    with anyio.fail_after(120):
        async with anyio.create_task_group() as tasks:
            for job_id in job_ids:
                for _ in range(per_job):
                    seen = Subscriber()
                    subscribers.append((job_id, seen))
                    tasks.start_soon(follow, port, job_id, seen, everyone)
            for _, seen in subscribers:
                await seen.connected.wait()
            connect_seconds = time.perf_counter() - started
            growth = rss_bytes(pid) - before
            now = time.time()
            for _, seen in subscribers:
                seen.since = now
            everyone.set()
            cpu_before = (cpu_seconds(pid), time.process_time(), time.perf_counter())
    server_cpu, client_cpu, live_seconds = (
        cpu_seconds(pid) - cpu_before[0],
        time.process_time() - cpu_before[1],
        time.perf_counter() - cpu_before[2],
    )
    reference = {}
    for job_id in job_ids:
        async with http.stream("GET", f"/api/jobs/{job_id}/events") as response:
            reference[job_id] = [f.id async for f in read_frames(response) if f.id is not None]
    complete = [seen for job_id, seen in subscribers if seen.ids == reference[job_id]]
    if len(complete) != len(subscribers):
        raise SystemExit(f"only {len(complete)}/{len(subscribers)} subscribers got every event")
    events = sum(len(ids) for ids in reference.values())
    return FanOut(
        [seen for _, seen in subscribers],
        events,
        connect_seconds,
        growth,
        live_seconds,
        server_cpu,
        client_cpu,
    )


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(call: Callable[[], Awaitable[object]], times: int) -> list[float]:
    took = []
    for _ in range(times):
        start = time.perf_counter()
        await call()
        took.append(time.perf_counter() - start)
    return took


async def submissions(
    http: httpx.AsyncClient, media: MediaServer
) -> tuple[float, float, float, float]:
    """(health p99, submit p50, submit p99, concurrent submissions per second).

    The jobs fetch the paced file: a few run (slowly), the rest queue, as under real load.
    """
    url = media.url("talk.m4a")
    health = await timed(lambda: http.get("/api/health"), SUBMISSIONS)
    submit_times = await timed(lambda: submit(http, url), SUBMISSIONS)
    start = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for _ in range(CONCURRENT_SUBMITTERS):
            tasks.start_soon(timed, lambda: submit(http, url), 20)
    rate = CONCURRENT_SUBMITTERS * 20 / (time.perf_counter() - start)
    return quantile(health, 0.99), quantile(submit_times, 0.5), quantile(submit_times, 0.99), rate


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        make_tone(work / "media" / "talk.m4a", seconds=20.0, format="m4a")
        port = free_port()
        server = start_server(work, port)
        limits = httpx.Limits(max_connections=SUBSCRIBERS + 50, max_keepalive_connections=50)
        try:
            with media_server(work / "media") as media:
                media.slow("talk.m4a", PACE)
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}",
                    headers={"X-API-Key": KEY},
                    limits=limits,
                    timeout=60,
                ) as http:
                    await until_healthy(http)
                    alone = await fan_out(http, port, media, 1, 1, server.pid)
                    crowd = await fan_out(http, port, media, JOBS, SUBSCRIBERS // JOBS, server.pid)
                    health_p99, submit_p50, submit_p99, rate = await submissions(http, media)
        finally:
            server.terminate()
            server.wait(timeout=60)
    report(alone, crowd, health_p99, submit_p50, submit_p99, rate)


def report(
    alone: FanOut,
    crowd: FanOut,
    health_p99: float,
    submit_p50: float,
    submit_p99: float,
    rate: float,
) -> None:
    base = [lat for seen in alone.subscribers for lat in seen.latencies]
    loaded = [lat for seen in crowd.subscribers for lat in seen.latencies]
    states = sum(t.startswith("job.") for t in crowd.subscribers[0].types)
    print(
        f"(a) {len(crowd.subscribers)} subscribers on {JOBS} jobs ({crowd.events} events): "
        f"all connected in {crowd.connect_seconds:.2f} s; each saw every event of its job "
        f"({states} state events) in order"
    )
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        one, many = quantile(base, q), quantile(loaded, q)
        print(
            f"    delivery {name}: {many * 1000:.1f} ms vs {one * 1000:.1f} ms with 1 subscriber "
            f"(x{many / one:.1f})"
        )
    fan_out_p99 = quantile(loaded, 0.99)
    deliveries = sum(len(seen.latencies) for seen in crowd.subscribers)
    print(
        f"    goal: {SUBSCRIBERS} subscribers get each event with p99 < "
        f"{SSE_P99_GOAL * 1000:.0f} ms: {fan_out_p99 * 1000:.1f} ms, "
        + ("met" if fan_out_p99 < SSE_P99_GOAL else "MISSED")
    )
    print(
        f"    while live ({crowd.live_seconds:.1f} s, {deliveries} deliveries): server "
        f"{crowd.server_cpu:.2f} CPU-s ({crowd.server_cpu / max(deliveries, 1) * 1e6:.0f} us a "
        f"delivery), client {crowd.client_cpu:.2f} CPU-s; machine load {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    per_subscriber = crowd.rss_growth / len(crowd.subscribers) / 1024
    print(f"    server memory per subscriber: {per_subscriber:.1f} KiB")
    print(
        f"(b) submission p50 {submit_p50 * 1000:.1f} ms, p99 {submit_p99 * 1000:.1f} ms "
        f"vs health p99 {health_p99 * 1000:.1f} ms "
        f"(x{submit_p99 / health_p99:.1f}); {rate:.0f} submissions/s with "
        f"{CONCURRENT_SUBMITTERS} clients; goal p99 < {SUBMIT_P99_GOAL * 1000:.0f} ms: "
        + ("met" if submit_p99 < SUBMIT_P99_GOAL else "MISSED")
    )
    if submit_p99 >= SUBMIT_P99_GOAL or fan_out_p99 >= SSE_P99_GOAL:
        raise SystemExit(1)


if __name__ == "__main__":
    anyio.run(main, backend_options={"use_uvloop": True})  # the server runs on uvloop too
