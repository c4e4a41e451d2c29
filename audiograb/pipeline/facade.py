"""`Audiograb`: the one object every face (library, CLI, API, bot) works through."""

import builtins
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
import msgspec

from actors import ActorRef, Overflow, ThreadBridge, Topic
from audiograb.config import Settings
from audiograb.domain import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    AudioFormat,
    AudiograbError,
    ConversionProgress,
    ErrorCode,
    Job,
    JobPriorityChanged,
    JobRequest,
    JobState,
    JobStateChanged,
    LinkInfo,
    MediaInfo,
    MediaKind,
    Quality,
    Transcript,
    is_terminal,
    new_job_id,
)
from audiograb.engines import ffmpeg, netguard, ytdlp
from audiograb.pipeline import lookup
from audiograb.pipeline.annotations import Annotations
from audiograb.pipeline.asking import ask_cancellably
from audiograb.pipeline.batches import Batches
from audiograb.pipeline.clock import Clock
from audiograb.pipeline.feed import FEED_BUFFER, all_feed, job_feed
from audiograb.pipeline.live import LiveHub, LiveSession
from audiograb.pipeline.messages import Converted, Recorded, StartConversion
from audiograb.pipeline.metrics import Metrics
from audiograb.pipeline.models import InstalledModels, installed_models, language_policy
from audiograb.pipeline.policy import address_policy, caps_for, download_options
from audiograb.pipeline.public import UPLOAD_SCHEME
from audiograb.pipeline.queue import QueueSnapshot, arrival_of, with_priority
from audiograb.pipeline.runner import JobRunner
from audiograb.pipeline.scheduler import Poke, SchedulerMessage, Submit
from audiograb.pipeline.schedules import Schedules
from audiograb.pipeline.transcripts import transcript_of
from audiograb.pipeline.webhooks import Outbox, Webhooks
from audiograb.pipeline.workspace import Workspace
from audiograb.platforms import MatchedUrl, Platform, PlatformRegistry
from audiograb.storage import OutputFiles, save_copy
from audiograb.store import JobStore, QueueStore

#: The platform id of jobs on a local file.
LOCAL_FILE = "file"
#: The platform id of jobs on an uploaded file.
UPLOAD = "upload"
#: File name suffixes kept for uploads (FFmpeg and PyAV sniff the content anyway).
SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
#: Seconds `cancel` waits for a running job to stop and record it.
CANCEL_DEADLINE = 30.0
#: The shortest start of a job id that names the job (file names carry 8 characters).
MIN_ID_PREFIX = 6
#: How many of the jobs an ambiguous start names the error lists.
AMBIGUOUS_SHOWN = 5


class Audiograb:
    """Submit, follow, cancel and retry jobs; convert files. Made by `open_audiograb`."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: JobStore,
        queue: QueueStore,
        topic: Topic[Recorded],
        registry: PlatformRegistry,
        runner: JobRunner,
        scheduler: ActorRef[SchedulerMessage],
        converter: ActorRef[StartConversion],
        bridge: ThreadBridge,
        workspace: Workspace,
        metrics: Metrics,
        live: LiveHub,
        clock: Clock,
        outbox: Outbox,
        outputs: OutputFiles,
    ) -> None:
        self.settings = settings
        self._store = store
        self._queue = queue
        self._topic = topic
        self._registry = registry
        self._runner = runner
        self._scheduler = scheduler
        self._converter = converter
        self._bridge = bridge
        self._workspace = workspace
        self._metrics = metrics
        self.live = live
        """Live transcription sessions (`live_session` opens one)."""
        self.clock = clock
        """The time the queue, schedules and webhooks go by."""
        self.outputs = outputs
        """Where finished files are read from: the output folder or the shared object store."""
        self.webhooks = Webhooks(store, outbox, settings, clock)
        """Webhook endpoints, the delivery log and test messages."""
        self.batches = Batches(store, self, self.webhooks, clock)
        """Many URLs submitted together."""
        self.schedules = Schedules(store, self, clock)
        """Downloads planned for a time, once or by cron."""
        self.annotations = Annotations(store, self.get, clock)
        """Notes and threaded replies on transcripts."""

    async def submit(self, request: JobRequest, *, dest: Path | None = None) -> Job:
        """Queue a download of `request.url`; returns the queued job at once.

        `dest` (library and CLI only, never from the network) names the output file; without
        it the file goes to the output folder, named after the media's title. A URL we cannot
        handle raises `AudiograbError` here, before any job exists.
        """
        return await self.enqueue(await self.prepare(request, dest=dest))

    async def prepare(self, request: JobRequest, *, dest: Path | None = None) -> Job:
        """The job `submit` would queue, checked (URL, addresses, caps, webhook URL) but not
        queued."""
        caps_for(self.settings, request)
        matched = self._registry.match(request.url, playlist=request.playlist)
        policy = address_policy(self.settings)
        await anyio.to_thread.run_sync(netguard.check_url, matched.url, policy)
        folder = dest.parent if dest is not None else self.settings.output_root
        job = Job(
            id=new_job_id(),
            request=msgspec.structs.replace(request, url=matched.url),
            platform=matched.platform.id,
            output_dir=str(await anyio.Path(folder).resolve()),
            output_name=dest.name if dest is not None else None,
        )
        if request.webhook_url is not None:
            await self.webhooks.register(request.webhook_url)
        return job

    async def enqueue(self, job: Job) -> Job:
        """Record a new job (from `prepare`) as submitted and queue it."""
        stored: Job = await self._scheduler.ask(lambda reply: Submit(job=job, reply=reply))
        return stored

    async def submit_file(
        self, source: Path, request: JobRequest, *, dest: Path | None = None
    ) -> Job:
        """Queue a job on a local file instead of a URL: transcribe it, or convert it.

        Library and CLI only: the file is read where it is and never removed.
        """
        path = await anyio.Path(source).resolve()
        if not await path.is_file():
            what = "a folder, not a file" if await path.is_dir() else "no such file"
            raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"{what}: {source}")
        folder = dest.parent if dest is not None else self.settings.output_root
        job = Job(
            id=new_job_id(),
            request=msgspec.structs.replace(request, url=Path(path).as_uri()),
            platform=LOCAL_FILE,
            source_file=str(path),
            output_dir=str(await anyio.Path(folder).resolve()),
            output_name=dest.name if dest is not None else None,
        )
        return await self.enqueue(job)

    async def submit_upload(
        self,
        chunks: AsyncIterable[bytes],
        filename: str,
        request: JobRequest,
        *,
        max_bytes: int,
    ) -> Job:
        """Queue a job on uploaded bytes, stored in the job's own work folder.

        The upload counts as the job's download, so it is removed with the work folder when the
        job ends. More than `max_bytes` raises `too_large` and keeps nothing.
        """
        job_id = new_job_id()
        suffix = Path(filename).suffix.lower()
        if not SAFE_SUFFIX.fullmatch(suffix):
            suffix = ".bin"
        target = anyio.Path(self._workspace.job_dir(job_id)) / f"upload{suffix}"
        written = 0
        stored = False
        try:
            async with await target.open("wb") as out:
                async for chunk in chunks:
                    written += len(chunk)
                    if written > max_bytes:
                        raise AudiograbError(
                            ErrorCode.TOO_LARGE, f"uploads are limited to {max_bytes} bytes"
                        )
                    await out.write(chunk)
            stored = True
        finally:
            if not stored:  # too large, a broken upload, or a cancelled request
                self._workspace.discard(job_id)
        job = Job(
            id=job_id,
            request=msgspec.structs.replace(request, url=f"{UPLOAD_SCHEME}{Path(filename).name}"),
            platform=UPLOAD,
            media=MediaInfo(title=Path(filename).stem or None),  # names the transcript file
            download_path=str(target),
            output_dir=str(self.settings.output_root),
        )
        return await self.enqueue(job)

    async def submit_existing(self, source: Job, request: JobRequest) -> Job:
        """Queue a job on the finished file of another job (left where it is).

        A file finished on another node (only in the shared object store) is first copied
        into the new job's work folder, where it counts as the job's download.
        """
        if source.output_path is None:
            raise AudiograbError(ErrorCode.INVALID_STATE, f"job {source.id} has no file")
        job = Job(
            id=new_job_id(),
            request=request,
            platform=source.platform,
            media=source.media,
            source_file=source.output_path,
            output_dir=str(self.settings.output_root),
        )
        if not await anyio.Path(source.output_path).is_file():
            copy = self._workspace.job_dir(job.id) / f"source{Path(source.output_path).suffix}"
            copied = False
            try:
                await save_copy(self.outputs, source, copy)
                copied = True
            finally:
                if not copied:  # the store failed, or the request was cancelled
                    self._workspace.discard(job.id)
            job = msgspec.structs.replace(job, source_file=None, download_path=str(copy))
        return await self.enqueue(job)

    async def thumbnail(self, job_id: str) -> bytes | None:
        """A small JPEG of the finished file's cover art or first video frame, if it has one."""
        job = await self.get(job_id)
        if job.state is not JobState.COMPLETED or job.output_path is None:
            return None
        binary = ffmpeg.find_ffmpeg(self.settings.ffmpeg_path)
        return await anyio.to_thread.run_sync(
            lambda: ffmpeg.thumbnail(Path(job.output_path or ""), ffmpeg=binary)
        )

    async def transcript(self, job_id: str) -> Transcript:
        """The job's transcript: complete once the job has completed, else what exists so far."""
        job = await self.get(job_id)
        if not job.request.transcribe:
            raise AudiograbError(ErrorCode.INVALID_STATE, f"job {job.id} was not transcribed")
        return transcript_of(job, await self._store.events_after(job.id))

    def match(self, url: str, *, playlist: bool = False) -> MatchedUrl:
        """The platform and canonical form of `url`; raises like `submit` for bad URLs."""
        return self._registry.match(url, playlist=playlist)

    async def probe(self, url: str) -> MediaInfo:
        """The media's title, duration and size, without downloading it (a yt-dlp dry run).

        Raises `AudiograbError` like `submit` (bad URL, forbidden address) and like a failed
        download would (not found, auth required, ...).
        """
        matched = self.match(url)
        options = download_options(self.settings, matched, self.settings.work_root)
        return await anyio.to_thread.run_sync(ytdlp.extract_info, matched.url, options)

    async def look_up(self, url: str, *, playlist: bool = False, fetch: bool = False) -> LinkInfo:
        """What `url` maps to (platform, kind, canonical URL, playlist handling), side-effect free.

        Offline by default; with `fetch` the media's title and duration too, through the
        guarded resolve and yt-dlp dry run a download starts with. Raises like `submit` for a
        URL it cannot take; see `audiograb.pipeline.lookup`.
        """
        return await lookup.look_up(
            self._registry, self.settings, url, playlist=playlist, fetch=fetch
        )

    async def get(self, job_id: str) -> Job:
        """The job as stored; `job_not_found` when there is none.

        `job_id` may be any start of the id of 6 or more characters that no other job's id
        shares (the 8 in a file name, say); one that several share is `invalid_request`.
        """
        job = await self._store.get_job(job_id)
        if job is None and len(job_id) >= MIN_ID_PREFIX:
            job = await self._by_prefix(job_id.lower())
        if job is None:
            raise AudiograbError(ErrorCode.JOB_NOT_FOUND, f"no job {job_id!r}")
        return job

    async def _by_prefix(self, prefix: str) -> Job | None:
        found = await self._store.job_ids_starting_with(prefix, limit=AMBIGUOUS_SHOWN + 1)
        if len(found) > 1:
            shown = ", ".join(job_id[:12] for job_id in found[:AMBIGUOUS_SHOWN])
            more = ", …" if len(found) > AMBIGUOUS_SHOWN else ""
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST,
                f"{prefix!r} is ambiguous: it starts the ids of {shown}{more}; give more of it",
            )
        return await self._store.get_job(found[0]) if found else None

    async def list(
        self, *, states: Collection[JobState] | None = None, limit: int = 50, offset: int = 0
    ) -> builtins.list[Job]:
        """Jobs, newest first, optionally only those in `states`."""
        return await self._store.list_jobs(states=states, limit=limit, offset=offset)

    async def count(self, *, states: Collection[JobState] | None = None) -> int:
        """How many jobs `list` would page through."""
        return await self._store.count_jobs(states=states)

    async def cancel(self, job_id: str) -> Job:
        """Stop a queued or running job, remove its partial files, and return it cancelled.

        The cancel is a request recorded in the store: whichever process runs the job carries
        it out (within a wake-up interval) and this call waits for it. A job nobody runs is
        cancelled here.
        """
        job = await self.get(job_id)
        job_id = job.id
        if job.state.terminal:
            raise AudiograbError(ErrorCode.INVALID_STATE, f"job {job_id} is already {job.state}")
        with self._topic.subscribe(buffer=FEED_BUFFER, overflow=Overflow.LAG, only=job_id) as live:
            now = await self._store.last_seq(job_id)
            lease = await self._queue.request_cancel(job_id)
            if lease is None:
                await self._scheduler.tell(Poke())  # the owner may be this process
                with anyio.move_on_after(CANCEL_DEADLINE):
                    async for _ in job_feed(self._store, live, job_id, now):
                        pass
            else:
                await self._runner.cancel_claimed(await self.get(job_id), lease)
        return await self.get(job_id)

    async def delete(self, job_id: str) -> None:
        """Forget an ended job: its finished file (in the object store too), then its record,
        events and notes. A file the CLI wrote elsewhere with `-o` stays where it is.

        A queued or running job must be cancelled first (INVALID_STATE otherwise).
        """
        job = await self.get(job_id)
        job_id = job.id
        if not job.state.terminal:
            raise AudiograbError(
                ErrorCode.INVALID_STATE, f"job {job_id} is {job.state}: cancel it first"
            )
        if job.output_path is not None and await self._in_output_folder(job.output_path):
            await self.outputs.remove(job)
        self._workspace.discard(job_id)
        await self._store.delete_job(job_id)

    async def _in_output_folder(self, path: str) -> bool:
        output_root = await anyio.Path(self.settings.output_root).resolve()
        return await anyio.Path(path).parent.resolve() == output_root

    async def retry(self, job_id: str) -> Job:
        """Queue a failed, cancelled or interrupted job again; it keeps its id.

        This process runs it (unless it runs nothing it submits), or a serving one does if it
        claims it first. `job_running` while a process runs it.
        """
        job = await self.get(job_id)
        job_id = job.id
        if job.state is JobState.COMPLETED:
            raise AudiograbError(ErrorCode.INVALID_STATE, f"job {job_id} has completed")
        owner = await self._queue.owner_of(job_id)
        if owner is not None:
            raise AudiograbError(ErrorCode.JOB_RUNNING, f"job {job_id} is running in {owner}")
        if job.platform == UPLOAD and job.state.terminal:
            raise AudiograbError(
                ErrorCode.INVALID_STATE, "the uploaded file went with the job; upload it again"
            )
        job = await self._mark_queued(job)
        await self._queue.adopt(job_id)
        await self._scheduler.tell(Poke())
        return job

    async def _mark_queued(self, job: Job) -> Job:
        """Record the job as queued again, from the start (a terminal job) or from its last
        completed phase (an interrupted one)."""
        if job.state is not JobState.QUEUED:
            fresh_start = job.state.terminal
            queued = msgspec.structs.replace(
                job,
                state=JobState.QUEUED,
                error=None,
                attempts=job.attempts + 1 if fresh_start else job.attempts,
                download_path=None if fresh_start else job.download_path,
                retries=0 if fresh_start else job.retries,
                retry_at=None if fresh_start else job.retry_at,
                queued_at=self.clock.now() if fresh_start else job.queued_at,
            )
            await self._runner.record(
                JobStateChanged(job_id=job.id, state=JobState.QUEUED, previous=job.state), queued
            )
            job = queued
        return job

    async def queue(self) -> QueueSnapshot:
        """The queue now, over every process on the data folder: running jobs, then the
        waiting ones in claim order, then those waiting for an automatic retry."""
        now = self.clock.now()
        return QueueSnapshot(
            running=await self._queue.running(),
            waiting=await self._queue.waiting(now),
            delayed=await self._queue.delayed(now),
            limit=self.settings.max_concurrent_jobs,
            platform_limits=self.settings.platform_limit_map,
        )

    async def stored_queue(self) -> builtins.list[Job]:
        """Unfinished jobs in run order, from the store: for a process not running the queue."""
        jobs = await self._store.unfinished_jobs()
        return sorted(
            jobs,
            key=lambda job: (
                job.state is JobState.QUEUED,
                -job.request.priority,
                arrival_of(job),
            ),
        )

    async def set_priority(self, job_id: str, priority: int) -> Job:
        """Change a waiting job's priority (1-10); `invalid_state` once it runs or has ended."""
        if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST,
                f"priority must be {MIN_PRIORITY} to {MAX_PRIORITY}, not {priority}",
            )
        job = await self.get(job_id)
        job_id = job.id
        owner = await self._queue.owner_of(job_id)
        if job.state is not JobState.QUEUED or owner is not None:
            state = "not waiting in the queue" if owner is None else f"running in {owner}"
            raise AudiograbError(ErrorCode.INVALID_STATE, f"job {job_id} is {state}")
        changed = with_priority(job, priority)
        event = JobPriorityChanged(job_id=job_id, priority=priority, previous=job.request.priority)
        try:
            await self._runner.record(event, changed)
        except AudiograbError as error:  # claimed meanwhile
            raise AudiograbError(ErrorCode.INVALID_STATE, error.message) from None
        return changed

    @asynccontextmanager
    async def subscribe(
        self, job_id: str | None = None, *, after: int = 0
    ) -> AsyncIterator[AsyncIterator[Recorded]]:
        """Follow events live, after replaying those already stored.

        With `job_id`: that job's events with `seq > after`, ending after its terminal event.
        Without: every job's events with a log id above `after`, until shutdown.
        """
        with self._topic.subscribe(
            buffer=FEED_BUFFER, overflow=Overflow.LAG, only=job_id
        ) as live:  # one job's feed is woken by that job's events only
            if job_id is None:
                yield all_feed(self._store, live, after)
            else:
                job = await self.get(job_id)
                yield job_feed(self._store, live, job.id, after)

    async def last_event_id(self) -> int:
        """The newest event's global id: `subscribe(after=...)` it to follow only what comes."""
        return await self._store.last_event_id()

    async def wait(self, job_id: str) -> Job:
        """Wait until the job has ended (its current run, if it was retried) and return it."""
        job_id = (await self.get(job_id)).id
        async with self.subscribe(job_id, after=await self._store.last_seq(job_id)) as events:
            async for recorded in events:
                if is_terminal(recorded.event):
                    break
        return await self.get(job_id)

    async def convert_file(
        self,
        source: Path,
        dest: Path,
        *,
        format: AudioFormat,
        quality: Quality = Quality.HIGH,
        media: MediaKind = MediaKind.AUDIO,
        on_progress: Callable[[ConversionProgress], None] | None = None,
    ) -> Converted:
        """Convert a local file outside any job (the CLI's `convert`)."""

        def progressed(progress: ConversionProgress) -> None:
            if on_progress is not None:
                self._bridge.call_soon(on_progress, progress)

        return await ask_cancellably(
            self._converter,
            lambda reply, cancel: StartConversion(
                source=source,
                dest=dest,
                format=format,
                quality=quality,
                media=media,
                tags={},
                on_progress=progressed,
                cancel=cancel,
                reply=reply,
            ),
        )

    async def metrics(self) -> bytes:
        """Prometheus metrics in the text exposition format (for `GET /metrics`)."""
        by_state = {state: await self._store.count_jobs(states=[state]) for state in JobState}
        self._metrics.set_gauges(by_state, await self._queue.depth())
        return self._metrics.render()

    def live_session(
        self, *, language: str | None = None, model: str | None = None, prompt: str | None = None
    ) -> AbstractAsyncContextManager[LiveSession]:
        """Open a live transcription session (see `audiograb.pipeline.live`); `busy` when full."""
        return self.live.session(language=language, model=model, prompt=prompt)

    async def models(self) -> InstalledModels:
        """The whisper models installed here and the languages they speak."""
        policy = language_policy(self.settings)
        return await anyio.to_thread.run_sync(installed_models, policy)

    def platforms(self) -> tuple[Platform, ...]:
        """Every platform we know, with example URLs and availability."""
        return self._registry.all()


__all__ = ["Audiograb"]
