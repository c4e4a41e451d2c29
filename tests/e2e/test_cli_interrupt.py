"""Ctrl-C, as a terminal sends it: SIGINT to the whole process group of a real `audiograb`
command. Every command then says one line, `cancelled`, and exits 130; no traceback, no
partial file."""

import os
import signal
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

from tests.e2e.test_cli import BIN
from tests.fakebotapi import TOKEN, fake_bot_api
from tests.media import make_tone
from tests.mediaserver import MediaServer

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

DEADLINE = 120.0


def _env(data: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "AUDIOGRAB_DATA_DIR": str(data),
        "AUDIOGRAB_ALLOW_PRIVATE_NETWORKS": "true",
        **extra,
    }


async def _read_until(process: Process, ready: Callable[[str], bool]) -> str:
    """Read stderr until `ready(text so far)`."""
    assert process.stderr is not None
    text = ""
    with anyio.fail_after(DEADLINE):
        async for chunk in TextReceiveStream(process.stderr):
            text += chunk
            if ready(text):
                break
    return text


async def _ctrl_c(process: Process) -> tuple[int, str]:
    """SIGINT to the process group, as a terminal's Ctrl-C sends it; the exit code and the
    rest of stderr."""
    assert process.stderr is not None
    os.killpg(process.pid, signal.SIGINT)
    text = ""
    with anyio.fail_after(DEADLINE):
        async for chunk in TextReceiveStream(process.stderr):
            text += chunk
        return await process.wait(), text


def _assert_cancelled(code: int, stderr: str) -> None:
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "error: cancelled [cancelled]"


async def _ctrl_c_once(args: list[str], data: Path, started: str) -> None:
    """Run `audiograb *args`, press Ctrl-C once stderr shows `started`, check the ending."""
    argv = [str(BIN / "audiograb"), *args]
    async with await anyio.open_process(argv, env=_env(data), start_new_session=True) as process:
        await _read_until(process, lambda text: started in text)
        code, stderr = await _ctrl_c(process)
    _assert_cancelled(code, stderr)


async def test_ctrl_c_in_convert(tmp_path: Path) -> None:
    source = make_tone(tmp_path / "long.wav", seconds=1800.0, waveform="noise")
    await _ctrl_c_once(["convert", "-f", "mp3", str(source)], tmp_path / "d", "converting")
    left = sorted([p.name async for p in anyio.Path(tmp_path).iterdir()])
    assert left == ["d", "long.wav"]  # no partial mp3


async def test_ctrl_c_in_download(server: MediaServer, tmp_path: Path) -> None:
    server.slow("/long.m4a", 20_000)
    out = tmp_path / "out"
    args = ["download", server.url("long.m4a"), "-o", f"{out}/"]
    await _ctrl_c_once(args, tmp_path / "d", "downloading")
    assert not out.exists() or list(out.iterdir()) == []


async def test_ctrl_c_stops_the_bot(tmp_path: Path) -> None:
    async with fake_bot_api() as telegram:
        env = _env(
            tmp_path / "d",
            AUDIOGRAB_BOT_TOKEN=TOKEN,
            AUDIOGRAB_BOT_ALLOWED_IDS="4242",
            AUDIOGRAB_BOT_API_BASE=telegram.base_url,
        )
        argv = [str(BIN / "audiograb"), "bot"]
        async with await anyio.open_process(argv, env=env, start_new_session=True) as process:
            with anyio.fail_after(DEADLINE):
                await telegram.wait_for("getUpdates", within=DEADLINE)
            code, stderr = await _ctrl_c(process)
    _assert_cancelled(code, stderr)
