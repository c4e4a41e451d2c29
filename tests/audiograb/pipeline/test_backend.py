"""The library under another event loop than asyncio (issue 18, item 13): one plain sentence at
`open_audiograb`, not a failure deep inside aiosqlite."""

from pathlib import Path

import pytest

from audiograb.config import load_settings
from audiograb.pipeline import open_audiograb

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


async def test_open_audiograb_says_it_needs_asyncio(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    with pytest.raises(
        RuntimeError, match=r"^AudioGrab runs on asyncio, not this event loop"
    ) as raised:
        async with open_audiograb(settings):
            pass
    assert "asyncio.run" in str(raised.value)
    assert not (tmp_path / "audiograb.sqlite3").exists()  # refused before touching anything
