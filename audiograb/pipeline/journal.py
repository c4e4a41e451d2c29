"""The journal actor: every job event goes to the store first, then to the live topic.

Writing before publishing means a subscriber that sees an event can always find it again in the
store, which is what lets SSE clients resume with `Last-Event-ID` without gaps or duplicates.
One actor does all writes, so the events of a job are stored in the order they were told.
A write fenced off by a lapsed lease fails its asker with `LeaseLost`; without an asker (a
progress event) it is dropped.
"""

import contextlib

from actors import Actor, Topic
from audiograb.domain import LeaseLost
from audiograb.pipeline.messages import Record, Recorded
from audiograb.store import JobLog

#: Messages waiting to be written. Progress is offered with `try_tell` and dropped when this is
#: full (the next progress event supersedes it); state changes wait for room.
JOURNAL_MAILBOX = 1024


class Journal(Actor[Record]):
    """Appends events to the job log and publishes them as `Recorded` on the topic."""

    def __init__(self, store: JobLog, topic: Topic[Recorded]) -> None:
        self._store = store
        self._topic = topic

    async def receive(self, msg: Record) -> None:
        if msg.reply is None and msg.lease is not None:
            with contextlib.suppress(LeaseLost):
                await self._write(msg)
        else:
            await self._write(msg)

    async def _write(self, msg: Record) -> None:
        recorded = await self._store.append_event(msg.event, job=msg.job, lease=msg.lease)
        self._topic.publish(recorded)
        if msg.reply is not None:
            msg.reply.set_result(recorded)
