"""Fixtures for end-to-end tests: generated media behind a loopback server, a webhook
receiver, fresh settings."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from audiograb.api import create_app
from audiograb.config import Settings, load_settings
from audiograb.pipeline import Audiograb, open_audiograb
from tests.databases import on_database
from tests.e2e.browser import needs_chromium
from tests.media import make_hls, make_master_playlist, make_tone, make_video
from tests.mediaserver import MediaServer, media_server
from tests.webhookreceiver import WebhookReceiver, webhook_receiver


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of real media made once per session: tones in several formats and HLS."""
    root = tmp_path_factory.mktemp("media")
    for fmt in ("mp3", "m4a", "opus"):
        make_tone(root / f"tone.{fmt}", seconds=4.0, format=fmt)
    make_tone(root / "long.m4a", seconds=30.0, format="m4a")
    make_video(root / "clip.mp4", seconds=3.0)
    make_hls(root / "hls-ts", seconds=8.0, segment_seconds=2.0, kind="ts")
    make_hls(root / "hls-fmp4", seconds=8.0, segment_seconds=2.0, kind="fmp4")
    low = make_hls(root / "var-low", seconds=6.0, kind="ts", audio_bitrate_kbps=64)
    high = make_hls(root / "var-high", seconds=6.0, kind="ts", audio_bitrate_kbps=192)
    make_master_playlist(root, [(low, 80_000), (high, 220_000)])
    return root


@pytest.fixture
def server(media_root: Path) -> Iterator[MediaServer]:
    with media_server(media_root) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    """A loopback webhook receiver, recording what it is sent."""
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def settings(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings in a private folder; loopback downloads allowed, as the media server needs.

    A module marked `pytest.mark.usefixtures("database")` runs each test on SQLite and on
    PostgreSQL: the settings then point at the `database` fixture's store.
    """
    settings = load_settings(
        environ={},
        data_dir=tmp_path / "data",
        output_dir=tmp_path / "out",
        allow_private_networks=True,
        progress_interval=0.05,
        max_concurrent_jobs=2,
    )
    if "database" in request.fixturenames:
        return on_database(settings, request.getfixturevalue("database"), monkeypatch)
    return settings


@pytest.fixture
async def ag(settings: Settings) -> AsyncIterator[Audiograb]:
    """The pipeline on `settings`, open for the test."""
    async with open_audiograb(settings) as opened:
        yield opened


@pytest.fixture
async def client(ag: Audiograb) -> AsyncIterator[httpx.AsyncClient]:
    """The API over `ag`, in process (httpx's ASGI transport, in the test's own loop)."""
    transport = httpx.ASGITransport(app=create_app(ag))  # type: ignore[arg-type]  # ASGI types differ
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as opened:
        yield opened


@pytest.fixture
def browser() -> None:
    """Chromium is there (else skip, or under CI=true fail)."""
    needs_chromium()
