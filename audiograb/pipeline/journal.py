"""The journal actor: every job event goes to the store first, then to the live topic.

Writing before publishing means a subscriber that sees an event can always find it again in the
store, which is what lets SSE clients resume with `Last-Event-ID` without gaps or duplicates.
One actor does all writes, so the events of a job are stored in the order they were told.
"""

from actors import Actor, Topic
from audiograb.pipeline.messages import Record, Recorded
from audiograb.store import JobStore

#: Messages waiting to be written. Progress is offered with `try_tell` and dropped when this is
#: full (the next progress event supersedes it); state changes wait for room.
JOURNAL_MAILBOX = 1024


class Journal(Actor[Record]):
    """Appends events to the job log and publishes them as `Recorded` on the topic."""

    def __init__(self, store: JobStore, topic: Topic[Recorded]) -> None:
        self._store = store
        self._topic = topic

    async def receive(self, msg: Record) -> None:
        recorded = await self._store.append_event(msg.event, job=msg.job)
        self._topic.publish(recorded)
        if msg.reply is not None:
            msg.reply.set_result(recorded)
