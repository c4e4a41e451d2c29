"""The journal actor: every job event goes to the store first, then to the live topic.

Writing before publishing means a subscriber that sees an event can always find it again in the
store, which is what lets SSE clients resume with `Last-Event-ID` without gaps or duplicates.
One actor does all writes, so the events of a job are stored in the order they were told.
A write fenced off by a lapsed lease fails its asker with `LeaseLost`; without an asker (a
progress event) it is dropped.

A write that fails (a full disk, a database another process holds locked too long) never
crashes the journal: a state change's writer asked for the outcome and gets the error back;
a progress event nobody waits for is dropped with a warning, as when the mailbox is full.
"""

import logging

from actors import Actor, Topic
from audiograb.domain import LeaseLost
from audiograb.pipeline.messages import Record, Recorded
from audiograb.store import JobLog

_log = logging.getLogger(__name__)

#: Messages waiting to be written. Progress is offered with `try_tell` and dropped when this is
#: full (the next progress event supersedes it); state changes wait for room.
JOURNAL_MAILBOX = 1024


class Journal(Actor[Record]):
    """Appends events to the job log and publishes them as `Recorded` on the topic."""

    def __init__(self, store: JobLog, topic: Topic[Recorded]) -> None:
        self._store = store
        self._topic = topic

    async def receive(self, msg: Record) -> None:
        try:
            recorded = await self._store.append_event(msg.event, job=msg.job, lease=msg.lease)
        except LeaseLost:
            if msg.reply is None:
                return  # progress of a run whose lease lapsed: no longer its job to report
            raise
        except Exception as error:
            if msg.reply is None:
                _log.warning(
                    "dropped a %s event of job %s: %s",
                    msg.event.__struct_config__.tag,
                    msg.event.job_id,
                    error,
                    extra={"job_id": msg.event.job_id},
                )
                return
            raise  # to the writer who asked
        self._topic.publish(recorded)
        if msg.reply is not None:
            msg.reply.set_result(recorded)
