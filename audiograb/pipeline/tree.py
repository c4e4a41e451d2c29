"""The supervision tree, in one readable place: what starts, in which order, sharing what.

    open_audiograb
    ├── store          job table and event log, SQLite or PostgreSQL (opened first, closed last)
    ├── topic          live `Recorded` events for every subscriber
    └── actor system   started in this order, drained in reverse:
        ├── journal     writes each event to the store, then publishes it
        ├── downloader  yt-dlp in worker threads (limiter: max_concurrent_jobs)
        ├── converter   FFmpeg subprocesses driven from threads (limiter: CPU count)
        ├── transcriber faster-whisper in threads, models loaded once and shared
        │               (limiter: max_concurrent_transcriptions)
        │   live hub    live sessions (at most live_max_sessions), sharing the transcriber's
        │               models but with slots of their own; each session a task of its own
        ├── scheduler   claims jobs from the queue in the store (leases, heartbeat, limits);
        │               runs each job's phases as a task of its own
        ├── planner     fires scheduled downloads when the clock reaches them   (serving only)
        └── notifier    delivers the webhook outbox, retrying with backoff       (serving only)
        watcher         notices other processes' writes: relays their events, pokes the actors

The store's append hooks run inside each state change's transaction: the webhook outbox, the
batch counters (and `batch.completed`), and a fired schedule's next run. One clock (injectable
for tests) drives retries, schedules and webhook backoff.

Draining in reverse means the notifier (after its tries in flight) and the planner stop first,
then the scheduler: running jobs are interrupted (their work folders kept) and their leases
released, so any process resumes them at once; the journal, still up, records what they said
last.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio

from actors import ActorRef, ActorStopped, ChildSpec, ThreadBridge, Topic, open_actor_system
from audiograb.config import Settings, load_settings
from audiograb.engines import whisper, ytdlp
from audiograb.pipeline.batches import BatchHook
from audiograb.pipeline.clock import Clock, SystemClock
from audiograb.pipeline.facade import Audiograb
from audiograb.pipeline.journal import JOURNAL_MAILBOX, Journal
from audiograb.pipeline.live import LiveHub, Polisher
from audiograb.pipeline.messages import Recorded
from audiograb.pipeline.metrics import Metrics
from audiograb.pipeline.models import language_policy as language_policy_of
from audiograb.pipeline.retries import RetryPolicy
from audiograb.pipeline.runner import JobRunner, Stages
from audiograb.pipeline.scheduler import SCHEDULER_MAILBOX, Poke, Scheduler
from audiograb.pipeline.schedules import PLANNER_MAILBOX, Planner, ScheduleHook, Wake, job_for
from audiograb.pipeline.stages import Converter, Downloader, Transcriber
from audiograb.pipeline.wakeup import watch_store
from audiograb.pipeline.webhooks import NOTIFIER_MAILBOX, Notifier, Outbox, Ring
from audiograb.pipeline.workspace import Workspace
from audiograb.platforms import default_registry
from audiograb.storage import output_files
from audiograb.store import JobQueue, ScheduleStore, WebhookStore, open_store

#: Commands queued for a stage before `tell` waits: a stage starts every job it is told about.
STAGE_MAILBOX = 64
#: Seconds a shutdown gives running work to stop before it is cancelled hard.
SHUTDOWN_GRACE = 20.0

M = TypeVar("M")


def _require_asyncio() -> None:
    """AudioGrab's store (aiosqlite) and bot (aiogram) need asyncio: say so plainly at once,
    rather than fail deep inside them (under trio, say)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "AudioGrab runs on asyncio, not this event loop: start it with asyncio.run(...)"
            " or anyio.run(..., backend='asyncio')"
        ) from None


@asynccontextmanager
async def open_audiograb(
    settings: Settings | None = None,
    *,
    serve: bool = False,
    run_submitted: bool = True,
    warm_up: bool = False,
    clock: Clock | None = None,
) -> AsyncIterator[Audiograb]:
    """Start AudioGrab inside the caller's event loop; stop it cleanly on exit.

    Without `serve`, this process runs only the jobs it submits (an embedding program, a CLI
    command); jobs it did not start stay with the processes that serve the queue. With
    `serve` (`audiograb serve`, the bot), it serves the queue: it claims any waiting job,
    takes over the jobs of processes that died (from their last completed phase), fires
    schedules and delivers webhooks. With `run_submitted=False` (`batch --no-wait`) this
    process runs nothing: what it submits waits for a serving process. With `warm_up`,
    yt-dlp loads its extractors in a worker thread at once rather than on the first job
    (servers want this: the first submissions then do not wait on it). `clock` (default: the
    system's) is what retries, schedules and webhook backoff go by.
    """
    _require_asyncio()
    clock = clock or SystemClock()
    settings = settings or load_settings()
    settings.work_root.mkdir(parents=True, exist_ok=True)
    async with (
        open_store(settings.database, lease_seconds=settings.lease_seconds) as store,
        open_actor_system(grace=SHUTDOWN_GRACE) as system,
    ):
        topic: Topic[Recorded] = Topic("job-events", route=lambda recorded: recorded.event.job_id)
        metrics = Metrics()
        system.start_soon(metrics.follow, topic)
        system.start_soon(metrics.measure_loop_lag)
        if warm_up:
            system.start_soon(anyio.to_thread.run_sync, ytdlp.warm_up)
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
        language_policy = language_policy_of(settings)
        transcriber = await system.spawn(
            ChildSpec(
                name="transcriber",
                factory=lambda: Transcriber(
                    whisper_slots,
                    models,
                    language_policy,
                    batch_size=settings.whisper_batch_size,
                    batch_from=settings.whisper_batch_from,
                ),
                mailbox_size=STAGE_MAILBOX,
            )
        )
        workspace = Workspace(settings.work_root, settings.output_root)
        registry = default_registry()
        outputs = output_files(settings)
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
            retries=RetryPolicy.from_settings(settings, clock),
            outputs=outputs,
        )
        outbox = Outbox(default_url=settings.webhook_url, clock=clock)
        for hook in (outbox, BatchHook(outbox), ScheduleHook(clock)):
            store.add_append_hook(hook.on_append)
        queue = JobQueue(store)
        scheduler = await system.spawn(
            ChildSpec(
                name="scheduler",
                factory=lambda: Scheduler(
                    runner,
                    queue,
                    settings.max_concurrent_jobs,
                    serve=serve,
                    run_submitted=run_submitted,
                    platform_limits=settings.platform_limit_map,
                    clock=clock,
                ),
                mailbox_size=SCHEDULER_MAILBOX,
            )
        )
        ag = Audiograb(
            settings=settings,
            store=store,
            queue=queue,
            topic=topic,
            registry=registry,
            runner=runner,
            scheduler=scheduler,
            converter=converter,
            bridge=bridge,
            workspace=workspace,
            metrics=metrics,
            live=LiveHub(
                capacity=settings.live_max_sessions,
                # Its own slots: a long file transcription must not stall live speech.
                limiter=anyio.CapacityLimiter(settings.live_max_sessions),
                models=models,
                policy=language_policy,
                polisher=Polisher.from_settings(settings),
                on_count=metrics.live_sessions.set,
            ),
            clock=clock,
            outbox=outbox,
            outputs=outputs,
        )
        await ag.webhooks.set_up_default()
        pokes = [_poke(scheduler, Poke())]
        if serve:
            output_dir = str(settings.output_root)
            planner = await system.spawn(
                ChildSpec(
                    name="planner",
                    factory=lambda: Planner(
                        ScheduleStore(store),
                        clock,
                        fire=lambda schedule: ag.enqueue(job_for(schedule, output_dir, clock)),
                    ),
                    mailbox_size=PLANNER_MAILBOX,
                )
            )
            ag.schedules.connect(_poke(planner, Wake()))
            pokes.append(_poke(planner, Wake()))
            notifier = await system.spawn(
                ChildSpec(
                    name="notifier",
                    factory=lambda: Notifier(WebhookStore(store), settings, clock),
                    mailbox_size=NOTIFIER_MAILBOX,
                )
            )
            outbox.connect(_poke(notifier, Ring()))
            pokes.append(_poke(notifier, Ring()))
        system.start_soon(watch_store, store, topic, settings.wake_interval, pokes)
        try:
            yield ag
        finally:
            ag.annotations.close()
            topic.close()


def _poke(ref: ActorRef[M], msg: M) -> Callable[[], None]:
    """A callback that offers `msg` to `ref` and never waits or fails (a full mailbox already
    has a wake-up queued; a stopped actor needs none). Safe inside a store transaction."""

    def poke() -> None:
        with contextlib.suppress(ActorStopped):
            ref.try_tell(msg)

    return poke
