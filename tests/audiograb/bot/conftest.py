"""A running bot for tests: the real pipeline and real aiogram, against the fake Bot API.

`running_bot` starts a loopback media server, the fake Bot API, `open_audiograb` on a temp
data dir and `open_bot` polling the fake; tests play users through `h.api` and read the log.
"""

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiogram.client.telegram import TelegramAPIServer

from audiograb.bot import BotService, Limits, open_bot
from audiograb.config import Settings
from audiograb.pipeline import Audiograb, open_audiograb
from tests.fakebotapi import TOKEN, ApiCall, FakeBotApi, fake_bot_api
from tests.media import make_tone
from tests.mediaserver import MediaServer, media_server

USER_A = 1001
USER_B = 1002
STRANGER = 6666


@pytest.fixture
def anyio_backend() -> str:
    """aiogram runs on asyncio only."""
    return "asyncio"


@dataclass
class Harness:
    """Everything a bot test plays with."""

    api: FakeBotApi
    ag: Audiograb
    bot: BotService
    media: MediaServer
    settings: Settings

    async def link_keyboard(self, user: int, url: str) -> dict[str, Any]:
        """Send `url` as `user`; return the bot's answer carrying the keyboard."""

        def keyboard(call: ApiCall) -> bool:
            return call.chat_id == user and "reply_markup" in call.params

        before = len([c for c in self.api.calls_to("sendMessage") if keyboard(c)])
        self.api.send_text(user, url)
        answers = await self.api.wait_for("sendMessage", count=before + 1, where=keyboard)
        return self.api.messages[(user, answers[-1].result["message_id"])]


def button(message: dict[str, Any], label: str) -> str:
    """The callback data of the button whose label contains `label`."""
    for row in message["reply_markup"]["inline_keyboard"]:
        for key in row:
            if label in key["text"]:
                return str(key["callback_data"])
    raise AssertionError(f"no {label!r} button in {message['reply_markup']}")


def tone(root: Path, name: str = "tone.m4a", seconds: float = 3.0) -> Path:
    """A small AAC tone in the served folder."""
    return make_tone(root / name, seconds=seconds)


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    *,
    wrap: Callable[[Audiograb], Any] | None = None,
    limits: Limits | None = None,
    edit_interval: float = 2.0,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """A polling bot over a fresh pipeline; `wrap` may dress the facade (transcript stubs)."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "allow_private_networks": True,
        "bot_token": TOKEN,
        "bot_allowed_ids": (USER_A, USER_B),
        **overrides,
    }
    settings = Settings(**values)
    (tmp_path / "media").mkdir(exist_ok=True)
    with media_server(tmp_path / "media") as media:
        async with fake_bot_api() as api, open_audiograb(settings) as ag:
            facade = wrap(ag) if wrap else ag
            server = TelegramAPIServer.from_base(api.base_url)
            async with (
                open_bot(facade, api=server, limits=limits, edit_interval=edit_interval) as bot,
                anyio.create_task_group() as tg,
            ):
                tg.start_soon(functools.partial(bot.run_polling, poll_timeout=5))
                yield Harness(api=api, ag=ag, bot=bot, media=media, settings=settings)
                tg.cancel_scope.cancel()
