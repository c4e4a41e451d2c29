"""`open_store`: the job store at a location, SQLite file or PostgreSQL URL alike."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from audiograb.store.postgres import is_postgres_url, open_pg_store
from audiograb.store.store import LEASE_SECONDS, JobStore, open_sqlite_store

__all__ = ["open_store"]


@asynccontextmanager
async def open_store(
    location: Path | str, *, lease_seconds: float = LEASE_SECONDS
) -> AsyncIterator[JobStore]:
    """Open the store for the duration of the block: on the PostgreSQL server a
    `postgresql://` URL names, else in the SQLite file at `location`."""
    if is_postgres_url(location):
        async with open_pg_store(str(location), lease_seconds=lease_seconds) as pg:
            yield pg
    else:
        async with open_sqlite_store(Path(location), lease_seconds=lease_seconds) as sqlite:
            yield sqlite
