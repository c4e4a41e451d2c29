"""Persistence: jobs and their append-only event log in SQLite (aiosqlite, WAL, migrations)."""

from audiograb.store.migrations import SchemaVersionError
from audiograb.store.store import JobStore, StoredEvent, open_store

__all__ = ["JobStore", "SchemaVersionError", "StoredEvent", "open_store"]
