"""`audiograb bot`: polling mode from the command line, token never logged."""

import functools
import logging
from pathlib import Path

import anyio
import pytest

from audiograb.server.bot_command import bot_command
from tests.audiograb.bot.conftest import USER_A
from tests.fakebotapi import TOKEN, fake_bot_api

pytestmark = pytest.mark.anyio


async def test_bot_command_polls_until_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiogram")
    async with fake_bot_api() as api:
        for name, value in {
            "DATA_DIR": str(tmp_path),
            "BOT_TOKEN": TOKEN,
            "BOT_ALLOWED_IDS": str(USER_A),
            "BOT_API_BASE": api.base_url,
        }.items():
            monkeypatch.setenv(f"AUDIOGRAB_{name}", value)
        async with anyio.create_task_group() as tg:
            tg.start_soon(functools.partial(bot_command.main, ["-v"], standalone_mode=False))
            api.send_text(USER_A, "/help")
            await api.wait_for("sendMessage")
            tg.cancel_scope.cancel()
    assert api.calls_to("deleteWebhook")
    assert TOKEN not in caplog.text


async def test_bot_command_needs_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUDIOGRAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUDIOGRAB_BOT_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exit_:
        await bot_command.main([], standalone_mode=False)
    assert exit_.value.code == 2
    assert "AUDIOGRAB_BOT_TOKEN" in capsys.readouterr().err
