"""The progress editor against the fake Bot API: coalescing, flood control, "not modified"."""

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from audiograb.bot.editor import ProgressEditor
from tests.fakebotapi import TOKEN, FakeBotApi, fake_bot_api

pytestmark = pytest.mark.anyio

CHAT = 42
INTERVAL = 0.3


@asynccontextmanager
async def editing() -> AsyncIterator[tuple[FakeBotApi, Bot, ProgressEditor, int]]:
    """The fake, a bot on it, an editor, and a message in CHAT to edit."""
    async with fake_bot_api() as api:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
        bot = Bot(TOKEN, session=session)
        try:
            async with anyio.create_task_group() as tg:

                def spawn(work: Callable[[], Awaitable[None]]) -> None:
                    async def run() -> None:
                        await work()

                    tg.start_soon(run)

                editor = ProgressEditor(bot, spawn, interval=INTERVAL)
                message = await bot.send_message(CHAT, "start")
                yield api, bot, editor, message.message_id
        finally:
            await session.close()


async def test_bursts_coalesce_to_one_edit_per_interval() -> None:
    async with editing() as (api, _, editor, message_id):
        for percent in range(50):
            editor.show(CHAT, message_id, f"{percent}%")
            await anyio.sleep(0.01)
        await editor.settle(CHAT, message_id)
    edits = api.calls_to("editMessageText")
    assert 2 <= len(edits) <= 3  # ~0.5 s of updates at one edit per 0.3 s
    assert edits[-1].params["text"] == "49%"
    # Edits start INTERVAL apart; under load they may arrive a little closer.
    assert all(b.at - a.at >= INTERVAL / 2 for a, b in itertools.pairwise(edits))
    assert api.messages[(CHAT, message_id)]["text"] == "49%"


async def test_retry_after_delays_the_next_edit_and_keeps_the_newest_text() -> None:
    async with editing() as (api, _, editor, message_id):
        api.fail_next("editMessageText", retry_after=1)
        editor.show(CHAT, message_id, "first")
        [refused] = await api.wait_for("editMessageText")
        editor.show(CHAT, message_id, "second")
        await editor.settle(CHAT, message_id)
    refused, sent = api.calls_to("editMessageText")
    assert refused.error_code == 429
    assert sent.ok
    assert sent.params["text"] == "second"
    assert sent.at - refused.at >= 0.99


async def test_not_modified_counts_as_done() -> None:
    async with editing() as (api, _, editor, message_id):
        editor.show(CHAT, message_id, "start")  # the text it already has: Telegram refuses
        editor.show(CHAT, 999, "no such message")  # refused too: dropped, not retried
        await editor.settle(CHAT, message_id)
        await editor.settle(CHAT, 999)
        editor.show(CHAT, message_id, "start")  # replaced before it goes out
        editor.show(CHAT, message_id, "next")
        await editor.settle(CHAT, message_id)
    texts = [(c.params["text"], c.ok) for c in api.calls_to("editMessageText")]
    assert texts == [("start", False), ("no such message", False), ("next", True)]


async def test_the_spacing_holds_from_one_message_to_the_next() -> None:
    async with editing() as (api, bot, editor, first):
        editor.show(CHAT, first, "job one done")
        await editor.settle(CHAT, first)  # the first job is over and forgotten
        second = (await bot.send_message(CHAT, "next job")).message_id
        editor.show(CHAT, second, "job two queued")
        await editor.settle(CHAT, second)
    one, two = api.calls_to("editMessageText")
    assert two.params["text"] == "job two queued"
    assert two.at - one.at >= INTERVAL / 2  # started INTERVAL apart; arrivals may vary a little
