"""The one parametrised database fixture: store, queue, schedule, webhook, resume and lease
tests run once on a SQLite file and once on a fresh database of the session's real PostgreSQL
server (which fails the run under CI=true when it cannot start, `tests/servers.py`)."""

import sqlite3
from pathlib import Path

import msgspec
import psycopg
import pytest

from audiograb.config import Settings
from tests.pgserver import PgServer

__all__ = ["DATABASES", "database_location", "on_database", "raw_rows"]

#: The fixture's parameters, in the ids pytest shows.
DATABASES = ("sqlite", "postgres")


def database_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A new, empty database: a file path for SQLite, a `postgresql://` URL for PostgreSQL."""
    if request.param == "sqlite":
        return tmp_path / "nested" / "dir" / "audiograb.db"
    server: PgServer = request.getfixturevalue("postgres")
    return server.create_database()


def raw_rows(location: Path | str, sql: str) -> list[tuple[object, ...]]:
    """The rows of `sql` read straight from the database, outside the store."""
    if isinstance(location, Path):
        with sqlite3.connect(location) as conn:
            return list(conn.execute(sql))
    with psycopg.connect(location) as pg:
        return list(pg.execute(sql.encode()))


def on_database(
    settings: Settings, location: Path | str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """`settings` on the store at `location`: a SQLite path leaves them as they are (the file in
    the data folder); a PostgreSQL URL is set, and exported as `AUDIOGRAB_DATABASE_URL` for
    the child processes and CLI runs a test starts."""
    if isinstance(location, Path):
        return settings
    monkeypatch.setenv("AUDIOGRAB_DATABASE_URL", location)
    return msgspec.structs.replace(settings, database_url=location)
