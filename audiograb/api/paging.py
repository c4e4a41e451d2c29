"""The `offset` query parameter the list routes share.

SQLite integers are signed 64-bit: a larger offset cannot be bound to a query at all (the
driver raises `OverflowError`), so the bound is part of the parameter and such a request is a
422 like any other out-of-range value, not a 500.
"""

from typing import Annotated

from litestar.params import QueryParameter

__all__ = ["MAX_OFFSET", "Offset"]

MAX_OFFSET = 2**63 - 1
"""The largest offset SQLite can take."""

Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Items to skip")]
"""How many items of the list to skip (0 to 2^63-1)."""
