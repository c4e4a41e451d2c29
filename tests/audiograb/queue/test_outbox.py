"""The transactional outbox and the other append hooks: they commit or roll back with the job."""

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from audiograb.domain import (
    ErrorCode,
    Job,
    JobCompleted,
    JobError,
    JobFailed,
    JobRequest,
    JobState,
    JobStateChanged,
    JobSubmitted,
)
from audiograb.pipeline.batches import BatchHook
from audiograb.pipeline.clock import ManualClock
from audiograb.pipeline.webhooks import Outbox, sign, verify
from audiograb.store import (
    Attempt,
    Batch,
    BatchStore,
    JobStore,
    MessageStatus,
    StoredEvent,
    Transaction,
    WebhookStore,
    open_store,
)

pytestmark = pytest.mark.anyio

HOOK = "http://hooks.example/default"


@pytest.fixture
async def store(database: Path | str) -> AsyncIterator[JobStore]:
    async with open_store(database) as opened:
        yield opened


def make_job(name: str, **changes: object) -> Job:
    job = Job(id=name, request=JobRequest(url=f"https://example.com/{name}"), platform="generic")
    return msgspec.structs.replace(job, **changes)


async def submit(store: JobStore, job: Job) -> None:
    event = JobSubmitted(job_id=job.id, request=job.request, platform=job.platform)
    await store.append_event(event, job=job)


async def move(store: JobStore, job: Job, state: JobState) -> Job:
    moved = msgspec.structs.replace(job, state=state)
    if state is JobState.COMPLETED:
        event: object = JobCompleted(job_id=job.id, output_path="/x", size_bytes=1)
    elif state is JobState.FAILED:
        event = JobFailed(job_id=job.id, error=JobError(code=ErrorCode.NOT_FOUND, message="gone"))
    else:
        event = JobStateChanged(job_id=job.id, state=state, previous=job.state)
    await store.append_event(event, job=moved)  # type: ignore[arg-type]
    return moved


async def test_job_events_become_messages_for_the_default_and_the_job_url(
    store: JobStore,
) -> None:
    outbox = Outbox(default_url=HOOK, clock=ManualClock())
    rings: list[int] = []
    outbox.connect(lambda: rings.append(1))
    store.add_append_hook(outbox.on_append)
    job = make_job("a", request=JobRequest(url="https://e.com/a", webhook_url="http://mine/h"))
    await submit(store, job)
    job = await move(store, job, JobState.DOWNLOADING)
    job = await move(store, job, JobState.CONVERTING)
    await move(store, job, JobState.COMPLETED)
    messages = await WebhookStore(store).messages(job_id="a")
    kinds = sorted((m.type, m.url) for m in messages)
    assert kinds == [
        ("job.completed", HOOK),
        ("job.completed", "http://mine/h"),
        ("job.started", HOOK),
        ("job.started", "http://mine/h"),
    ]
    assert all(m.status is MessageStatus.PENDING for m in messages)
    completed = msgspec.json.decode(
        next(m.body for m in messages if m.type == "job.completed" and m.url == HOOK)
    )
    assert completed["data"]["state"] == "completed"
    assert completed["data"]["file_url"] == "/api/jobs/a/file"
    assert "/x" not in str(completed)  # no server path leaks
    assert len(rings) == 2


async def test_a_failing_hook_rolls_back_the_state_change_and_its_message(
    store: JobStore,
) -> None:
    outbox = Outbox(default_url=HOOK, clock=ManualClock())
    store.add_append_hook(outbox.on_append)
    job = make_job("b")
    await submit(store, job)

    async def explode(tx: Transaction, stored: StoredEvent, saved: Job) -> None:
        if saved.state is JobState.DOWNLOADING:
            raise RuntimeError("disk on fire")

    store.add_append_hook(explode)
    with pytest.raises(RuntimeError):
        await move(store, job, JobState.DOWNLOADING)
    stored = await store.get_job("b")
    assert stored is not None
    assert stored.state is JobState.QUEUED
    assert await store.last_seq("b") == 1
    assert await WebhookStore(store).messages(job_id="b") == []


async def test_batch_counters_follow_their_jobs_and_the_end_is_announced_once(
    store: JobStore,
) -> None:
    outbox = Outbox(default_url=HOOK, clock=ManualClock())
    store.add_append_hook(outbox.on_append)
    store.add_append_hook(BatchHook(outbox).on_append)
    batches = BatchStore(store)
    await batches.create(Batch(id="B", created_at=1.0, total=2))
    first, second = make_job("b1", batch_id="B"), make_job("b2", batch_id="B")
    await submit(store, first)
    first = await move(store, first, JobState.DOWNLOADING)
    await move(store, first, JobState.FAILED)
    batch = await batches.get("B")
    assert batch is not None
    assert batch.counts == {"failed": 1}
    assert batch.completed_at is None  # the second job is not even submitted yet
    await submit(store, second)
    await move(store, second, JobState.COMPLETED)
    batch = await batches.get("B")
    assert batch is not None
    assert batch.counts == {"failed": 1, "completed": 1}
    assert batch.done == 2
    assert batch.completed_at is not None
    ended = [m for m in await WebhookStore(store).messages(batch_id="B") if m.job_id is None]
    assert [m.type for m in ended] == ["batch.completed"]


def test_signatures_verify_and_tampering_does_not() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    # The example of the Standard Webhooks specification.
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"v1,bogus {signature}",
    }
    assert verify(secret, headers, body, now=1614265330)
    assert not verify(secret, headers, body + b" ", now=1614265330)
    assert not verify(secret, headers, body, now=1614265330 + 3600)
    assert not verify("whsec_" + "A" * 32, headers, body, now=1614265330)


async def test_a_message_is_claimed_by_one_process_and_acknowledged_once(
    store: JobStore, database: Path | str
) -> None:
    clock = ManualClock()
    outbox = Outbox(default_url=HOOK, clock=clock)
    (message_id,) = await store.within(lambda tx: outbox.add(tx, "webhook.test", {}))
    async with open_store(database) as elsewhere:  # a second process
        mine, theirs = WebhookStore(store), WebhookStore(elsewhere)
        now = clock.now()
        token = await mine.claim(message_id, now, now + 30)
        assert token is not None
        assert await theirs.claim(message_id, now, now + 30) is None  # held while tried
        # The hold lapsed (the first try hangs): the other process tries, and succeeds.
        later = now + 31
        again = await theirs.claim(message_id, later, later + 30)
        assert again is not None
        ok = Attempt(at=later, status_code=200, error=None, duration=0.1)
        await theirs.record(message_id, again, ok, delivered=True, retry_at=None)
        # The first try ends after all: its outcome is not recorded a second time.
        await mine.record(message_id, token, ok, delivered=True, retry_at=None)
        (message,) = await mine.messages(message_id=message_id)
    assert message.status is MessageStatus.DELIVERED
    assert message.attempts == 1
    assert len(message.log) == 1
