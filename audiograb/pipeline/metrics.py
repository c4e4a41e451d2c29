"""Prometheus metrics of one `Audiograb`: counted from the event topic, never in module globals.

Jobs by state and the queue depth are read at scrape time (from the store and the scheduler),
so they are right after a restart; counters and histograms grow from the live events; the
event-loop lag comes from a ticker that measures how late it wakes.
"""

import time

import anyio
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from actors import Lagged, Overflow, Topic
from audiograb.domain import (
    DownloadProgressed,
    JobCancelled,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobState,
    JobSubmitted,
)
from audiograb.store import StoredEvent

#: Events buffered for the metrics task before the oldest are dropped (only progress is lost).
METRICS_BUFFER = 4096
#: Seconds between two wake-ups of the loop-lag ticker.
LAG_TICK = 0.1


class _Gauges(Collector):
    """Values read when Prometheus scrapes: jobs by state and the queue depth."""

    def __init__(self) -> None:
        self.jobs_by_state: dict[JobState, int] = {}
        self.queue_depth = 0

    def collect(self) -> list[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("audiograb_jobs", "Jobs by state", labels=["state"])
        for state in JobState:
            jobs.add_metric([state.value], self.jobs_by_state.get(state, 0))
        queue = GaugeMetricFamily("audiograb_queue_depth", "Jobs waiting for a slot")
        queue.add_metric([], self.queue_depth)
        return [jobs, queue]


class Metrics:
    """The metrics of one instance, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._gauges = _Gauges()
        self.registry.register(self._gauges)
        self.jobs_finished = Counter(
            "audiograb_jobs_finished",
            "Jobs that ended, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.jobs_submitted = Counter(
            "audiograb_jobs_submitted", "Jobs accepted", ["platform"], registry=self.registry
        )
        self.job_seconds = Histogram(
            "audiograb_job_duration_seconds",
            "Submission to completion",
            buckets=(1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600),
            registry=self.registry,
        )
        self.bytes_written = Counter(
            "audiograb_output_bytes", "Bytes of finished output files", registry=self.registry
        )
        self.bytes_downloaded = Counter(
            "audiograb_downloaded_bytes", "Bytes downloaded", registry=self.registry
        )
        self.loop_lag = Histogram(
            "audiograb_event_loop_lag_seconds",
            "How late the event loop runs a timer",
            buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self.live_sessions = Gauge(
            "audiograb_live_sessions", "Live transcription sessions open", registry=self.registry
        )
        self._started: dict[str, float] = {}
        self._downloaded: dict[str, int] = {}

    def observe(self, event: JobEvent) -> None:
        """Count one event."""
        if isinstance(event, JobSubmitted):
            self.jobs_submitted.labels(event.platform).inc()
            self._started[event.job_id] = event.at
        elif isinstance(event, DownloadProgressed):
            before = self._downloaded.get(event.job_id, 0)
            now = event.progress.downloaded_bytes
            if now > before:
                self.bytes_downloaded.inc(now - before)
                self._downloaded[event.job_id] = now
        elif isinstance(event, JobCompleted | JobFailed | JobCancelled):
            self._end(event)

    def _end(self, event: JobCompleted | JobFailed | JobCancelled) -> None:
        outcome = {JobCompleted: "completed", JobFailed: "failed", JobCancelled: "cancelled"}
        self.jobs_finished.labels(outcome[type(event)]).inc()
        started = self._started.pop(event.job_id, None)
        self._downloaded.pop(event.job_id, None)
        if isinstance(event, JobCompleted):
            self.bytes_written.inc(event.size_bytes)
            if started is not None:
                self.job_seconds.observe(max(0.0, event.at - started))

    def set_gauges(self, jobs_by_state: dict[JobState, int], queue_depth: int) -> None:
        """Update what scrape-time gauges report."""
        self._gauges.jobs_by_state = jobs_by_state
        self._gauges.queue_depth = queue_depth

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    async def follow(self, topic: Topic[StoredEvent]) -> None:
        """Count events from `topic` until it closes."""
        with topic.subscribe(buffer=METRICS_BUFFER, overflow=Overflow.DROP_OLDEST) as events:
            async for item in events:
                if not isinstance(item, Lagged):
                    self.observe(item.event)

    async def measure_loop_lag(self) -> None:
        """Record how late a timer fires, forever."""
        while True:
            before = time.perf_counter()
            await anyio.sleep(LAG_TICK)
            self.loop_lag.observe(max(0.0, time.perf_counter() - before - LAG_TICK))
