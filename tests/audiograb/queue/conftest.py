"""Queue, schedule, webhook and annotation tests use aiosqlite, which is asyncio-only."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
