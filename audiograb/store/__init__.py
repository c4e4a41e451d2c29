"""Persistence: jobs and their append-only event log in SQLite (aiosqlite, WAL, migrations)
or, for several nodes, PostgreSQL (psycopg 3; `postgres.py`).

Beside the jobs: batches, schedules, the webhook outbox and annotations, each a small store
over the same database (`BatchStore(job_store)` and so on).
"""

from audiograb.store.annotations import Annotation, AnnotationStore
from audiograb.store.batches import Batch, BatchStore, Rejected
from audiograb.store.interface import JobLog, QueueStore
from audiograb.store.migrations import SchemaVersionError
from audiograb.store.opening import open_store
from audiograb.store.queue import Claimed, Held, JobQueue
from audiograb.store.schedules import Schedule, ScheduleState, ScheduleStore
from audiograb.store.store import AppendHook, JobStore, StoredEvent
from audiograb.store.transaction import Transaction
from audiograb.store.webhooks import (
    Attempt,
    Delivery,
    Endpoint,
    Message,
    MessageStatus,
    WebhookStore,
)

__all__ = [
    "Annotation",
    "AnnotationStore",
    "AppendHook",
    "Attempt",
    "Batch",
    "BatchStore",
    "Claimed",
    "Delivery",
    "Endpoint",
    "Held",
    "JobLog",
    "JobQueue",
    "JobStore",
    "Message",
    "MessageStatus",
    "QueueStore",
    "Rejected",
    "Schedule",
    "ScheduleState",
    "ScheduleStore",
    "SchemaVersionError",
    "StoredEvent",
    "Transaction",
    "WebhookStore",
    "open_store",
]
