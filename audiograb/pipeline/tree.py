"""The supervision tree, in one readable place: what starts, in which order, sharing what.

    open_audiograb
    ├── store          SQLite job table and event log (opened first, closed last)
    ├── topic          live `Recorded` events for every subscriber
    └── actor system   started in this order, drained in reverse:
        ├── journal     writes each event to the store, then publishes it
        ├── downloader  yt-dlp in worker threads (limiter: max_concurrent_jobs)
        ├── converter   FFmpeg subprocesses driven from threads (limiter: CPU count)
        ├── transcriber faster-whisper in threads, models loaded once and shared
        │               (limiter: max_concurrent_transcriptions)
        └── scheduler   the job queue; runs each job's phases as a task of its own

Draining in reverse means the scheduler stops first: running jobs are interrupted (their work
folders kept, to resume next start), and the journal, still up, records what they said last.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from actors import ChildSpec, ThreadBridge, Topic, open_actor_system
from audiograb.config import Settings, load_settings
from audiograb.engines import whisper
from audiograb.pipeline.facade import Audiograb
from audiograb.pipeline.journal import JOURNAL_MAILBOX, Journal
from audiograb.pipeline.messages import Recorded
from audiograb.pipeline.metrics import Metrics
from audiograb.pipeline.runner import JobRunner, Stages
from audiograb.pipeline.scheduler import SCHEDULER_MAILBOX, Scheduler
from audiograb.pipeline.stages import Converter, Downloader, Transcriber
from audiograb.pipeline.workspace import Workspace
from audiograb.platforms import default_registry
from audiograb.store import open_store

#: Commands queued for a stage before `tell` waits: a stage starts every job it is told about.
STAGE_MAILBOX = 64
#: Seconds a shutdown gives running work to stop before it is cancelled hard.
SHUTDOWN_GRACE = 20.0


@asynccontextmanager
async def open_audiograb(
    settings: Settings | None = None, *, resume: bool = True
) -> AsyncIterator[Audiograb]:
    """Start AudioGrab inside the caller's event loop; stop it cleanly on exit.

    With `resume`, jobs a previous process left unfinished are queued again, each from its
    last completed phase. The CLI passes False for one-shot commands.
    """
    settings = settings or load_settings()
    settings.work_root.mkdir(parents=True, exist_ok=True)
    async with (
        open_store(settings.database_path) as store,
        open_actor_system(grace=SHUTDOWN_GRACE) as system,
    ):
        topic: Topic[Recorded] = Topic("job-events")
        metrics = Metrics()
        system.start_soon(metrics.follow, topic)
        system.start_soon(metrics.measure_loop_lag)
        bridge = ThreadBridge()
        journal = await system.spawn(
            ChildSpec(
                name="journal", factory=lambda: Journal(store, topic), mailbox_size=JOURNAL_MAILBOX
            )
        )
        download_slots = anyio.CapacityLimiter(settings.max_concurrent_jobs)
        downloader = await system.spawn(
            ChildSpec(
                name="downloader",
                factory=lambda: Downloader(download_slots),
                mailbox_size=STAGE_MAILBOX,
            )
        )
        convert_slots = anyio.CapacityLimiter(os.cpu_count() or 1)
        converter = await system.spawn(
            ChildSpec(
                name="converter",
                factory=lambda: Converter(convert_slots, settings.ffmpeg_path),
                mailbox_size=STAGE_MAILBOX,
            )
        )
        whisper_slots = anyio.CapacityLimiter(settings.max_concurrent_transcriptions)
        models = whisper.ModelPool()
        transcriber = await system.spawn(
            ChildSpec(
                name="transcriber",
                factory=lambda: Transcriber(whisper_slots, models, settings.whisper_model),
                mailbox_size=STAGE_MAILBOX,
            )
        )
        workspace = Workspace(settings.work_root, settings.output_root)
        registry = default_registry()
        runner = JobRunner(
            settings=settings,
            store=store,
            stages=Stages(
                journal=journal,
                downloader=downloader,
                converter=converter,
                transcriber=transcriber,
            ),
            workspace=workspace,
            registry=registry,
            bridge=bridge,
        )
        scheduler = await system.spawn(
            ChildSpec(
                name="scheduler",
                factory=lambda: Scheduler(runner, settings.max_concurrent_jobs),
                mailbox_size=SCHEDULER_MAILBOX,
            )
        )
        ag = Audiograb(
            settings=settings,
            store=store,
            topic=topic,
            registry=registry,
            runner=runner,
            scheduler=scheduler,
            converter=converter,
            bridge=bridge,
            workspace=workspace,
            metrics=metrics,
        )
        if resume:
            await ag.resume_unfinished()
        try:
            yield ag
        finally:
            topic.close()
