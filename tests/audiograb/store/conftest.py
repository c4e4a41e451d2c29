"""The store runs on aiosqlite, which is asyncio-only."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
