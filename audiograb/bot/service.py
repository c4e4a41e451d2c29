"""`BotService`: the bot's lifetime: its aiogram `Bot` and dispatcher, and the task group that
runs update handlers, job followers and the progress editor.

    async with open_audiograb(settings) as ag, open_bot(ag) as bot:
        await bot.run_polling()          # `audiograb bot`
        # or: webhook mode, `bot.feed(update)` from `webhook_handler(bot)`

Every update is fed once (by update id) and handled in its own task, so a slow upload never
holds up another chat. Leaving the block stops following jobs; the jobs themselves go on in
the pipeline.
"""

import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import BotCommand, Update

from audiograb.bot.access import AllowList
from audiograb.bot.context import BotContext
from audiograb.bot.editor import EDIT_INTERVAL, ProgressEditor, Spawn
from audiograb.bot.filecache import FileIdCache
from audiograb.bot.flood import FloodControl, Pacing
from audiograb.bot.handlers import COMMANDS, build_router
from audiograb.bot.limits import Limits, UserJobs
from audiograb.bot.links import PendingLinks
from audiograb.bot.stopping import Stopping
from audiograb.config import Settings, SettingsError
from audiograb.pipeline import Audiograb

__all__ = ["ALLOWED_UPDATES", "POLL_TIMEOUT", "BotService", "open_bot"]

logger = logging.getLogger(__name__)

#: Seconds one `getUpdates` long poll may wait for news.
POLL_TIMEOUT = 30
#: The update kinds the bot handles.
ALLOWED_UPDATES = ("message", "callback_query")
#: Update ids remembered to drop repeats (webhook deliveries are retried by Telegram).
SEEN_CAPACITY = 10_000
_BACKOFF_FIRST, _BACKOFF_MAX = 1.0, 30.0


class _RecentIds:
    """A bounded set of the latest ids."""

    def __init__(self, capacity: int) -> None:
        self._order: deque[int] = deque(maxlen=capacity)
        self._ids: set[int] = set()

    def add(self, item: int) -> bool:
        """Remember `item`; False if it was already known."""
        if item in self._ids:
            return False
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(item)
        self._ids.add(item)
        return True


class BotService:
    """A running bot: feed it updates (polling or webhook). Made by `open_bot`."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, spawn: Spawn) -> None:
        self.bot = bot
        self._dispatcher = dispatcher
        self._spawn = spawn
        self._seen = _RecentIds(SEEN_CAPACITY)

    def feed(self, update: Update) -> bool:
        """Handle `update` in the background; False (and nothing done) if it came before."""
        if not self._seen.add(update.update_id):
            logger.info("update %s came again; ignored", update.update_id)
            return False
        self._spawn(lambda: self._handle(update))
        return True

    async def _handle(self, update: Update) -> None:
        await self._dispatcher.feed_update(self.bot, update)

    async def run_polling(self, *, poll_timeout: int = POLL_TIMEOUT) -> None:
        """Fetch updates with `getUpdates` long polling until cancelled.

        Network and server errors back off and retry; a rejected token stops with the error.
        """
        await self.bot.delete_webhook()
        await self._announce_commands()
        request_timeout = int(self.bot.session.timeout + poll_timeout)
        offset: int | None = None
        backoff = _BACKOFF_FIRST
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                    request_timeout=request_timeout,
                )
            except TelegramUnauthorizedError:
                raise
            except TelegramAPIError as error:
                logger.warning("getUpdates failed (%s); retrying in %.0f s", error.message, backoff)
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)
                continue
            backoff = _BACKOFF_FIRST
            for update in updates:
                offset = update.update_id + 1
                self.feed(update)

    async def start_webhook(self, url: str, secret: str) -> None:
        """Ask Telegram to deliver updates to `url` with `secret` in the header."""
        await self._announce_commands()
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES))

    async def _announce_commands(self) -> None:
        commands = [BotCommand(command=name, description=text) for name, text in COMMANDS]
        try:
            await self.bot.set_my_commands(commands)
        except TelegramAPIError as error:  # only the menu is missing
            logger.warning("setMyCommands failed: %s", error.message)


@asynccontextmanager
async def open_bot(
    ag: Audiograb,
    *,
    api: TelegramAPIServer | None = None,
    edit_interval: float = EDIT_INTERVAL,
    limits: Limits | None = None,
    pacing: Pacing | None = None,
) -> AsyncIterator[BotService]:
    """Start the bot over `ag` with `ag.settings` (token, allow-list, limits, API base).

    `api` overrides the Bot API server (tests); by default it is `bot_api_base` (a local
    server, which also lifts the size limits) or Telegram's. `limits` overrides the limits,
    `pacing` the flood control's spacing (see `flood.py`).
    """
    settings = ag.settings
    if not settings.bot_token:
        raise SettingsError("the bot needs a token: set AUDIOGRAB_BOT_TOKEN")
    session = AiohttpSession(api=api or _api_server(settings))
    session.middleware(FloodControl(pacing))
    bot = Bot(settings.bot_token, session=session)
    files = await FileIdCache.load(settings.data_dir / "bot" / f"file-ids-{bot.id}.json")
    limits = limits or Limits.from_settings(settings)
    try:
        async with anyio.create_task_group() as tg:

            def spawn(work: Callable[[], Awaitable[None]]) -> None:
                tg.start_soon(_guarded, work)

            context = BotContext(
                ag=ag,
                bot=bot,
                editor=ProgressEditor(bot, spawn, interval=edit_interval),
                limits=limits,
                jobs=UserJobs(limits.jobs_per_user),
                links=PendingLinks(),
                files=files,
                stopping=Stopping(),
                spawn=spawn,
                scratch=settings.work_root / "bot",
            )
            dispatcher = Dispatcher(ctx=context)
            dispatcher.update.outer_middleware(AllowList(settings.bot_allowed_ids))
            dispatcher.include_router(build_router())
            try:
                yield BotService(bot, dispatcher, spawn)
            finally:
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await session.close()


def _api_server(settings: Settings) -> TelegramAPIServer:
    if settings.bot_api_base:
        return TelegramAPIServer.from_base(settings.bot_api_base, is_local=True)
    return PRODUCTION


async def _guarded(work: Callable[[], Awaitable[None]]) -> None:
    """Run background work; a failure is logged, never allowed to stop the bot."""
    try:
        await work()
    except Exception:
        logger.exception("bot task failed")
