"""`audiograb live` when things go wrong (issue 18, item 4): a file that is not media, and a
stream sent faster than the engine keeps up, each end in one line with their own code."""

import os
import sys
from pathlib import Path

import anyio
import msgspec
import pytest

from audiograb.config import Settings
from tests import speech
from tests.e2e.api_support import API_KEY, running_api

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


async def _live(file: Path, base_url: str, data: Path) -> tuple[int, str]:
    process = await anyio.run_process(
        [
            str(Path(sys.executable).parent / "audiograb"),
            "live",
            str(file),
            "--url",
            base_url,
            "--token",
            API_KEY,
            "--speed",
            "0",
        ],
        check=False,
        env={**os.environ, "AUDIOGRAB_DATA_DIR": str(data)},
    )
    return process.returncode, process.stderr.decode()


async def test_a_file_that_is_not_media_is_said_so(tmp_path: Path) -> None:
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(os.urandom(200_000))
    code, stderr = await _live(noise, "http://127.0.0.1:9", tmp_path)
    assert code == 1
    assert stderr.strip().splitlines()[-1].endswith("[not_media]"), stderr


async def test_a_stream_faster_than_the_engine_is_overloaded(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clips = speech.librivox_clips()
    long_clip = speech.join_clips(tmp_path / "long.wav", clips, repeats=2)  # about 58 s
    keyed = msgspec.structs.replace(settings, api_keys=(API_KEY,))
    async with running_api(keyed) as api:
        code, stderr = await _live(long_clip, api.base_url, tmp_path / "d")
    assert code == 1
    assert stderr.strip().splitlines()[-1].endswith("[overloaded]"), stderr
    assert "ExceptionGroup" not in caplog.text
    assert "live session failed" not in caplog.text
