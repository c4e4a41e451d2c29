"""Pure logic: texts, limits, links, the file id cache and token redaction."""

import logging
from pathlib import Path

import pytest

from audiograb.bot.filecache import CachedFile, FileIdCache, SentAs, cache_key
from audiograb.bot.limits import MB, Limits, UserJobs, estimate_size
from audiograb.bot.texts import conversion_line, download_line, human_size
from audiograb.config import Settings
from audiograb.domain import ConversionProgress, DownloadProgress, MediaInfo, MediaKind, Quality
from audiograb.logs import Redactor
from tests.fakebotapi import TOKEN


def test_progress_lines() -> None:
    line = download_line(
        DownloadProgress(downloaded_bytes=5_000, percent=42.0, speed=1_200_000, eta=65)
    )
    assert line == "⬇️ Downloading ▰▰▰▰▱▱▱▱▱▱ 42% · 1.2 MB/s · ETA 1:05"
    hls = download_line(DownloadProgress(downloaded_bytes=2_500_000, fragment_index=3,
                                         fragment_count=9))  # fmt: skip
    assert hls == "⬇️ Downloading · 2.5 MB · part 3/9"
    assert conversion_line(ConversionProgress(out_seconds=75.0)) == "⚙️ Converting · 1:15"
    assert human_size(999) == "999 B"
    assert human_size(2_000_000_000) == "2.0 GB"


def test_limits_follow_the_api_server(tmp_path: Path) -> None:
    cloud = Limits.from_settings(Settings(data_dir=tmp_path, bot_jobs_per_user=3))
    local = Limits.from_settings(Settings(data_dir=tmp_path, bot_api_base="http://127.0.0.1:8081"))
    assert (cloud.upload_bytes, cloud.download_bytes, cloud.jobs_per_user) == (50 * MB, 20 * MB, 3)
    assert local.upload_bytes == local.download_bytes == 2000 * MB


def test_size_estimates() -> None:
    hour = MediaInfo(duration=3600.0, filesize=10 * MB)
    assert estimate_size(hour, MediaKind.AUDIO, Quality.HIGH) == 86_400_000
    assert estimate_size(hour, MediaKind.VIDEO, Quality.HIGH) == 10 * MB
    assert estimate_size(MediaInfo(), MediaKind.AUDIO, Quality.HIGH) is None


def test_user_jobs_reserve_bind_release() -> None:
    jobs = UserJobs(limit=1)
    assert jobs.reserve(1)
    assert not jobs.reserve(1)
    assert jobs.reserve(2)
    jobs.bind(1, "a")
    assert (jobs.running(1), jobs.owner("a")) == ({"a"}, 1)
    jobs.release(1, "a")
    assert (jobs.running(1), jobs.owner("a"), jobs.recent(1)) == (set(), None, ["a"])
    assert jobs.reserve(1)


@pytest.mark.anyio
async def test_file_id_cache_persists_and_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "bot" / "file-ids.json"
    cache = await FileIdCache.load(path, capacity=2)
    for n in range(3):
        await cache.put(cache_key(f"https://x/{n}", "mp3", "high"), CachedFile(
            sent_as=SentAs.AUDIO, file_id=f"f{n}"))  # fmt: skip
    again = await FileIdCache.load(path, capacity=2)
    assert again.get(cache_key("https://x/0", "mp3", "high")) is None
    assert again.get(cache_key("https://x/2", "mp3", "high")) == CachedFile(
        sent_as=SentAs.AUDIO, file_id="f2"
    )
    await again.drop(cache_key("https://x/2", "mp3", "high"))
    assert (await FileIdCache.load(path)).get(cache_key("https://x/2", "mp3", "high")) is None
    path.write_text("{not json")
    assert (await FileIdCache.load(path)).get("anything") is None


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_token_redactor_scrubs_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.redact")
    caplog.handler.addFilter(Redactor([TOKEN]))
    try:
        logger.warning("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"failed: /bot{TOKEN}/sendAudio")
        except RuntimeError:
            logger.exception("boom")
    finally:
        caplog.handler.filters.clear()
    assert TOKEN not in caplog.text
    assert "bot<redacted>/getMe" in caplog.text
    assert "/bot<redacted>/sendAudio" in caplog.text
