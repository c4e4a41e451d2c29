"""Cross-process wake-up: notice promptly what other processes wrote to the data folder.

Every process on one data folder shares the SQLite file, and SQLite keeps, per connection, a
change counter (`PRAGMA data_version`) that moves only when *another* connection commits. The
watcher reads it every `wake_interval` seconds (a cheap read of the open file's header, no
query of any table). When it moved, the watcher

- publishes on this process's topic the events other processes wrote (so `subscribe`, `wait`,
  SSE streams and `cancel` follow jobs that run elsewhere), in log order, once each;
- pokes the actors that work from the store: the scheduler (a job was queued, a request was
  left, a lease was released), and in a serving process the planner (a schedule changed) and
  the notifier (webhook messages to deliver).

A short poll of a counter was chosen over a wake-up file or socket in the data folder: it
needs no extra file, cannot be missed (a write that commits always moves the counter), works
on every filesystem SQLite works on, and costs one small read a tenth of a second.

On PostgreSQL (several nodes) the store answers the same question from the `NOTIFY` wake-ups
other nodes send at each commit, drained without a query; the events are still read from the
table.
"""

from collections.abc import Callable, Sequence

import anyio

from actors import Topic
from audiograb.pipeline.messages import Recorded
from audiograb.store import JobLog

__all__ = ["watch_store"]


async def watch_store(
    store: JobLog,
    topic: Topic[Recorded],
    interval: float,
    pokes: Sequence[Callable[[], object]],
) -> None:
    """Relay other processes' events and poke `pokes` whenever they changed the store."""
    cursor = await store.last_event_id()
    await store.changed_elsewhere()  # the baseline
    while True:
        await anyio.sleep(interval)
        if not await store.changed_elsewhere():
            continue
        cursor, events = await store.foreign_events_after(cursor)
        for recorded in events:
            topic.publish(recorded)
        for poke in pokes:
            poke()
