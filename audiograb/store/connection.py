"""`Connection`: the part of a database connection the store's modules use, whichever driver.

The store's SQL is written once, in the dialect SQLite and PostgreSQL share (`?` and `:name`
parameters, `ON CONFLICT`, `RETURNING`, a `rowid` column, the `wall_clock()` function for the
database's own clock). aiosqlite's connection fits this protocol as it is; `PgConnection`
(`postgres.py`) adapts psycopg's to it.
"""

from collections.abc import Generator, Iterable
from typing import Any, Protocol

__all__ = ["Connection", "Cursor", "Result", "Row"]


class Row(Protocol):
    """One result row, read by position or by column name (sqlite3.Row's interface)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The rows of one executed statement, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...


class Result(Protocol):
    """What `execute` returns: awaited, or used as `async with`, it gives the cursor."""

    def __await__(self) -> Generator[Any, None, Cursor]: ...

    async def __aenter__(self) -> Cursor: ...

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any, /) -> Any: ...


class Connection(Protocol):
    """A connection inside one of the store's transactions."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Result: ...

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open: a failed one may have been ended by the database."""
        ...

    async def close(self) -> None: ...
