"""Event feeds: the live topic joined to the stored log, with no gap and no duplicate.

A feed subscribes to the topic *before* reading the backlog from the store, then skips live
events it has already yielded. A subscriber that falls behind is marked lagged by the topic
(its buffer dropped) and simply re-reads the store from where it was: a slow client never
slows the pipeline and never misses an event. Events written by other processes reach the
topic a little later (the wake-up watcher relays them); a feed of every job that sees a gap in
the log's ids re-reads the store, so it never skips one.
"""

from collections.abc import AsyncIterator

from actors import Lagged, Subscription
from audiograb.domain import is_terminal
from audiograb.pipeline.messages import Recorded
from audiograb.store import JobLog

#: Live events buffered per subscriber before it is marked lagged and resyncs from the store.
FEED_BUFFER = 1024


async def job_feed(
    store: JobLog, live: Subscription[Recorded], job_id: str, after_seq: int
) -> AsyncIterator[Recorded]:
    """Events of one job with `seq > after_seq`, ending after its terminal event."""
    cursor = after_seq
    while True:
        backlog = await store.events_after(job_id, cursor)
        for recorded in backlog:
            cursor = recorded.event.seq
            yield recorded
        if backlog and is_terminal(backlog[-1].event):
            return  # a retried job has events after its old terminal one, so this is the end
        job = await store.get_job(job_id)
        if job is None:
            return
        if job.state.terminal:
            if await store.last_seq(job_id) <= cursor:
                return  # it ended at or before the cursor
            continue  # it ended just now: read the end from the store
        async for item in live:
            if isinstance(item, Lagged):
                break  # resync from the store
            if item.event.job_id != job_id or item.event.seq <= cursor:
                continue
            cursor = item.event.seq
            yield item
            if is_terminal(item.event):
                return
        else:
            return  # the topic closed: the instance is shutting down


async def all_feed(
    store: JobLog, live: Subscription[Recorded], after_id: int
) -> AsyncIterator[Recorded]:
    """Events of every job with a log id above `after_id`, until the topic closes."""
    cursor = after_id
    while True:
        for recorded in await store.all_events_after(cursor):
            cursor = recorded.id
            yield recorded
        async for item in live:
            if isinstance(item, Lagged):
                break
            if item.id <= cursor:
                continue
            if item.id > cursor + 1:
                break  # an event of another process is still on its way: read the store
            cursor = item.id
            yield item
        else:
            return
