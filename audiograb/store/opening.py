"""`open_store`: the job store at a location, SQLite file or PostgreSQL URL alike."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from audiograb.store.postgres import PgJobStore, is_postgres_url
from audiograb.store.store import LEASE_SECONDS, JobStore

__all__ = ["open_store"]


@asynccontextmanager
async def open_store(
    location: Path | str, *, lease_seconds: float = LEASE_SECONDS
) -> AsyncIterator[JobStore]:
    """Open the store for the duration of the block, closing it afterwards: on the PostgreSQL
    server a `postgresql://` URL names, else in the SQLite file at `location`."""
    if is_postgres_url(location):
        store: JobStore = await PgJobStore.connect(str(location), lease_seconds=lease_seconds)
    else:
        store = await JobStore.open(Path(location), lease_seconds=lease_seconds)
    try:
        yield store
    finally:
        with anyio.CancelScope(shield=True):
            await store.close()
